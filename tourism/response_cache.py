"""Whole-response cache for what anonymous visitors read most: the catalog, experience pages
and the availability JSON; and for what resellers poll most: OCTO availability
(``cached_query``, keyed by the reseller and its query).

**What is cached.** A GET answered 200 to a visitor who is not signed in and has no message
waiting (flash), keyed by the language the page is in and the full path with its query.
Signed-in pages, forms and anything personal are never cached.

**Invalidation.** Every entry records the *generation* it was rendered in. Any commit that
touches what these pages show (bookings and their seats, departures, experiences and their
texts, prices, stops, families, photos, split rules, routes with their legs, homestays
and route bookings) moves the generation on, so the next
request finds its entry out of date and renders afresh; the SQLAlchemy ``after_commit`` hook
below sees every such commit, from a view, a command or a worker, and never lets a cache
failure reach the one who committed. Holds that lapse change
seats without a commit, so entries also expire after ``RESPONSE_CACHE_SECONDS`` (30 s by
default): a page may show a seat that lapsed up to that long ago as taken, never a taken
seat as free for longer than a commit takes — and the booking form and the hold itself
always count seats afresh under the departure's lock.

**Compression.** A hit is compressed once per process and *content* (Brotli or gzip, with
Flask-Compress's settings): the compressed bytes are kept under a digest of the bytes they
compress, so an entry rendered afresh, whether after a commit or after it expired within the
same generation, can never be answered with an older page's compressed bytes.

**Where.** ``CACHE_TYPE``: ``RedisCache`` with ``CACHE_REDIS_URL`` in production, so every
worker and every node sees the same generation (docs/DEPLOY.md). An in-process cache
(``SimpleCache``) cannot tell other processes of a commit, so it is used only when
``RESPONSE_CACHE_IN_PROCESS`` says the site runs as one process (``make run``, tests);
otherwise there is no response cache at all (gunicorn's workers would each show their own
idea of the seats). ``RESPONSE_CACHE_SECONDS=0`` turns it off.

**Failures.** The cache is an optimisation: when its store cannot be reached, the request is
rendered as if there were no cache, the failure logged (once per ``OUTAGE_LOG_SECONDS``), and
the store left alone for ``RETRY_SECONDS`` so that each request does not wait on it.

The bound this gives (docs/RELIABILITY.md, "How stale a page can be"): a seat taken by a
commit is shown as taken by every page, in every encoding and worker, as soon as the commit
returns; a seat freed without a commit (a hold that lapses) may be shown as taken for up to
``RESPONSE_CACHE_SECONDS`` after it lapsed.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import time
import uuid
from functools import wraps

import brotli
from flask import Flask, Response, current_app, make_response, request, session
from flask_caching import Cache
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from .i18n import current_locale

cache = Cache()
log = logging.getLogger(__name__)

GENERATION_KEY = "response-cache:generation"
SESSION_TOUCHED_KEY = "response_cache_touched"

#: Tables whose changes can change a cached page.
WATCHED_TABLES = frozenset(
    {
        "associations",
        "bookings",
        "booking_lines",
        "departures",
        "experiences",
        "experience_texts",
        "experience_themes",
        "families",
        "photos",
        "price_categories",
        "resellers",
        "reseller_rates",
        # Routes as OCTO products: their legs, nights and bookings change a route's room.
        "routes",
        "route_legs",
        "route_participations",
        "homestays",
        "homestay_blackouts",
        "route_bookings",
        "route_booking_nights",
        "schedules",
        "split_rules",
        "stops",
        "stop_texts",
    }
)


#: Cache types that live in one process: each gunicorn worker would have its own.
IN_PROCESS_TYPES = frozenset({"SimpleCache", "simple", "flask_caching.backends.SimpleCache"})
#: After a failure, the store is not asked again for this long (the request renders afresh).
RETRY_SECONDS = 5.0
OUTAGE_LOG_SECONDS = 60.0


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    # A Redis that does not answer must cost a request little: short timeouts, then bypass.
    options = dict(app.config.get("CACHE_OPTIONS") or {})
    options.setdefault("socket_connect_timeout", 0.5)
    options.setdefault("socket_timeout", 0.5)
    if app.config["CACHE_TYPE"] in ("RedisCache", "redis"):
        app.config["CACHE_OPTIONS"] = options
    if (
        app.config.get("RESPONSE_CACHE_SECONDS", 0) > 0
        and app.config["CACHE_TYPE"] in IN_PROCESS_TYPES
        and not app.config.get("RESPONSE_CACHE_IN_PROCESS")
    ):
        # Several processes would each keep their own pages and generation: no cache at all.
        log.info(
            "response cache off: CACHE_TYPE=%s is not shared between processes "
            "(set CACHE_TYPE=RedisCache, or RESPONSE_CACHE_IN_PROCESS for one process)",
            app.config["CACHE_TYPE"],
        )
        app.config["RESPONSE_CACHE_SECONDS"] = 0
    cache.init_app(app)
    app.extensions["response_cache_outage"] = Outage()


def _outage() -> Outage:
    return current_app.extensions["response_cache_outage"]


def _enabled() -> bool:
    return current_app.config.get("RESPONSE_CACHE_SECONDS", 0) > 0


class Outage:
    """When the app's store last failed, so requests skip it for a while instead of each
    waiting (one per app: ``app.extensions["response_cache_outage"]``)."""

    def __init__(self) -> None:
        self.failed_at = -RETRY_SECONDS
        self.logged_at = -OUTAGE_LOG_SECONDS
        #: A commit could not move the generation on: the first read that works does it.
        self.generation_owed = False

    def store_is_down(self) -> bool:
        return time.monotonic() - self.failed_at < RETRY_SECONDS

    def note(self, what: str, error: Exception) -> None:
        now = time.monotonic()
        self.failed_at = now
        if now - self.logged_at >= OUTAGE_LOG_SECONDS:
            self.logged_at = now
            log.warning(
                "response cache store unreachable (%s: %s); pages are rendered uncached",
                what,
                type(error).__name__,
            )


def new_generation() -> str:
    value = uuid.uuid4().hex
    cache.set(GENERATION_KEY, value, timeout=0)
    return value


def _read(key: str):
    """The current generation and the entry, or None when the store is down."""
    outage = _outage()
    if outage.store_is_down():
        return None
    try:
        if outage.generation_owed:
            new_generation()
            outage.generation_owed = False
        current, hit = cache.get_many(GENERATION_KEY, key)
        if current is None:
            current = new_generation()
    except Exception as error:  # noqa: BLE001 — a cache that fails is no cache
        outage.note("read", error)
        return None
    return current, hit


def _write(key: str, entry: tuple) -> None:
    try:
        cache.set(key, entry, timeout=current_app.config["RESPONSE_CACHE_SECONDS"])
    except Exception as error:  # noqa: BLE001
        _outage().note("write", error)


def _cacheable_request() -> bool:
    return (
        _enabled()
        and request.method == "GET"
        and not current_user.is_authenticated
        and not session.get("_flashes")
    )


def cached_response(view):
    """Serve ``view``'s anonymous GET responses from the cache (see the module doc)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not _cacheable_request():
            return view(*args, **kwargs)
        key = f"page:{current_locale()}:{request.full_path}"
        return _served(key, view, args, kwargs)

    return wrapped


def cached_query(key_of):
    """Serve ``view``'s answers from the cache under ``key_of()``: for answers that are the
    same for everyone who sends the same key, whatever the method (a reseller's availability
    query: its key names the reseller, what it asked for and the language). The generation
    and the expiry are the pages' (see the module doc)."""

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not _enabled():
                return view(*args, **kwargs)
            return _served(f"query:{key_of()}", view, args, kwargs)

        return wrapped

    return decorate


def body_digest() -> str:
    """A short digest of the request body, for ``cached_query`` keys."""
    return hashlib.blake2b(request.get_data(), digest_size=16).hexdigest()


def _served(key: str, view, args, kwargs):
    # The entry remembers the generation it was rendered in; one round trip (MGET on Redis)
    # reads both, and an entry from an older generation is a miss.
    read = _read(key)
    if read is None:
        return view(*args, **kwargs)
    current, hit = read
    if hit is not None and hit[0] == current:
        _, body, mimetype = hit
        return _hit_response(body, mimetype)
    response = make_response(view(*args, **kwargs))
    if response.status_code == 200 and not response.direct_passthrough:
        _write(key, (current, response.get_data(), response.mimetype))
    return response


#: Compressed bodies of cache hits, in this process: compressing the same bytes again on
#: every hit cost more than fetching them. Keyed by a digest of the bytes compressed (and the
#: algorithm), so they are always those bytes compressed: never another rendering's.
_compressed: dict[tuple[bytes, str], bytes] = {}
COMPRESSED_ENTRIES = 512


def _hit_response(body: bytes, mimetype: str) -> Response:
    """A cache hit, compressed as Flask-Compress would (same settings), which then leaves
    it alone because it already has a ``Content-Encoding``."""
    response = Response(body, 200, mimetype=mimetype)
    config = current_app.config
    if len(body) < config["COMPRESS_MIN_SIZE"] or mimetype not in config["COMPRESS_MIMETYPES"]:
        return response
    algorithm = request.accept_encodings.best_match(config["COMPRESS_ALGORITHM"])
    if algorithm not in ("br", "gzip"):
        return response
    entry = (hashlib.blake2b(body, digest_size=16).digest(), algorithm)
    data = _compressed.get(entry)
    if data is None:
        if algorithm == "br":
            data = brotli.compress(body, quality=config["COMPRESS_BR_LEVEL"])
        else:
            data = gzip.compress(body, config["COMPRESS_LEVEL"])
        if len(_compressed) >= COMPRESSED_ENTRIES:
            _compressed.clear()
        _compressed[entry] = data
    response.set_data(data)
    response.headers["Content-Encoding"] = algorithm
    response.vary.add("Accept-Encoding")
    return response


def _stale_after_commit(session: Session) -> None:
    session.info[SESSION_TOUCHED_KEY] = True


@event.listens_for(Session, "after_commit")
def _move_generation_on(session: Session) -> None:
    """Right at the commit, whoever commits (a view, a command, a test): best effort, never
    raising, since the change is committed whatever the cache does."""
    if not session.info.pop(SESSION_TOUCHED_KEY, False):
        return
    try:
        if not (current_app and current_app.extensions.get("cache")):
            return
    except RuntimeError:  # committed outside an app context: nothing cached here
        return
    try:
        new_generation()
    except Exception as error:  # noqa: BLE001
        # Pages are not read from a store that failed (for RETRY_SECONDS); the next read that
        # works moves the generation on first.
        _outage().generation_owed = True
        _outage().note("commit", error)


@event.listens_for(Session, "after_rollback")
def _forget_touched(session: Session) -> None:
    session.info.pop(SESSION_TOUCHED_KEY, None)


@event.listens_for(Session, "after_flush")
def _note_watched_tables(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in WATCHED_TABLES:
            _stale_after_commit(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state) -> None:
    """Bulk UPDATE/DELETE/INSERT statements bypass the flush: look at their table."""
    if writes_watched_table(state.statement):
        _stale_after_commit(state.session)


def writes_watched_table(statement) -> bool:
    """Whether ``statement`` writes to a table whose rows pages show: a caller that runs it
    outside the ORM's execute (``driver_statements``), whose hook would have seen it, then
    calls ``note_write`` after each run."""
    return statement.is_dml and getattr(statement.table, "name", None) in WATCHED_TABLES


def note_write(session: Session) -> None:
    """The session wrote to a watched table: its next commit moves the cache on."""
    _stale_after_commit(session)

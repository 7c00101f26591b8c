"""Whole-response cache for what anonymous visitors read most: the catalog, experience pages
and the availability JSON.

**What is cached.** A GET answered 200 to a visitor who is not signed in and has no message
waiting (flash), keyed by the language the page is in and the full path with its query.
Signed-in pages, forms and anything personal are never cached.

**Invalidation.** Every entry records the *generation* it was rendered in. Any commit that
touches what these pages show (bookings and their seats, departures, experiences and their
texts, prices, stops, families, photos, split rules) moves the generation on, so the next
request finds its entry out of date and renders afresh; the SQLAlchemy ``after_commit`` hook
below sees every such commit, from a view, a command or a worker, and never lets a cache
failure reach the one who committed. Holds that lapse change
seats without a commit, so entries also expire after ``RESPONSE_CACHE_SECONDS`` (30 s by
default): a page may show a seat that lapsed up to that long ago as taken, never a taken
seat as free for longer than a commit takes — and the booking form and the hold itself
always count seats afresh under the departure's lock.

**Compression.** A hit is compressed once per process and entry (Brotli or gzip, with
Flask-Compress's settings) and the compressed bytes are reused until the generation moves.

**Where.** ``CACHE_TYPE``: ``SimpleCache`` (one process, the default for ``make run``) or
``RedisCache`` with ``CACHE_REDIS_URL`` in production, so every worker and every node sees
the same generation (docs/DEPLOY.md). ``RESPONSE_CACHE_SECONDS=0`` turns it off.
"""

from __future__ import annotations

import gzip
import logging
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
        "schedules",
        "split_rules",
        "stops",
        "stop_texts",
    }
)


def init_app(app: Flask) -> None:
    app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 300)
    cache.init_app(app)


def _enabled() -> bool:
    return current_app.config.get("RESPONSE_CACHE_SECONDS", 0) > 0


def new_generation() -> str:
    value = uuid.uuid4().hex
    cache.set(GENERATION_KEY, value, timeout=0)
    return value


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
        # The entry remembers the generation it was rendered in; one round trip (MGET on
        # Redis) reads both, and an entry from an older generation is a miss.
        key = f"page:{current_locale()}:{request.full_path}"
        current, hit = cache.get_many(GENERATION_KEY, key)
        if current is None:
            current = new_generation()
        if hit is not None and hit[0] == current:
            _, body, mimetype = hit
            return _hit_response((current, key), body, mimetype)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            cache.set(
                key,
                (current, response.get_data(), response.mimetype),
                timeout=current_app.config["RESPONSE_CACHE_SECONDS"],
            )
        return response

    return wrapped


#: Compressed bodies of cache hits, in this process: compressing the same bytes again on
#: every hit cost more than fetching them. Keyed by the entry's generation, so never stale.
_compressed: dict[tuple, bytes] = {}
COMPRESSED_ENTRIES = 512


def _hit_response(entry: tuple, body: bytes, mimetype: str) -> Response:
    """A cache hit, compressed as Flask-Compress would (same settings), which then leaves
    it alone because it already has a ``Content-Encoding``."""
    response = Response(body, 200, mimetype=mimetype)
    config = current_app.config
    if len(body) < config["COMPRESS_MIN_SIZE"] or mimetype not in config["COMPRESS_MIMETYPES"]:
        return response
    algorithm = request.accept_encodings.best_match(config["COMPRESS_ALGORITHM"])
    if algorithm not in ("br", "gzip"):
        return response
    data = _compressed.get((*entry, algorithm))
    if data is None:
        if algorithm == "br":
            data = brotli.compress(body, quality=config["COMPRESS_BR_LEVEL"])
        else:
            data = gzip.compress(body, config["COMPRESS_LEVEL"])
        if len(_compressed) >= COMPRESSED_ENTRIES:
            _compressed.clear()
        _compressed[(*entry, algorithm)] = data
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
        if current_app and current_app.extensions.get("cache"):
            new_generation()
    except RuntimeError:  # committed outside an app context: nothing cached here
        pass
    except Exception:  # noqa: BLE001
        log.exception("the page cache could not be told of a commit; its pages expire anyway")


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
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        _stale_after_commit(state.session)

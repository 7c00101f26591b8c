"""Whole-response cache for what anonymous visitors read most: the catalog, experience pages
and the availability JSON.

**What is cached.** A GET answered 200 to a visitor who is not signed in and has no message
waiting (flash), keyed by the language the page is in and the full path with its query.
Signed-in pages, forms and anything personal are never cached.

**Invalidation.** Every key includes a *generation*. Any commit that touches what these
pages show (bookings and their seats, departures, experiences and their texts, prices,
stops, families, photos, split rules) moves the generation on, so the next request renders
afresh; the SQLAlchemy ``after_commit`` hook below sees every such commit, from a view, a
command or a worker. Holds that lapse change seats without a commit, so entries also expire
after ``RESPONSE_CACHE_SECONDS`` (30 s by default): a page may show a seat that lapsed up to
that long ago as taken, never a taken seat as free for longer than a commit takes — and the
booking form and the hold itself always count seats afresh under the departure's lock.

**Where.** ``CACHE_TYPE``: ``SimpleCache`` (one process, the default for ``make run``) or
``RedisCache`` with ``CACHE_REDIS_URL`` in production, so every worker and every node sees
the same generation (docs/DEPLOY.md). ``RESPONSE_CACHE_SECONDS=0`` turns it off.
"""

from __future__ import annotations

import uuid
from functools import wraps

from flask import Flask, Response, current_app, make_response, request, session
from flask_caching import Cache
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

cache = Cache()

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


def generation() -> str:
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = new_generation()
    return value


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
        from .routes.helpers import current_locale

        key = f"page:{generation()}:{current_locale()}:{request.full_path}"
        hit = cache.get(key)
        if hit is not None:
            body, mimetype = hit
            return Response(body, 200, mimetype=mimetype)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.direct_passthrough:
            cache.set(
                key,
                (response.get_data(), response.mimetype),
                timeout=current_app.config["RESPONSE_CACHE_SECONDS"],
            )
        return response

    return wrapped


@event.listens_for(Session, "after_flush")
def _note_watched_tables(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in WATCHED_TABLES:
            session.info[SESSION_TOUCHED_KEY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_writes(state) -> None:
    """Bulk UPDATE/DELETE/INSERT statements bypass the flush: look at their table."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        state.session.info[SESSION_TOUCHED_KEY] = True


@event.listens_for(Session, "after_commit")
def _move_generation_on(session: Session) -> None:
    if not session.info.pop(SESSION_TOUCHED_KEY, False):
        return
    try:
        if current_app and current_app.extensions.get("cache"):
            new_generation()
    except RuntimeError:  # committed outside an app context: nothing cached here
        pass


@event.listens_for(Session, "after_rollback")
def _forget_touched(session: Session) -> None:
    session.info.pop(SESSION_TOUCHED_KEY, None)

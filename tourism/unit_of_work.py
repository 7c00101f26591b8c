"""One unit of work: a block of service calls that commits once, rolls back whole, and only
then lets the world know.

Views and CLI commands write::

    try:
        with unit_of_work():
            booking = lifecycle.hold_seats(db.session, ...)
    except DomainError as error:
        return page(..., error)           # nothing was written

``unit_of_work`` commits when the block ends, rolls back when it raises (the exception goes
on to the caller: a ``DomainError`` is for the view to show), and after a commit runs the
effects that services queued with ``after_commit`` during the block: sending the emails the
transaction queued, telling the page cache its pages are stale. An effect that fails is
logged and dropped; nothing that happens after a commit can turn a committed change into an
error response (the change is there: an error page would make people do it twice).

On SQLite the block's transaction takes the write lock up front (``BEGIN IMMEDIATE``), also in
a GET or a command, so reading then writing inside it can never race another writer. In a
POST the request's transaction already has it and is kept; in a GET what was read before is
dropped so the block starts afresh with the lock; a command's transaction begins with it.

Effects queued by code that commits on its own (tests, ``db.session.commit()`` in a script)
run at the end of the request or app context; a rollback drops them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import Flask, Response, after_this_request, current_app, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from .database import sqlite_begin_statement, write_transactions
from .extensions import db

log = logging.getLogger(__name__)

#: ``session.info`` keys: effects of the open transaction, and those whose commit happened.
PENDING_KEY = "after_commit_pending"
READY_KEY = "after_commit_ready"

Effect = Callable[[], None]
E = TypeVar("E", bound=Effect)


def after_commit(session: Session, effect: E, key: Hashable | None = None) -> E:
    """Run ``effect()`` once the session's current transaction commits; never if it rolls
    back. Queuing the same ``key`` twice in one transaction keeps the first effect, which is
    returned (an effect object can gather what the transaction did: see ``outbox``)."""
    pending: dict = session.info.setdefault(PENDING_KEY, {})
    return pending.setdefault(key if key is not None else effect, effect)


def run_effects(session: Session) -> None:
    """Run the effects of committed transactions, each on its own: one failing is logged and
    the others still run."""
    while ready := session.info.pop(READY_KEY, None):
        _run(ready.values())


def _run(effects) -> None:
    for effect in effects:
        try:
            effect()
        except Exception:  # noqa: BLE001 — see the module doc: after a commit, never raise
            log.exception("an after-commit effect failed; the change itself is committed")


@contextmanager
def unit_of_work(
    session: Session | None = None, *, effects_after_response: bool = False
) -> Iterator[Session]:
    """Commit what the block did, or roll it all back if it raises; then run its effects.

    ``effects_after_response``: in a request, run them once the response has gone out, so
    that the answer takes as long whatever they do (the forgot-password page must not be
    slower for an address that has an account)."""
    session = session if session is not None else db.session
    if sqlite_begin_statement() == "BEGIN IMMEDIATE":
        yield from _commit_or_roll_back(session)
    else:
        with write_transactions():
            if has_request_context():
                # A GET read without the write lock so far (and wrote nothing): start afresh.
                session.rollback()
            yield from _commit_or_roll_back(session)
    if effects_after_response and has_request_context():
        _after_response(session.info.pop(READY_KEY, {}))
    else:
        run_effects(session)


def release(session: Session | None = None) -> None:
    """End the session's open transaction before a network call (Stripe), so that no lock
    is held while waiting on another system: on SQLite a request that writes holds the
    database write lock from its first read. Only for code that has written nothing yet
    (what it flushed is committed); ORM objects read so far are expired, so read what the
    call needs before releasing."""
    (session if session is not None else db.session).commit()  # no transaction: a no-op


def _after_response(ready: dict) -> None:
    if not ready:
        return
    app = current_app._get_current_object()

    @after_this_request
    def _later(response: Response) -> Response:
        def run() -> None:
            with app.app_context():
                _run(ready.values())

        response.call_on_close(run)
        return response


def _commit_or_roll_back(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@event.listens_for(Session, "after_commit")
def _effects_ready(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        session.info.setdefault(READY_KEY, {}).update(pending)


@event.listens_for(Session, "after_soft_rollback")
def _effects_dropped(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(PENDING_KEY, None)


def init_app(app: Flask) -> None:
    """Run effects left by commits made outside ``unit_of_work`` when the context ends."""

    @app.teardown_appcontext
    def _leftover_effects(_exc) -> None:
        if db.session.registry.has():
            run_effects(db.session())

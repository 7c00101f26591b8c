"""``enqueue``: add a job in the caller's transaction.

The job commits with the change that caused it, or not at all: a request that rolls back
enqueues nothing. Its ``key`` is unique, so enqueuing the same key twice (an event replayed,
two schedulers) adds one job. Jobs a request enqueues run in its process once it commits when
no worker is deployed (``worker.runs_inline``); otherwise ``flask worker`` runs them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context
from sqlalchemy.orm import Session

from ..database import utcnow
from ..unit_of_work import after_commit
from . import registry, store, worker

#: ``after_commit`` key of the effect that runs this transaction's jobs in-process.
INLINE_KEY = "jobs_run_inline"


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    key: str,
    run_at: datetime | None = None,
) -> int | None:
    """Add a ``kind`` job with ``payload`` (JSON-serialisable) unless ``key`` is taken.

    Runs in the caller's transaction and only writes the row; returns the new job's id, or
    None when a job with this key exists (done, queued or dead: enqueuing is idempotent).
    ``run_at`` defers it. The kind must have a handler (``registry.job``).
    """
    handler = registry.registered(kind)
    if not key or len(key) > 200:
        raise ValueError("a job needs a key of 1 to 200 characters")
    now = utcnow()
    job_id = store.insert(
        session, kind, payload or {}, key, run_at or now, handler.max_attempts, now
    )
    if run_at is None:
        run_inline_after_commit(session, job_id)
    return job_id


def run_inline_after_commit(session: Session, job_id: int | None) -> None:
    """A job just added to run now: when this process runs jobs itself (no worker deployed),
    it runs once the request commits. For callers that insert a job row themselves."""
    if job_id is not None and has_request_context() and worker.runs_inline():
        after_commit(session, _RunInline(session), key=INLINE_KEY).ids.append(job_id)


class _RunInline:
    """The after-commit effect of a request that enqueued jobs: run just those."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.ids: list[int] = []

    def __call__(self) -> None:
        worker.run_now(self.session, self.ids)

"""The ``jobs`` table's operations: add, claim with a lease, finish, fail (backoff or dead
letter), retry by hand, prune. Plain functions on a session; callers commit.

Claiming is one transaction: pick due rows ``FOR UPDATE SKIP LOCKED`` (PostgreSQL: two
workers never pick the same row and never wait for each other; SQLite: a no-op, the worker's
transaction holds the database write lock, ``BEGIN IMMEDIATE``), then mark them ``running``
with a lease. A job whose lease ran out (its worker was killed or hung) is due again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..database import insert_once
from ..models import Job, JobState

#: Pick rows with ``FOR UPDATE SKIP LOCKED``. Only the negative control in the tests turns
#: it off, to show that two workers then run the same jobs.
LOCK_ROWS = True

#: Backoff after the n-th failed try: ``BASE * 2**(n-1)``, at most ``CAP``.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)

_INSERT_COLUMNS = (
    "kind",
    "key",
    "payload",
    "state",
    "run_at",
    "attempts",
    "max_attempts",
    "locked_by",
    "last_error",
    "created_at",
)


def _insert_statement(insert):
    # Every hold enqueues one: a key enqueued before is refused (``insert_once``).
    return insert_once(insert, Job.__table__, _INSERT_COLUMNS)


_INSERT = {
    "postgresql": _insert_statement(postgresql_insert),
    "sqlite": _insert_statement(sqlite_insert),
}


def insert(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    key: str,
    run_at: datetime,
    max_attempts: int,
    now: datetime,
) -> int | None:
    """Add a job unless ``key`` exists; returns its id, or None when it was there already."""
    values = {
        "kind": kind,
        "key": key,
        "payload": json.dumps(payload, sort_keys=True),
        "state": JobState.QUEUED.value,
        "run_at": run_at,
        "attempts": 0,
        "max_attempts": max_attempts,
        "locked_by": "",
        "last_error": "",
        "created_at": now,
    }
    return session.scalar(_INSERT[session.get_bind().dialect.name], values)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def _due(now: datetime):
    return or_(
        and_(Job.state == JobState.QUEUED, Job.run_at <= now),
        # A lease run out on the last allowed try is for ``bury_abandoned``, not a new try.
        and_(
            Job.state == JobState.RUNNING,
            Job.locked_until < now,
            Job.attempts < Job.max_attempts,
        ),
    )


def bury_abandoned(session: Session, now: datetime) -> int:
    """Make dead letters of running jobs whose lease expired on their last allowed try (a
    job that kills its worker every time must not be retried for ever)."""
    result = session.execute(
        update(Job)
        .where(
            Job.state == JobState.RUNNING,
            Job.locked_until < now,
            Job.attempts >= Job.max_attempts,
        )
        .values(
            state=JobState.DEAD,
            locked_by="",
            locked_until=None,
            finished_at=now,
            last_error="its worker stopped before finishing it (the lease expired) on the last try",
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def claim(
    session: Session,
    worker: str,
    now: datetime,
    lease: timedelta,
    kinds: set[str] | frozenset[str],
    limit: int = 1,
    ids: list[int] | None = None,
) -> list[Claimed]:
    """Take up to ``limit`` due jobs of ``kinds`` (only ``ids`` if given) for ``worker`` until
    ``now + lease``; counts the try. Commit right after, before running them. (Call
    ``bury_abandoned`` now and then first, or a job that kills its worker comes back.)"""
    pick = (
        select(Job.id)
        .where(_due(now), Job.kind.in_(sorted(kinds)))
        .order_by(Job.run_at, Job.id)
        .limit(limit)
    )
    if ids is not None:
        pick = pick.where(Job.id.in_(ids or [-1]))
    if LOCK_ROWS:
        pick = pick.with_for_update(skip_locked=True)
    picked = list(session.scalars(pick))
    if not picked:
        return []
    rows = session.execute(
        update(Job)
        .where(Job.id.in_(picked))
        .values(
            state=JobState.RUNNING,
            locked_by=worker,
            locked_until=now + lease,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.kind, Job.key, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    ).all()
    claimed = [
        Claimed(row.id, row.kind, row.key, json.loads(row.payload), row.attempts, row.max_attempts)
        for row in rows
    ]
    return sorted(claimed, key=lambda job: picked.index(job.id))


def extend(session: Session, job_id: int, worker: str, until: datetime) -> None:
    """Give a claimed job a lease of its own length (a handler registered with ``lease``)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker)
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, job_id: int, worker: str, now: datetime) -> bool:
    """Mark the job done; False if ``worker`` lost it meanwhile (its lease ran out and
    another worker took it: that one will finish it too, the handler being idempotent)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker, Job.state == JobState.RUNNING)
        .values(
            state=JobState.DONE, locked_by="", locked_until=None, finished_at=now, last_error=""
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def backoff(attempts: int) -> timedelta:
    """How long to wait before the try after ``attempts`` failed ones."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def fail(session: Session, claimed: Claimed, worker: str, error: str, now: datetime) -> JobState:
    """Record a failed try: queued again after its backoff, or a dead letter once it has had
    ``max_attempts`` tries. Returns the job's new state."""
    dead = claimed.attempts >= claimed.max_attempts
    values: dict[str, Any] = {
        "locked_by": "",
        "locked_until": None,
        "last_error": error[:4000],
    }
    if dead:
        values |= {"state": JobState.DEAD, "finished_at": now}
    else:
        values |= {"state": JobState.QUEUED, "run_at": now + backoff(claimed.attempts)}
    session.execute(
        update(Job)
        .where(Job.id == claimed.id, Job.locked_by == worker)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return JobState.DEAD if dead else JobState.QUEUED


class NotRetriable(LookupError):
    """The job is gone, done, or running right now."""


def retry(session: Session, job_id: int, now: datetime) -> Job:
    """Queue a dead or failing job to run now with its full number of tries again."""
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.state not in (JobState.DEAD, JobState.QUEUED):
        raise NotRetriable(job_id)
    job.state = JobState.QUEUED
    job.run_at = now
    job.attempts = 0
    job.finished_at = None
    session.flush()
    return job


def failing(session: Session, limit: int = 200) -> list[Job]:
    """Dead letters, then jobs waiting to retry after a failure; newest first."""
    return list(
        session.scalars(
            select(Job)
            .where(
                or_(
                    Job.state == JobState.DEAD,
                    and_(Job.state == JobState.QUEUED, Job.last_error != ""),
                )
            )
            .order_by((Job.state == JobState.DEAD).desc(), Job.run_at.desc(), Job.id.desc())
            .limit(limit)
        )
    )


def prune(session: Session, before: datetime) -> int:
    """Delete done jobs finished before ``before`` (their keys may then be used again:
    handlers are idempotent, and scheduled keys name a period long past)."""
    result = session.execute(
        delete(Job)
        .where(Job.state == JobState.DONE, Job.finished_at < before)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0

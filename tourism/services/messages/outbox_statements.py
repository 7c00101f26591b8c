"""The outbox's inserts, built once: a notification, its send-email job with it (one
statement on PostgreSQL), and, for the hold, both inside the booking's own insert.

Each relies on the unique keys (``booking:<id>:<kind>``, the job's ``email:<that key>``): a
message queued before (by an earlier call or a concurrent transaction) is refused with no
error that would spoil the caller's transaction. They insert into the tables, not through the
classes: a Core insert skips the ORM's bulk-insert bookkeeping.
"""

from __future__ import annotations

from sqlalchemy import String, bindparam, cast, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...database import insert_once
from ...models import Job, JobState, Notification

QUEUED_COLUMNS = (
    "key",
    "kind",
    "booking_id",
    "recipient",
    "language",
    "context",
    "created_at",
    "attempts",
    "last_error",
)


def _queue_statement(insert):
    return insert_once(insert, Notification.__table__, QUEUED_COLUMNS)


def _job_cte(queued, job_key):
    """The send-email job of the notification ``queued`` (a ``WITH`` returning its id): a
    row only when the notification was inserted; its payload is what
    ``email_jobs.enqueue_delivery`` writes."""
    jobs = Job.__table__
    payload = literal('{"notification_id": ') + cast(queued.c.id, String) + literal("}")
    columns = {
        "kind": bindparam("job_kind", type_=jobs.c.kind.type),
        "key": job_key,
        "payload": payload,
        "state": bindparam("job_state", type_=jobs.c.state.type),
        "run_at": bindparam("created_at", type_=jobs.c.run_at.type),
        "attempts": literal(0),
        "max_attempts": bindparam("job_max_attempts", type_=jobs.c.max_attempts.type),
        "locked_by": literal(""),
        "last_error": literal(""),
        "created_at": bindparam("created_at", type_=jobs.c.created_at.type),
    }
    return (
        postgresql_insert(jobs)
        .from_select(list(columns), select(*columns.values()).select_from(queued))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(jobs.c.id)
        .cte("enqueued")
    )


def _queue_with_job_statement():
    """PostgreSQL: the notification and its send-email job in one statement (two
    data-modifying CTEs), one round trip less for every booking. Returns (notification id,
    job id), each NULL when its key was taken."""
    queued = _queue_statement(postgresql_insert).cte("queued")
    enqueued = _job_cte(queued, bindparam("job_key", type_=Job.__table__.c.key.type))
    return select(select(queued.c.id).scalar_subquery(), select(enqueued.c.id).scalar_subquery())


#: ``INSERT … ON CONFLICT DO NOTHING`` per database.
QUEUE = {
    "postgresql": _queue_statement(postgresql_insert),
    "sqlite": _queue_statement(sqlite_insert),
}
QUEUE_WITH_JOB = _queue_with_job_statement()


def job_params(job_kind: str, max_attempts: int) -> dict:
    """The job's parameters of ``QUEUE_WITH_JOB`` and ``with_new_booking`` but its key."""
    return {"job_kind": job_kind, "job_state": JobState.QUEUED, "job_max_attempts": max_attempts}


def with_new_booking(new_booking, kind: str):
    """PostgreSQL: the ``kind`` email of the booking the ``WITH`` ``new_booking`` inserts
    (its columns ``id``, ``contact_email``, ``language``), and its job, as two more
    ``WITH``s of the booking's own statement: the hold that confirms a booking at once
    queues its email with no statement of its own. Returns the two ``WITH``s (each returning
    ``id``). Parameters: ``created_at`` (the booking's), ``job_params``. Nothing is
    inserted when the booking was not (its reference was taken)."""
    notifications = Notification.__table__
    key = literal("booking:") + cast(new_booking.c.id, String) + literal(f":{kind}")
    columns = {
        "key": key,
        "kind": literal(kind),
        "booking_id": new_booking.c.id,
        "recipient": new_booking.c.contact_email,
        "language": new_booking.c.language,
        "context": literal("{}"),
        "created_at": bindparam("created_at", type_=notifications.c.created_at.type),
        "attempts": literal(0),
        "last_error": literal(""),
    }
    queued = (
        postgresql_insert(notifications)
        .from_select(list(columns), select(*columns.values()).select_from(new_booking))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(notifications.c.id, notifications.c.key)
        .cte("queued")
    )
    return queued, _job_cte(queued, literal("email:") + queued.c.key)

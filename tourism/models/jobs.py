"""The durable job queue: one row per piece of work to do after a commit or on a schedule.

See ``tourism.jobs`` for how rows are added, claimed, retried and given up on.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db


class JobState(enum.StrEnum):
    #: Waiting for ``run_at`` (a retry waits there for its backoff).
    QUEUED = "queued"
    #: Claimed by ``locked_by`` until ``locked_until`` (the lease); past it, anyone may retry.
    RUNNING = "running"
    DONE = "done"
    #: Failed ``max_attempts`` times: left for a person (``/manage/jobs``) to retry.
    DEAD = "dead"


class Job(db.Model):
    """A unit of work for a worker: ``kind`` names its handler, ``payload`` its arguments.

    ``key`` is unique: enqueuing the same key twice adds one row, so an event replayed or a
    schedule seen by two nodes makes one job. The handler is given the key and must be
    idempotent: a worker killed after the effect but before marking the job done leaves it
    to be run again once the lease expires.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_run_at", "state", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    #: The handler's arguments, JSON-encoded.
    payload: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[JobState] = mapped_column(
        Enum(
            JobState,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=JobState.QUEUED,
    )
    #: Not before this instant (the enqueue time, a schedule's period, or a retry's backoff).
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Claims so far, a run cut short by a dead worker included.
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    #: The worker holding the job and until when (its lease).
    locked_by: Mapped[str] = mapped_column(String(120), default="")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

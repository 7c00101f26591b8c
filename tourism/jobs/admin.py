"""What people do to jobs: retry a dead or failing one (``/manage/jobs``, ``flask
retry-job``), with an audit record of who did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import Job, User
from ..services.access import audit
from . import store


def retry_job(session: Session, job_id: int, now: datetime, actor: User | str | None = None) -> Job:
    """Queue the job ``job_id`` to run now with its full number of tries again; raises
    ``store.NotRetriable`` for a job that is gone, done or running. Only flushes."""
    job = store.retry(session, job_id, now)
    audit.record(
        session,
        audit.JOB_RETRIED,
        actor=actor,
        target=f"jobs:{job.id}",
        detail=f"{job.kind} {job.key}",
        at=now,
    )
    session.flush()
    return job

"""Handlers only these tests use, registered under kinds of their own."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from tourism.extensions import db
from tourism.jobs.registry import job
from tourism.models import Job
from tourism.unit_of_work import after_commit

#: How often each key ran, across threads (``count`` jobs).
RUNS: Counter = Counter()
_RUNS_LOCK = threading.Lock()


@job("test-count")
def count_run(_session, _payload, key) -> None:
    with _RUNS_LOCK:
        RUNS[key] += 1


class Boom(RuntimeError):
    pass


@job("test-fail", max_attempts=3)
def always_fail(_session, payload, _key) -> None:
    raise Boom(payload.get("why", "broken on purpose"))


@pytest.fixture
def runs():
    RUNS.clear()
    yield RUNS
    RUNS.clear()


def jobs_by_key(session) -> dict[str, Job]:
    session.expire_all()
    return {job.key: job for job in session.scalars(select(Job))}


def job_count() -> int:
    return len(db.session.scalars(select(Job.id)).all())


EFFECTS: list[str] = []


@job("test-effect")
def with_after_commit_effect(session, _payload, key) -> None:
    after_commit(session, lambda: EFFECTS.append(key))

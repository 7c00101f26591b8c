"""Periodic jobs: enqueued once per period, however many schedulers look at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tourism.cli.jobs import tick
from tourism.database import utcnow
from tourism.extensions import db
from tourism.jobs import periodic, registry
from tourism.jobs.schedule import Periodic
from tourism.jobs.worker import Worker
from tourism.models import Job, JobState

NOW = datetime(2026, 12, 4, 13, 2, 30, tzinfo=UTC)


def _keys() -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(Job.key)))


def _two_schedulers(app, now: datetime) -> list[list[str]]:
    added: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def look() -> None:
        try:
            with app.app_context():
                start.wait()
                added.append(tick(now))
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=look) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return added


def test_two_schedulers_enqueue_each_periodic_job_once_per_period(app, session):
    added = _two_schedulers(app, NOW)
    keys = _keys()
    assert len(keys) == len(periodic.PERIODIC)
    assert sorted(added[0] + added[1]) == keys  # each key enqueued by exactly one of them
    assert "send-reminders@2026-12-04T13:00Z" in keys
    assert "expire-holds@2026-12-04T13:00Z" in keys
    assert "ledger-check@2026-12-04T07:00Z" in keys  # today's, caught up late
    assert "reconcile-payments@2026-12-04T12:55Z" in keys

    # Later in the same periods: nothing new.
    assert _two_schedulers(app, NOW + timedelta(seconds=20)) == [[], []]
    # Two minutes on: only the jobs of every minute, once each.
    added = _two_schedulers(app, NOW + timedelta(minutes=2))
    assert sorted(added[0] + added[1]) == [
        "deliver-webhooks@2026-12-04T13:04Z",
        "send-messages@2026-12-04T13:04Z",
    ]
    # The next five minutes: only what runs that often.
    added = _two_schedulers(app, NOW + timedelta(minutes=3))
    assert sorted(added[0] + added[1]) == [
        "deliver-webhooks@2026-12-04T13:05Z",
        "expire-holds@2026-12-04T13:05Z",
        "finish-refunds@2026-12-04T13:05Z",
        "send-messages@2026-12-04T13:05Z",
        "tell-homestay-hosts@2026-12-04T13:05Z",  # daily at 13:05 UTC (8:05 in Napo)
    ]


def test_period_starts():
    daily = Periodic("x", every=timedelta(days=1), at=timedelta(hours=13))
    assert daily.period_start(NOW) == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)
    assert daily.period_start(NOW - timedelta(minutes=3)) == datetime(2026, 12, 3, 13, tzinfo=UTC)
    quarter = Periodic("y", every=timedelta(minutes=15), at=timedelta(minutes=10))
    assert quarter.key(NOW) == "y@2026-12-04T12:55Z"
    with pytest.raises(ValueError):
        Periodic("z", every=timedelta(hours=1), at=timedelta(hours=1))


def test_every_periodic_job_has_a_handler_and_runs(app, session):
    names = [entry.name for entry in periodic.PERIODIC]
    assert len(names) == len(set(names))
    assert set(names) <= set(registry.HANDLERS)
    tick(utcnow())
    worker = Worker(session, kinds=set(names))
    worker.run(burst=True)
    session.expire_all()
    states = {job.key.partition("@")[0]: job.state for job in session.scalars(select(Job))}
    # On an empty site every check passes and there is nothing to repair.
    assert states == dict.fromkeys(names, JobState.DONE), {
        job.key: job.last_error for job in session.scalars(select(Job)) if job.last_error
    }

"""Two workers drain 1,000 jobs and none runs twice; without ``SKIP LOCKED`` (the negative
control, PostgreSQL) they do run some twice, so the first test can fail."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import is_postgres
from tourism.database import utcnow
from tourism.extensions import db
from tourism.jobs import store
from tourism.jobs.worker import Worker
from tourism.models import Job, JobState

JOBS = 1000


def _enqueue(session, count: int) -> None:
    now = utcnow()
    for n in range(count):
        store.insert(session, "test-count", {}, f"n-{n}", now, 8, now)
    session.commit()


def _two_workers(app, limit: int = 1) -> list[Worker]:
    workers: list[Worker] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            with app.app_context():
                worker = Worker(name=name, kinds={"test-count"})
                workers.append(worker)
                start.wait()
                while True:
                    claimed = worker.claim(limit=limit)
                    if not claimed:
                        break
                    for job in claimed:
                        worker.run_claimed(job)
                db.session.remove()
        except BaseException as error:  # report it in the test, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return workers


def test_two_workers_drain_a_thousand_jobs_and_run_none_twice(app, session, runs):
    _enqueue(session, JOBS)
    workers = _two_workers(app)
    assert len(runs) == JOBS
    assert max(runs.values()) == 1, [key for key, n in runs.items() if n > 1][:10]
    assert sum(worker.done for worker in workers) == JOBS
    # Both took part (neither waited for the other's locks and gave up).
    assert all(worker.done > 0 for worker in workers), [w.done for w in workers]
    session.expire_all()
    assert session.scalar(select(func.count()).where(Job.state == JobState.DONE)) == JOBS


@pytest.mark.skipif(
    not is_postgres(),
    reason="SQLite lets one writer at a time: without its write lock a second claimer gets "
    "'database is locked', not the same job; the race only exists on PostgreSQL",
)
def test_negative_control_without_skip_locked_runs_jobs_twice(app, session, runs, monkeypatch):
    monkeypatch.setattr(store, "LOCK_ROWS", False)
    _enqueue(session, JOBS)
    _two_workers(app, limit=5)
    twice = [key for key, n in runs.items() if n > 1]
    print(f"negative control: {len(twice)} of {JOBS} jobs ran twice")
    assert twice, "without SKIP LOCKED no job ran twice: the test above cannot fail"

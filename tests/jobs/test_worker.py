"""Running jobs: done once, retried with exponential backoff, dead letters after the last
try, taken over when a worker's lease runs out, retried by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tourism.database import utcnow
from tourism.jobs import queue, store
from tourism.jobs.worker import Worker
from tourism.models import Job, JobState, Notification
from tourism.services.messages import outbox

from .conftest import EFFECTS, jobs_by_key


def _due_now(session, key: str) -> None:
    """Move a waiting retry's time to now (instead of waiting for its backoff)."""
    session.execute(update(Job).where(Job.key == key).values(run_at=utcnow()))
    session.commit()


def test_a_job_runs_once_and_is_done(session, runs):
    queue.enqueue(session, "test-count", {}, key="once")
    session.commit()
    worker = Worker(session, kinds={"test-count"})
    assert worker.run(burst=True) == 1
    assert worker.run(burst=True) == 1  # the same count: nothing more ran
    assert runs == {"once": 1}
    job = jobs_by_key(session)["once"]
    assert job.state == JobState.DONE and job.attempts == 1 and job.finished_at is not None
    assert job.locked_by == "" and job.locked_until is None


def test_failures_back_off_exponentially_then_become_dead_letters(session):
    queue.enqueue(session, "test-fail", {"why": "smtp down"}, key="f")
    session.commit()
    worker = Worker(session, kinds={"test-fail"})
    waits = []
    for attempt in (1, 2):
        before = utcnow()
        assert worker.run_next() is True
        job = jobs_by_key(session)["f"]
        assert job.state == JobState.QUEUED and job.attempts == attempt
        assert "Boom: smtp down" in job.last_error
        waits.append(job.run_at - before)
        assert worker.run_next() is False  # not due before its backoff
        _due_now(session, "f")
    assert timedelta(seconds=29) < waits[0] <= timedelta(seconds=31)
    assert timedelta(seconds=59) < waits[1] <= timedelta(seconds=61)
    assert worker.run_next() is True  # the third and last try
    job = jobs_by_key(session)["f"]
    assert job.state == JobState.DEAD and job.attempts == 3 and job.finished_at is not None
    assert worker.run_next() is False
    assert [j.key for j in store.failing(session)] == ["f"]


def test_backoff_grows_to_its_cap():
    assert [store.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert store.backoff(30) == store.BACKOFF_CAP


def test_a_dead_letter_retried_by_hand_gets_its_tries_again(session, runner):
    queue.enqueue(session, "test-fail", {}, key="d")
    session.commit()
    session.execute(update(Job).values(state=JobState.DEAD, attempts=3, last_error="x"))
    session.commit()
    job_id = jobs_by_key(session)["d"].id
    result = runner.invoke(args=["retry-job", str(job_id)])
    assert result.exit_code == 0, result.output
    job = jobs_by_key(session)["d"]
    assert job.state == JobState.QUEUED and job.attempts == 0 and job.run_at <= utcnow()
    assert Worker(session, kinds={"test-fail"}).run_next() is True
    assert jobs_by_key(session)["d"].attempts == 1
    # A done job is not "retried".
    session.execute(update(Job).values(state=JobState.DONE))
    session.commit()
    assert runner.invoke(args=["retry-job", str(job_id)]).exit_code == 1


def test_a_job_whose_worker_died_is_run_again_after_its_lease(session, runs):
    queue.enqueue(session, "test-count", {}, key="leased")
    session.commit()
    dead = Worker(session, kinds={"test-count"}, lease=timedelta(minutes=10))
    assert [job.key for job in dead.claim()] == ["leased"]  # claimed, then the worker "dies"
    other = Worker(session, kinds={"test-count"})
    assert other.run_next() is False  # still leased
    session.execute(update(Job).values(locked_until=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert other.run_next() is True
    job = jobs_by_key(session)["leased"]
    assert runs == {"leased": 1}
    assert job.state == JobState.DONE and job.attempts == 2
    # The first worker coming back cannot mark it again.
    assert store.finish(session, job.id, dead.name, utcnow()) is False


def test_a_job_that_kills_its_worker_every_time_ends_as_a_dead_letter(session):
    queue.enqueue(session, "test-fail", {}, key="poison")
    session.commit()
    session.execute(
        update(Job).values(
            state=JobState.RUNNING, attempts=3, locked_by="gone", locked_until=utcnow()
        )
    )
    session.commit()
    assert Worker(session, kinds={"test-fail"}).run_next() is False
    job = jobs_by_key(session)["poison"]
    assert job.state == JobState.DEAD and "lease expired" in job.last_error


def test_an_email_job_sends_once_and_retries_a_failure(app, session, make, tmp_path):
    booking = make.booking(contact_email="lucia@example.org")
    notification = outbox.queue(session, booking, "confirmed")
    session.commit()
    key = outbox.delivery_key(notification)
    broken = tmp_path / "not-a-folder"
    broken.write_text("")
    app.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(broken))
    worker = Worker(session, kinds={outbox.SEND_EMAIL})
    assert worker.run_next() is True
    job = jobs_by_key(session)[key]
    assert job.state == JobState.QUEUED and "EmailNotSent" in job.last_error
    session.refresh(notification)
    assert notification.attempts == 1 and notification.sent_at is None
    assert notification.last_error  # the outbox row keeps the try, as before

    outbox_dir = tmp_path / "outbox"
    app.config.update(MAIL_OUTBOX_DIR=str(outbox_dir))
    _due_now(session, key)
    assert worker.run_next() is True
    assert jobs_by_key(session)[key].state == JobState.DONE
    session.refresh(notification)
    assert notification.sent_at is not None and notification.attempts == 2
    assert len(list(outbox_dir.glob("*.eml"))) == 1
    # Enqueued again (the sweep), it finds the email sent and sends nothing.
    session.execute(update(Job).values(state=JobState.QUEUED, run_at=utcnow()))
    session.commit()
    assert worker.run_next() is True
    assert len(list(outbox_dir.glob("*.eml"))) == 1
    assert session.get(Notification, notification.id).attempts == 2


def test_after_commit_effects_of_a_handler_run_once_it_is_done(session):
    EFFECTS.clear()
    queue.enqueue(session, "test-effect", {}, key="fx")
    session.commit()
    assert Worker(session, kinds={"test-effect"}).run_next() is True
    assert EFFECTS == ["fx"]

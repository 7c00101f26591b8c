"""Enqueuing: in the caller's transaction, once per key, nothing when it rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tourism.extensions import db
from tourism.jobs import queue
from tourism.models import Booking, Job, JobState, Notification
from tourism.services.messages import outbox
from tourism.unit_of_work import unit_of_work

from .conftest import job_count, jobs_by_key


def test_the_same_key_twice_is_one_job(session):
    first = queue.enqueue(session, "test-count", {"n": 1}, key="k-1")
    again = queue.enqueue(session, "test-count", {"n": 2}, key="k-1")
    session.commit()
    assert first is not None and again is None
    job = jobs_by_key(session)["k-1"]
    assert job.state == JobState.QUEUED and job.payload == '{"n": 1}' and job.attempts == 0
    # Later too, in another transaction, and after the job ran.
    job.state = JobState.DONE
    session.commit()
    assert queue.enqueue(session, "test-count", {}, key="k-1") is None
    session.commit()
    assert job_count() == 1


def test_a_rolled_back_transaction_enqueues_nothing(session):
    with pytest.raises(RuntimeError), unit_of_work():
        queue.enqueue(session, "test-count", {}, key="gone")
        raise RuntimeError("the change failed")
    assert job_count() == 0


def test_a_rolled_back_booking_enqueues_no_email(session, make, app):
    departure = make.departure(capacity=4)
    session.commit()
    with pytest.raises(RuntimeError), unit_of_work():
        booking = make.booking(departure=departure, contact_email="ana@example.org")
        assert outbox.queue(session, booking, "confirmed") is not None
        assert session.scalar(select(func.count(Job.id))) == 1  # it was there, uncommitted
        raise RuntimeError("payment check failed after the hold")
    assert job_count() == 0
    assert session.scalar(select(func.count(Notification.id))) == 0
    assert session.scalar(select(func.count(Booking.id))) == 0


def test_unknown_kinds_and_bad_keys_are_refused(session):
    with pytest.raises(LookupError):
        queue.enqueue(session, "no-such-kind", {}, key="x")
    with pytest.raises(ValueError):
        queue.enqueue(session, "test-count", {}, key="")
    with pytest.raises(ValueError):
        queue.enqueue(session, "test-count", {}, key="k" * 201)


def test_a_queued_email_has_its_job_in_the_same_transaction(session, make):
    booking = make.booking()
    notification = outbox.queue(session, booking, "confirmed")
    outbox.queue(session, booking, "confirmed")  # replayed: nothing more
    session.commit()
    jobs = list(db.session.scalars(select(Job)))
    assert [(job.kind, job.key) for job in jobs] == [
        ("send-email", f"email:booking:{booking.id}:confirmed")
    ]
    assert jobs[0].payload == f'{{"notification_id": {notification.id}}}'

"""Minimum participants: a departure short of its experience's minimum at the cutoff is
cancelled through the usual path (card refunded, visitors told in their language), once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import is_postgres
from tests.factories import Factories
from tourism.database import utcnow, write_transactions
from tourism.errors import InvalidRequest
from tourism.extensions import db
from tourism.models import (
    AuditEvent,
    BookingStatus,
    Departure,
    DepartureStatus,
    Notification,
    PaymentStatus,
)
from tourism.services.access import audit
from tourism.services.booking import availability
from tourism.services.booking.pricing import online_due
from tourism.services.messages import outbox
from tourism.services.messages.mail import MemoryMailer
from tourism.services.operations import minimums
from tourism.services.payments import intents, refunds
from tourism.services.payments import online as payments


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context(), write_transactions():
        yield app


@pytest.fixture
def make(pay_app):
    return Factories(db.session)


def _experience(make, minimum=4, cutoff_hours=48):
    experience = make.experience()
    experience.min_participants, experience.min_cutoff_hours = minimum, cutoff_hours
    return experience


def _decisions(departure_id: int) -> int:
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.action == audit.DEPARTURE_MINIMUM_CHECKED,
            AuditEvent.target == f"departure:{departure_id}",
        )
    )


def test_short_departure_is_cancelled_refunded_and_told_once(make, gateway):
    experience = _experience(make, minimum=4)
    now = utcnow()
    departure = make.departure(experience, starts_in=timedelta(hours=40))
    paid = make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    paid.payment_method, paid.language = "card", "en"
    paid.online_due_cents = online_due(paid.total_cents, "card", 30)
    cash = make.booking(departure, quantities={"adult": 1})
    cash.payment_method = "on_arrival"
    start = payments.start_payment(db.session, paid, gateway, now, timedelta(minutes=30))
    gateway.confirm_intent(start.payment.provider_ref, "pm_card_visa")
    intents.sync_booking(db.session, paid, gateway, now)
    assert paid.status == BookingStatus.CONFIRMED
    db.session.commit()
    paid_id, cash_id, departure_id = paid.id, cash.id, departure.id

    report = minimums.check_minimums(db.session, now, gateway)
    assert report.cancelled == [departure_id] and report.ran == []
    departure = db.session.get(Departure, departure_id)
    assert departure.status == DepartureStatus.CANCELLED
    assert departure.minimum_checked_at is not None
    paid = db.session.get(type(paid), paid_id)
    assert paid.status == BookingStatus.CANCELLED
    # The card refund was owed under the lock and paid after the commit.
    refunds.finish_refunds(db.session, gateway)
    db.session.refresh(paid)
    assert paid.payments[0].status == PaymentStatus.SUCCEEDED
    assert paid.payments[0].refunded_cents == paid.total_cents
    kinds = dict(
        db.session.execute(
            select(Notification.booking_id, Notification.kind).where(
                Notification.kind == "departure_cancelled"
            )
        ).all()
    )
    assert kinds == {paid_id: "departure_cancelled", cash_id: "departure_cancelled"}

    # Told in each visitor's language, the minimum named.
    mailer = MemoryMailer()
    outbox.deliver_pending(db.session, mailer)
    bodies = [m.get_body(("plain",)).get_content() for m in mailer.outbox]
    assert sum("needed at least 4 visitors" in body for body in bodies) == 1
    assert sum("necesitaba al menos 4 visitantes" in body for body in bodies) == 1

    # Run again (a retried job, a later tick): nothing more happens.
    again = minimums.check_minimums(db.session, now + timedelta(minutes=5), gateway)
    assert again.cancelled == [] and again.ran == []
    assert _decisions(departure_id) == 1


def test_departure_that_reaches_its_minimum_runs_and_is_decided_once(make):
    experience = _experience(make, minimum=3)
    departure = make.departure(experience, starts_in=timedelta(hours=30))
    make.booking(departure, quantities={"adult": 3})
    db.session.commit()
    now = utcnow()
    assert minimums.check_minimums(db.session, now).ran == [departure.id]
    assert minimums.check_minimums(db.session, now).ran == []
    departure = db.session.get(Departure, departure.id)
    assert departure.status == DepartureStatus.SCHEDULED
    # Decided: a cancellation after the cutoff leaves it running (no second decision).
    assert minimums.still_needed(experience, departure, 0) == 0
    assert _decisions(departure.id) == 1


def test_nothing_happens_before_the_cutoff_or_without_a_minimum(make):
    experience = _experience(make, minimum=5, cutoff_hours=24)
    later = make.departure(experience, starts_in=timedelta(hours=30))
    free = make.departure(make.experience(), starts_in=timedelta(hours=2))
    db.session.commit()
    now = utcnow()
    report = minimums.check_minimums(db.session, now)
    assert report.ran == report.cancelled == []
    assert db.session.get(Departure, later.id).minimum_checked_at is None
    assert db.session.get(Departure, free.id).minimum_checked_at is None
    # Seven hours later the first one's cutoff has come: the explicit ``now`` decides it.
    report = minimums.check_minimums(db.session, now + timedelta(hours=7))
    assert report.cancelled == [later.id]


def test_a_departure_already_started_is_left_alone(make):
    experience = _experience(make, minimum=5)
    departure = make.departure(experience, starts_in=timedelta(hours=1))
    db.session.commit()
    report = minimums.check_minimums(db.session, utcnow() + timedelta(hours=2))
    assert report.ran == report.cancelled == []
    assert db.session.get(Departure, departure.id).status == DepartureStatus.SCHEDULED


def test_live_holds_count_towards_the_minimum(make):
    experience = _experience(make, minimum=2)
    departure = make.departure(experience, starts_in=timedelta(hours=20))
    make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    db.session.commit()
    assert minimums.check_minimums(db.session, utcnow()).ran == [departure.id]


@pytest.mark.parametrize(
    ("participants", "hours"),
    [(-1, 48), (501, 48), (3, 0), (3, 10_000), ("3", 48), (True, 48), (3.5, 48)],
)
def test_set_minimum_refuses_bad_values(make, participants, hours):
    experience = _experience(make, minimum=2, cutoff_hours=24)
    with pytest.raises(InvalidRequest):
        minimums.set_minimum(experience, participants, hours)
    assert (experience.min_participants, experience.min_cutoff_hours) == (2, 24)


def test_still_needed(make):
    experience = _experience(make, minimum=6)
    departure = make.departure(experience)
    assert minimums.still_needed(experience, departure, 2) == 4
    assert minimums.still_needed(experience, departure, 9) == 0
    experience.min_participants = 0
    assert minimums.still_needed(experience, departure, 0) == 0


# Two runners at once ------------------------------------------------------------------------


def _race(app, departure_id, now, barrier=None):
    """Run ``decide_departure`` from two threads at once, each with its own session."""
    results, errors = [], []
    db.session.rollback()  # the test's own transaction (a write lock on SQLite) ends here

    def run():
        with app.app_context():
            try:
                if barrier is not None:
                    barrier.wait(timeout=30)
                results.append(minimums.check_minimums(db.session, now))
            except Exception as error:  # noqa: BLE001 — reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.parametrize("booked", [1, 3])
def test_two_runners_decide_each_departure_once(pay_app, make, booked):
    experience = _experience(make, minimum=3)
    departure = make.departure(experience, starts_in=timedelta(hours=20))
    make.booking(departure, quantities={"adult": booked})
    db.session.commit()
    departure_id = departure.id
    results, errors = _race(pay_app, departure_id, utcnow(), threading.Barrier(2))
    assert errors == []
    decided = sum(len(r.ran) + len(r.cancelled) for r in results)
    db.session.rollback()
    assert decided == 1
    assert _decisions(departure_id) == 1


@pytest.mark.skipif(
    not is_postgres(),
    reason="SQLite lets one writer at a time from BEGIN IMMEDIATE to commit: two runners "
    "cannot overlap there even without the row lock (see docs/GROUPS.md)",
)
def test_negative_control_without_the_lock_decides_twice(pay_app, make, monkeypatch):
    """The same race with the departure lock taken away (PostgreSQL): both runners read the
    departure undecided and count before either writes, and both decide. Proves the test
    above can fail."""
    experience = _experience(make, minimum=3)
    departure = make.departure(experience, starts_in=timedelta(hours=20))
    make.booking(departure, quantities={"adult": 3})
    db.session.commit()
    departure_id = departure.id
    both_counted = threading.Barrier(2)
    real_count = availability.seats_taken_on

    def plain_read(session, wanted_id):
        return session.execute(select(Departure).where(Departure.id == wanted_id)).scalar_one()

    def count_then_wait(session, wanted_id, now):
        seats = real_count(session, wanted_id, now)
        both_counted.wait(timeout=30)  # each has read the departure undecided
        return seats

    monkeypatch.setattr(availability, "lock_departure", plain_read)
    monkeypatch.setattr(availability, "seats_taken_on", count_then_wait)
    results, errors = _race(pay_app, departure_id, utcnow())
    db.session.rollback()
    assert errors == []
    assert sum(len(r.ran) + len(r.cancelled) for r in results) == 2
    assert _decisions(departure_id) == 2

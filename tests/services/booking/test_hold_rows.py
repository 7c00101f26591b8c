"""The hold's writes (``hold_rows``): Core statements, a booking object that needs no reload,
the confirmed-seat counter moved only when the seats fit."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select

from tests.factories import SPLIT_PARTS
from tourism.database import utcnow, write_transactions
from tourism.errors import SoldOut
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    Job,
    JobState,
    Notification,
    Role,
)
from tourism.services.booking import bookable, hold_rows, references
from tourism.services.booking import lifecycle as svc
from tourism.services.booking.caps import HoldCaps
from tourism.services.ledger import split_rules

HOLD = timedelta(minutes=30)
LANGS = ["es", "en"]


@pytest.fixture(autouse=True)
def write_mode():
    """Service calls here run as a writing request would: SQLite's write lock taken up front."""
    with write_transactions():
        yield


@contextmanager
def counting():
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def on_arrival_request(departure, email="ana@example.org", adults=1) -> svc.HoldRequest:
    adult = next(pc for pc in departure.experience.price_categories if pc.code == "adult")
    return svc.HoldRequest(
        departure.id,
        {adult.id: adults},
        svc.ContactDetails("Ana Quispe", email, "+593 99 123 4567", "EC", "es"),
        held_from="a" * 32,
    )


def hold(session, request):
    return svc.hold_seats(
        session, request, utcnow(), HOLD, LANGS, accept_unpaid=True, caps=HoldCaps()
    )


def pay_on_arrival(session, departure, email="ana@example.org", adults=1):
    return hold(session, on_arrival_request(departure, email, adults))


def counter(session, departure_id) -> int:
    return session.scalar(select(Departure.seats_confirmed).where(Departure.id == departure_id))


def test_a_pay_on_arrival_hold_is_a_handful_of_statements(session, make):
    departure_id = make.departure(capacity=5).id
    session.commit()
    session.expunge_all()  # as a new request starts
    # The view has read the departure, its experience and prices (one statement).
    departure = bookable.bookable_departure(session, departure_id)
    request = on_arrival_request(departure)
    with counting() as statements:
        placed = svc.place_hold(
            session,
            request,
            utcnow(),
            HOLD,
            LANGS,
            accept_unpaid=True,
            caps=HoldCaps(),
            departure=departure,
        )
    assert placed.status == BookingStatus.CONFIRMED
    # The booking, its line, the caps' advisory locks and its email with the email's job
    # (one statement on PostgreSQL), the departure's lock with the caps' counts, the claim:
    # no reference lookup, no rule read, no status UPDATE, no count of its own for the caps.
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    assert len(statements) <= (3 if on_postgresql else 6), [s[:60] for s in statements]
    if on_postgresql:
        assert "pg_advisory_xact_lock" in statements[0] and "INTO booking_lines" in statements[0]
        assert "INTO notifications" in statements[0] and "INTO jobs" in statements[0]
    assert not any(s.startswith("UPDATE bookings") for s in statements), statements
    assert not any("FROM bookings WHERE bookings.reference" in s for s in statements)
    # No ORM booking or line was built for it; asked for, it is there with no statement.
    assert not any(isinstance(obj, Booking | BookingLine) for obj in session.identity_map.values())
    with counting() as statements:
        booking = placed.booking(session)
        assert booking.manage_token == placed.manage_token and booking.participants == 1
    assert statements == [] and placed.booking(session) is booking


def test_a_booking_with_several_lines_gets_each_its_own_id(session, make):
    departure = make.departure(capacity=5)
    admin = make.user(memberships=[(departure.experience.association, Role.ADMIN)])
    earlier = utcnow() - timedelta(days=1)
    rule_id = split_rules.approve_rule(
        session, departure.experience, SPLIT_PARTS, admin, earlier, earlier
    ).id
    ids = {pc.code: pc.id for pc in departure.experience.price_categories}
    request = on_arrival_request(departure)
    request.quantities = {ids["child"]: 2, ids["adult"]: 1}
    booking = hold(session, request)
    written = {line.id: (line.price_category_id, line.quantity) for line in booking.lines}
    booking_id, written_rule_id = booking.id, booking.split_rule_id
    session.commit()
    session.expunge_all()
    stored = session.get(Booking, booking_id)
    assert {line.id: (line.price_category_id, line.quantity) for line in stored.lines} == written
    assert sorted(written.values()) == sorted([(ids["adult"], 1), (ids["child"], 2)])
    assert stored.split_rule_id == written_rule_id == rule_id


def test_the_booking_comes_back_loaded_with_nothing_to_flush(session, make):
    departure = make.departure(capacity=5)
    booking = pay_on_arrival(session, departure, adults=2)
    assert not session.new and not session.dirty
    state = inspect(booking)
    columns = {attribute.key for attribute in inspect(Booking).column_attrs}
    assert state.persistent and not state.unloaded & columns, state.unloaded
    with counting() as statements:
        assert booking.participants == 2
        assert booking.departure is departure
        assert booking.lines[0].booking is booking
        assert booking.payments == [] and booking.channel is None
        assert booking.due_on_arrival_cents == booking.total_cents == 2 * 4500
        session.flush()
    assert statements == []
    session.commit()
    stored = session.get(Booking, booking.id)
    assert (stored.reference, stored.confirmed_at is not None) == (booking.reference, True)
    assert stored.hold_expires_at is None


def test_a_taken_reference_is_drawn_again(session, make, monkeypatch):
    departure = make.departure(capacity=5)
    first = pay_on_arrival(session, departure)
    code = departure.experience.association.code
    drawn = iter([first.reference, f"{code}-ABCDEF"])
    monkeypatch.setattr(hold_rows, "new_reference_candidate", lambda _code: next(drawn))
    second = pay_on_arrival(session, departure, email="bea@example.org")
    assert second.reference == f"{code}-ABCDEF"
    assert session.scalar(select(func.count()).select_from(Booking)) == 2
    assert references.new_reference_candidate(code).startswith(code + "-")


def test_the_counter_moves_only_when_the_seats_fit(session, make):
    departure = make.departure(capacity=3)
    first = pay_on_arrival(session, departure, adults=2)
    assert counter(session, departure.id) == 2
    with pytest.raises(SoldOut):
        pay_on_arrival(session, departure, email="bea@example.org", adults=2)
    # Nothing left behind, even for a caller that commits after catching it.
    session.commit()
    assert counter(session, departure.id) == 2
    assert session.scalar(select(func.count()).select_from(Booking)) == 1
    assert session.scalar(select(func.count()).select_from(BookingLine)) == 1
    # Its email and the email's job are gone with it: one of each, the first booking's.
    assert session.scalars(select(Notification.key)).all() == [f"booking:{first.id}:confirmed"]
    assert session.scalars(select(Job.key)).all() == [f"email:booking:{first.id}:confirmed"]


def test_the_email_queued_with_the_booking_is_the_one_the_outbox_queues(session, make):
    """The booking's insert queues its confirmation email (on PostgreSQL); a booking whose
    tourist asked for phone messages too has it queued by the outbox: the rows are alike."""
    departure = make.departure(capacity=5)
    plain = pay_on_arrival(session, departure)
    request = on_arrival_request(departure, email="bea@example.org")
    request.contact = svc.ContactDetails(
        "Bea", "bea@example.org", "+593 99 123 4567", "EC", "en", messages_opt_in=True
    )
    with_phone = hold(session, request)
    session.commit()

    def queued(booking):
        notification = session.scalar(
            select(Notification).where(Notification.booking_id == booking.id)
        )
        job = session.scalar(select(Job).where(Job.key == f"email:{notification.key}"))
        return notification, job

    for booking, language in ((plain, "es"), (with_phone, "en")):
        notification, job = queued(booking)
        assert notification.key == f"booking:{booking.id}:confirmed"
        assert (notification.kind, notification.recipient) == ("confirmed", booking.contact_email)
        assert (notification.language, notification.context) == (language, "{}")
        assert (notification.attempts, notification.last_error, notification.sent_at) == (
            0,
            "",
            None,
        )
        assert json.loads(job.payload) == {"notification_id": notification.id}
        assert (job.kind, job.state, job.attempts) == ("send-email", JobState.QUEUED, 0)
    (_, j1), (_, j2) = queued(plain), queued(with_phone)
    assert j1.max_attempts == j2.max_attempts and j1.locked_by == j2.locked_by == ""


def test_live_holds_count_against_a_confirmed_claim(session, make):
    departure = make.departure(capacity=3)
    adult = next(pc for pc in departure.experience.price_categories if pc.code == "adult")
    contact = svc.ContactDetails("Carla", "carla@example.org", "+593 99 123 4567", "EC", "es")
    request = svc.HoldRequest(departure.id, {adult.id: 2}, contact, payment_method="card")
    held = svc.hold_seats(session, request, utcnow(), HOLD, LANGS, offered_methods=["card"])
    assert held.status == BookingStatus.HELD
    assert counter(session, departure.id) == 0  # a hold is not on the counter
    with pytest.raises(SoldOut):
        pay_on_arrival(session, departure, adults=2)
    assert pay_on_arrival(session, departure, adults=1).status == BookingStatus.CONFIRMED
    assert counter(session, departure.id) == 1

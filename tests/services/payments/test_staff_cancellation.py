"""Staff cancel one booking: with a reason and the refund they choose (the policy's share
now, or everything paid), by card through the Stripe emulator, by bank transfer owed back
for the treasurer, nothing for pay on arrival; a route's leg refused; the audit row and the
tourist's email saying the association cancelled; every refusal changes nothing, and a
repeated request cancels and refunds once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.factories import Factories
from tests.services.groups.test_quotes import HOLD, ONLINE
from tests.services.groups.test_quotes import World as GroupWorld
from tests.services.payments.test_online import held_booking, pay, pay_app, settle  # noqa: F401
from tourism.database import utcnow
from tourism.errors import DomainError
from tourism.extensions import db
from tourism.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Notification,
    Refund,
    RefundStatus,
    Role,
)
from tourism.models.jobs import Job
from tourism.services.booking import seat_check
from tourism.services.groups import quote_answers, transfers
from tourism.services.ledger import checks
from tourism.services.messages import outbox
from tourism.services.payments import intents, staff_cancellation

REASON = "Our guide for this private visit is ill"
POLICY = [{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}]


@pytest.fixture
def make(pay_app):  # noqa: F811
    return Factories(db.session)


def _staff(make, booking):
    association = booking.departure.experience.association
    return make.user(password="", memberships=[(association, Role.STAFF)])


def _cancel(booking, staff, refund="policy", reason=REASON, gateway=None, now=None):
    return staff_cancellation.cancel_by_association(
        db.session, booking, reason, refund, staff, gateway, now or utcnow()
    )


def _card_paid(make, gateway, starts_in=timedelta(hours=30)):
    booking = held_booking(make, starts_in=starts_in)
    booking.departure.experience.cancellation_policy = POLICY
    payment = pay(gateway, booking)
    intents.sync_booking(db.session, booking, gateway, utcnow())
    assert booking.status == BookingStatus.CONFIRMED
    return booking, payment


def _notes(booking, kind="cancelled"):
    return db.session.scalars(
        select(Notification).where(Notification.booking_id == booking.id, Notification.kind == kind)
    ).all()


def _plain(note) -> str:
    return outbox.build_message(note).get_body(("plain",)).get_content()


@pytest.mark.parametrize(("choice", "percent"), [("policy", 50), ("full", 100)])
def test_a_card_payment_is_refunded_as_staff_chose(make, gateway, choice, percent):
    booking, payment = _card_paid(make, gateway)  # 30 hours ahead: the policy gives 50 %
    previews = staff_cancellation.refund_previews(db.session, booking, utcnow())
    assert previews == {"policy": booking.total_cents // 2, "full": booking.total_cents}
    refunded = _cancel(booking, _staff(make, booking), choice, gateway=gateway)
    assert refunded == booking.total_cents * percent // 100 == previews[choice]
    assert booking.status == BookingStatus.CANCELLED and booking.cancel_reason == REASON
    settle(gateway)
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == refunded
    db.session.refresh(payment)
    assert payment.refunded_cents == refunded
    # The ledger's invariants hold after the reversal, and the seat counters follow.
    assert checks.check(db.session) == []
    assert seat_check.mismatches(db.session) == []
    assert booking.departure.seats_confirmed == 0


def test_a_bank_transfer_is_owed_back_for_the_treasurer(make):
    world = GroupWorld(make)
    quote = world.quote()
    quote_answers.accept_quote(db.session, quote, "bank_transfer", ONLINE, world.now, HOLD)
    transfers.mark_transfer_paid(db.session, quote, world.admin, world.now)
    booking = quote.booking
    refunded = _cancel(booking, world.admin, "full", now=world.now)
    assert refunded == 100_000 == transfers.owed_back(db.session, quote)
    [owed] = db.session.scalars(select(Refund)).all()
    assert owed.status == RefundStatus.PENDING and owed.provider_ref is None
    # Never paid through Stripe: no job, and the treasurer records it paid.
    assert db.session.scalar(select(func.count(Job.id)).where(Job.kind == "pay-refund")) == 0
    assert checks.check(db.session) == []
    text = _plain(_notes(booking)[0])
    assert "pays $1,000.00 back to you by bank transfer" in text and "card" not in text


def test_pay_on_arrival_refunds_nothing(make):
    departure = make.departure(starts_in=timedelta(days=4))
    booking = make.booking(departure, quantities={"adult": 2}, language="en")
    booking.payment_method = "on_arrival"
    db.session.flush()
    assert staff_cancellation.refund_previews(db.session, booking, utcnow()) == {
        "policy": 0,
        "full": 0,
    }
    assert _cancel(booking, _staff(make, booking), "full") == 0
    assert booking.status == BookingStatus.CANCELLED
    assert db.session.scalar(select(func.count(Refund.id))) == 0
    assert "You had not paid anything online" in _plain(_notes(booking)[0])


def test_a_held_booking_is_cancelled_and_its_seats_free(make):
    departure = make.departure(capacity=3, starts_in=timedelta(days=4))
    booking = make.booking(departure, quantities={"adult": 3}, status=BookingStatus.HELD)
    db.session.flush()
    assert _cancel(booking, _staff(make, booking)) == 0
    assert booking.status == BookingStatus.CANCELLED and booking.hold_expires_at is None


@pytest.mark.parametrize(
    ("language", "cancelled", "reason", "not_said"),
    [
        ("en", "the association has cancelled booking", "The reason: ", "As you asked"),
        ("es", "la asociación ha cancelado la reserva", "El motivo: ", "Como lo pediste"),
    ],
)
def test_the_email_says_the_association_cancelled_with_the_reason(
    make, language, cancelled, reason, not_said
):
    departure = make.departure(starts_in=timedelta(days=4))
    booking = make.booking(departure, language=language)
    _cancel(booking, _staff(make, booking))
    [note] = _notes(booking)
    assert json.loads(note.context)["by_association"] is True
    message = outbox.build_message(note)
    for part in ("plain", "html"):
        body = message.get_body((part,)).get_content()
        assert cancelled in body and reason + REASON in body and not_said not in body
    # Still a cancellation for the tourist's calendar.
    calendar = next(p for p in message.iter_attachments() if p.get_filename().endswith(".ics"))
    ics = calendar.get_content()
    assert "METHOD:CANCEL" in (ics.decode() if isinstance(ics, bytes) else ics)


def test_the_tourists_own_cancellation_email_is_unchanged(make):
    from tourism.services.payments import refunds

    departure = make.departure(starts_in=timedelta(days=4))
    booking = make.booking(departure, language="en")
    refunds.cancel_with_refund(db.session, booking, None, utcnow())
    text = _plain(_notes(booking)[0])
    assert "As you asked, we have cancelled" in text and "association has cancelled" not in text


def test_the_cancellation_is_audited_with_who_why_and_the_refund(make):
    departure = make.departure(starts_in=timedelta(days=4))
    booking = make.booking(departure)
    staff = _staff(make, booking)
    _cancel(booking, staff, "full")
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == staff_cancellation.STAFF_CANCELLED_ACTION)
    ).one()
    assert event.actor == staff.email and booking.reference in event.target
    assert event.association_id == departure.experience.association_id
    assert "refund full" in event.detail and REASON in event.detail


def test_a_repeated_request_cancels_and_refunds_once(make, gateway):
    booking, _payment = _card_paid(make, gateway, starts_in=timedelta(days=5))
    staff = _staff(make, booking)
    assert _cancel(booking, staff, "full", gateway=gateway) == booking.total_cents
    with pytest.raises(staff_cancellation.NotCancellable) as refused:
        _cancel(booking, staff, "full", gateway=gateway)
    assert refused.value.status_code == 409
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert len(_notes(booking)) == 1
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == staff_cancellation.STAFF_CANCELLED_ACTION
            )
        )
        == 1
    )


def _refusal(make, kind):
    """A booking staff may not cancel, or may with bad input: (booking, call kwargs)."""
    starts_in = timedelta(hours=-1) if kind == "started" else timedelta(days=4)
    departure = make.departure(starts_in=starts_in)
    booking = make.booking(departure)
    db.session.flush()
    kwargs = {}
    if kind == "route":
        make.route_booking_of(booking)
    elif kind == "cancelled":
        booking.status = BookingStatus.CANCELLED
    elif kind == "checked in":
        booking.checked_in_at = utcnow()
    elif kind == "no reason":
        kwargs["reason"] = "   "
    elif kind == "two lines":
        kwargs["reason"] = "Guide ill\nSorry"
    elif kind == "too long":
        kwargs["reason"] = "x" * 301
    elif kind == "unknown refund":
        kwargs["refund"] = "half"
    db.session.flush()
    return booking, kwargs


@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        ("route", staff_cancellation.RouteLeg, 409),
        ("cancelled", staff_cancellation.NotCancellable, 409),
        ("started", staff_cancellation.NotCancellable, 409),
        ("checked in", staff_cancellation.NotCancellable, 409),
        ("no reason", staff_cancellation.BadReason, 400),
        ("two lines", staff_cancellation.BadReason, 400),
        ("too long", staff_cancellation.BadReason, 400),
        ("unknown refund", staff_cancellation.UnknownRefundChoice, 400),
    ],
)
def test_refusals_change_nothing(make, kind, error, status):
    booking, kwargs = _refusal(make, kind)
    before = booking.status
    with pytest.raises(error) as refused:
        _cancel(booking, _staff(make, booking), **kwargs)
    assert isinstance(refused.value, DomainError) and refused.value.status_code == status
    assert booking.status == before and booking.cancel_reason == ""
    assert _notes(booking) == []
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


@pytest.mark.parametrize("mark", ["checked_in_at", "no_show_at"])
def test_a_check_in_made_meanwhile_is_read_under_the_lock(make, mark):
    """The guide checks the party in (or marks it absent) after staff opened the booking:
    the row changed under the loaded object, as a check-in committed just before the lock
    would. The cancellation reads it again under the departure's lock and refuses."""
    departure = make.departure(starts_in=timedelta(days=4))
    booking = make.booking(departure)
    db.session.flush()
    staff = _staff(make, booking)
    db.session.execute(
        update(Booking).where(Booking.id == booking.id).values({mark: utcnow()}),
        execution_options={"synchronize_session": False},
    )
    assert getattr(booking, mark) is None  # what staff's page read
    with pytest.raises(staff_cancellation.NotCancellable):
        _cancel(booking, staff)
    assert booking.status == BookingStatus.CONFIRMED and getattr(booking, mark) is not None
    assert _notes(booking) == []

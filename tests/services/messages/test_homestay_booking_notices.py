"""Host families hear of the homestay nights sold with a single experience booking: when it
is confirmed (at the hold, or later by a payment), cancelled (by the tourist, or with its
departure) or moved by staff to another date; by their channel, once each, never a family
that cannot be reached, and the needs only in the booked notice."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from tests.services.booking.test_lifecycle import HOLD, LANGS, contact, request_for
from tests.sql_log import statements_run
from tourism.database import utcnow, write_transactions
from tourism.models import (
    BookingStatus,
    Notification,
    PhoneMessage,
    Role,
)
from tourism.services.booking import addons, lifecycle, rebooking
from tourism.services.messages import homestay_booking_notices as notices
from tourism.services.payments import refunds, webhooks
from tourism.services.payments.stripe_gateway import ChargeInfo, RefundInfo
from tourism.timefmt import local, local_to_utc, local_today

FAMILY_PHONE = "+593987654321"
NEEDS = "vegetarian, no peanuts"


@pytest.fixture
def app(make_app, messaging_fake):
    app = make_app(**messaging_fake.config(), PUBLIC_URL="https://chakra.example")
    with app.app_context(), write_transactions():
        yield app


class Stay:
    """An experience whose bookings may add a night before it at the Grefa family's (told by
    WhatsApp) and a night after it at the Andi family's (told by email)."""

    def __init__(self, session, make) -> None:
        self.session, self.make = session, make
        self.association = make.association()
        self.experience = make.experience(self.association)
        day = local_today() + timedelta(days=5)
        self.departure = make.departure(
            self.experience, capacity=20, starts_at=local_to_utc(day, time(8, 30))
        )
        self.later = make.departure(
            self.experience, capacity=20, starts_at=local_to_utc(day + timedelta(days=4), time(9))
        )
        self.by_phone = make.family(
            self.association,
            message_phone=FAMILY_PHONE,
            message_consent_at=utcnow(),
            message_channel="whatsapp",
            languages="qu,en",
        )
        self.by_email = make.family(self.association, email="casa.andi@example.org")
        self.before = make.homestay(self.by_phone, capacity=4, price=2500)
        self.after = make.homestay(self.by_email, capacity=4, price=2000)
        self.staff = make.user(password="", memberships=[(self.association, Role.STAFF)])
        session.flush()

    def hold(self, method="on_arrival", nights=None, **qty):
        details = contact(name="Ana Quispe", special_needs=NEEDS, special_needs_consent=True)
        request = request_for(self.departure, details, **(qty or {"adult": 2}))
        request.payment_method = method
        request.addons = addons.AddonRequest(
            nights={"before": self.before.id, "after": self.after.id} if nights is None else nights
        )
        return lifecycle.hold_seats(
            self.session,
            request,
            utcnow(),
            HOLD,
            LANGS,
            offered_methods=["on_arrival", "card"],
            accept_unpaid=True,
        )


@pytest.fixture
def stay(session, make) -> Stay:
    return Stay(session, make)


def phoned(session, kind):
    return list(
        session.scalars(
            select(PhoneMessage).where(PhoneMessage.kind == kind).order_by(PhoneMessage.id)
        )
    )


def emailed(session, kind):
    found = session.scalars(
        select(Notification).where(Notification.kind == "notice").order_by(Notification.id)
    )
    return [n for n in found if json.loads(n.context)["kind"] == kind]


def body(notification: Notification) -> str:
    return json.loads(notification.context)["body"]


def test_a_pay_on_arrival_booking_with_nights_tells_each_host_family_at_the_hold(session, stay):
    booking = stay.hold()
    assert booking.status == BookingStatus.CONFIRMED
    day = local(stay.departure.starts_at).date()
    (message,) = phoned(session, "homestay_booked")
    assert message.family_id == stay.by_phone.id and message.recipient == FAMILY_PHONE
    assert message.key == (
        f"family:{stay.by_phone.id}:homestay:booking:{booking.id}:homestay_booked:whatsapp"
    )
    assert message.language == "en"
    guests, needs = json.loads(message.variables)
    assert guests.startswith("Ana, 2 people, night ") and f"{day - timedelta(days=1):%-d}" in guests
    assert needs == f"Ana: {NEEDS}"
    (mail,) = emailed(session, "homestay_booked")
    assert mail.recipient == "casa.andi@example.org"
    assert (
        mail.key == f"family:{stay.by_email.id}:homestay:booking:{booking.id}:homestay_booked:email"
    )
    assert body(mail).startswith("Chakra Routes: nuevos huéspedes en casa: Ana, 2 personas, noche")
    # First names, people, nights and needs only: no surname, contact or reference.
    everything = message.body + json.dumps(message.variables) + mail.context
    for private in ("Quispe", "ana@example.org", booking.reference, "99 123"):
        assert private not in everything


def test_a_card_payment_confirms_and_tells_the_families_once(session, stay):
    booking = stay.hold(method="card")
    assert booking.status == BookingStatus.HELD
    assert phoned(session, "homestay_booked") == [] and emailed(session, "homestay_booked") == []
    # As a card payment, a bank transfer marked paid or an accepted quote confirms it.
    lifecycle.confirm_booking(session, booking, "card", utcnow())
    assert len(phoned(session, "homestay_booked")) == 1
    assert len(emailed(session, "homestay_booked")) == 1
    # Replayed (the same payment event again, or the notice itself): nothing more.
    lifecycle.confirm_booking(session, booking, "card", utcnow())
    assert notices.queue_booking_homestays(session, booking, notices.BOOKED) == 0
    assert len(phoned(session, "homestay_booked")) == 1
    assert len(emailed(session, "homestay_booked")) == 1


def test_a_family_that_cannot_be_reached_gets_nothing(session, stay):
    stay.by_email.email = ""
    stay.by_phone.message_consent_at = None  # a number, but no consent
    booking = stay.hold()
    lifecycle.cancel_booking(session, booking, utcnow())
    assert session.scalars(select(PhoneMessage)).all() == []
    assert emailed(session, "homestay_booked") + emailed(session, "homestay_cancelled") == []


def test_the_tourist_cancelling_tells_each_family_without_the_needs(session, stay):
    booking = stay.hold()
    refunds.cancel_with_refund(session, booking, None, utcnow())
    (message,) = phoned(session, "homestay_cancelled")
    (mail,) = emailed(session, "homestay_cancelled")
    assert message.key.endswith(f":homestay:booking:{booking.id}:homestay_cancelled:whatsapp")
    assert json.loads(message.variables)[0].startswith("Ana, 2 people, night ")
    assert body(mail).startswith("Chakra Routes: huéspedes cancelados: Ana, 2 personas, noche")
    for text in (message.body, message.variables, body(mail)):
        assert "peanuts" not in text and "Quispe" not in text
    # Replayed: nothing more.
    assert notices.queue_booking_homestays(session, booking, notices.CANCELLED) == 0
    assert len(phoned(session, "homestay_cancelled")) == 1


def test_a_held_booking_that_is_cancelled_tells_no_family(session, stay):
    booking = stay.hold(method="card")
    lifecycle.cancel_booking(session, booking, utcnow())
    assert phoned(session, "homestay_cancelled") == []
    assert emailed(session, "homestay_cancelled") == []


def test_a_cancelled_departure_tells_the_families_of_its_confirmed_bookings_only(session, stay):
    first = stay.hold()
    second = stay.hold(nights={"before": stay.before.id}, adult=1)
    held = stay.hold(method="card", nights={"before": stay.before.id}, adult=1)
    # Weather, a river, or too few visitors (``operations.minimums``) all come here.
    refunds.cancel_departure(session, stay.departure, "River too high", None, utcnow())
    assert held.status == BookingStatus.CANCELLED
    by_phone = phoned(session, "homestay_cancelled")
    assert sorted(m.key.split(":")[4] for m in by_phone) == sorted([str(first.id), str(second.id)])
    (mail,) = emailed(session, "homestay_cancelled")
    assert f":booking:{first.id}:" in mail.key


def test_moves_tell_each_family_the_old_nights_cancelled_and_the_new_booked(session, stay):
    booking = stay.hold()
    old_night = local(stay.departure.starts_at).date() - timedelta(days=1)
    new_night = local(stay.later.starts_at).date() - timedelta(days=1)
    rebooking.change_date(session, booking, stay.later.id, stay.staff, utcnow())
    cancelled = phoned(session, "homestay_cancelled")
    booked = phoned(session, "homestay_booked")
    assert [m.key for m in cancelled] == [
        f"family:{stay.by_phone.id}:homestay:booking:{booking.id}:homestay_cancelled:move:1"
        ":whatsapp"
    ]
    assert [m.key for m in booked][1:] == [
        f"family:{stay.by_phone.id}:homestay:booking:{booking.id}:homestay_booked:move:1:whatsapp"
    ]
    said_cancelled = json.loads(cancelled[0].variables)[0]
    said_booked = json.loads(booked[1].variables)[0]
    assert f"{old_night:%-d}" in said_cancelled and f"{new_night:%-d}" in said_booked
    assert "peanuts" not in cancelled[0].body and "peanuts" in booked[1].body
    assert len(emailed(session, "homestay_cancelled")) == 1
    assert len(emailed(session, "homestay_booked")) == 2
    # Moved back: a second pair; a replay of a move's notices queues nothing.
    rebooking.change_date(session, booking, stay.departure.id, stay.staff, utcnow())
    assert [m.key.split(":")[-2] for m in phoned(session, "homestay_cancelled")] == ["1", "2"]
    before = notices.stays_of(booking)
    assert notices.queue_booking_moved(session, booking, before, 2) == 0  # nothing moved
    assert notices.queue_booking_homestays(session, booking, notices.BOOKED, move=2) == 0
    # The cancellation after the moves is a message of its own.
    lifecycle.cancel_booking(session, booking, utcnow())
    assert len(phoned(session, "homestay_cancelled")) == 3


def test_a_held_booking_moved_tells_no_family(session, stay):
    booking = stay.hold(method="card")
    rebooking.change_date(session, booking, stay.later.id, stay.staff, utcnow())
    assert session.scalars(select(PhoneMessage)).all() == []
    assert emailed(session, "homestay_cancelled") + emailed(session, "homestay_booked") == []


def test_a_booking_of_tickets_alone_reads_no_night_or_family(session, stay):
    """The usual hold (tickets alone, ``hold_rows``) runs no statement for host families."""
    with statements_run(session) as statements:
        booking = stay.hold(nights={})
    assert booking.status == BookingStatus.CONFIRMED
    assert not any("booking_nights" in s or "families" in s for s in statements)


def test_a_full_refund_from_the_payment_dashboard_tells_the_families(session, make, stay):
    """A confirmed card booking refunded in full in Stripe's dashboard keeps nothing and
    frees its seats (``payments.webhooks.record_refunds``): its families hear it is off,
    as the tourist does; a partial refund before it said nothing."""
    booking = stay.hold(method="card")
    payment = make.card_payment(booking)
    lifecycle.confirm_booking(session, booking, "card", utcnow())

    def charge(*amounts: int) -> ChargeInfo:
        refunds = tuple(
            RefundInfo(f"re_{payment.id}_{n}", amount, "succeeded", payment.charge_ref)
            for n, amount in enumerate(amounts)
        )
        return ChargeInfo(
            payment.charge_ref, payment.provider_ref, payment.amount_cents, sum(amounts), refunds
        )

    webhooks.record_refunds(session, charge(1000))
    assert booking.status == BookingStatus.CONFIRMED
    assert phoned(session, "homestay_cancelled") == []
    webhooks.record_refunds(session, charge(1000, payment.amount_cents - 1000))
    assert booking.status == BookingStatus.REFUNDED
    (message,) = phoned(session, "homestay_cancelled")
    assert message.key.endswith(f":homestay:booking:{booking.id}:homestay_cancelled:whatsapp")
    assert len(emailed(session, "homestay_cancelled")) == 1
    told = session.scalars(
        select(Notification).where(
            Notification.booking_id == booking.id, Notification.kind == "refunded"
        )
    ).all()
    assert [json.loads(n.context)["refund_cents"] for n in told] == [payment.amount_cents]
    # The same refunds reported again: recorded once, told once.
    webhooks.record_refunds(session, charge(1000, payment.amount_cents - 1000))
    assert len(phoned(session, "homestay_cancelled")) == 1

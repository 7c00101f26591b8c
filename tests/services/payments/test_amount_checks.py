"""A payment confirms a booking only when Stripe received what we asked for.

Anyone holding the account's secret key (or a bug) can make a PaymentIntent with our
metadata for another amount, or change the amount of ours before paying; the webhook that
follows is genuinely signed. Each test shows the check is what refuses it: the same intent
applied with ``check_amounts=False`` confirms the booking (the negative control).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.stripe_emulator import sign_event
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import AuditEvent, Booking, BookingStatus, Payment, PaymentStatus, Refund
from tourism.models.ledger import LedgerTransaction
from tourism.services.access import audit
from tourism.services.booking.pricing import online_due
from tourism.services.ledger import checks
from tourism.services.payments import intents, refunds
from tourism.services.payments import online as payments

HOLD = timedelta(minutes=30)
WEBHOOK_SECRET = "whsec_test_chakra"


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "out"), **stripe_settings)
    with app.app_context(), write_transactions():
        yield app


@pytest.fixture
def make(pay_app):
    return Factories(db.session)


def held_booking(make, qty=2) -> Booking:
    departure = make.departure(capacity=10, starts_in=timedelta(days=5))
    booking = make.booking(departure, quantities={"adult": qty}, status=BookingStatus.HELD)
    booking.payment_method = "card"
    booking.online_due_cents = online_due(booking.total_cents, "card", 30)
    db.session.flush()
    return booking


def foreign_intent(gateway, booking, amount: int, currency: str = "usd"):
    """An intent made in our Stripe account, not by the app, naming the booking; paid."""
    intent = gateway.create_intent(
        amount,
        currency,
        metadata={"booking_id": str(booking.id), "booking_reference": booking.reference},
        idempotency_key="foreign-" + uuid.uuid4().hex,
    )
    return gateway.confirm_intent(intent.id, "pm_card_visa")


def ledger_transactions() -> int:
    return db.session.scalar(select(func.count(LedgerTransaction.id)))


@pytest.mark.parametrize(("amount", "currency"), [(100, "usd"), (None, "eur")])
def test_a_foreign_intent_for_another_amount_or_currency_never_confirms(
    make, gateway, amount, currency
):
    booking = held_booking(make)
    due = booking.online_due_cents
    paid = foreign_intent(gateway, booking, amount or due, currency)
    assert paid.status == "succeeded"

    outcome = intents.apply_intent(db.session, gateway.retrieve_intent(paid.id), gateway, utcnow())
    assert outcome == "mismatch: refunded"
    assert booking.status == BookingStatus.HELD
    payment = db.session.scalars(select(Payment)).one()
    assert payment.status == PaymentStatus.MISMATCH
    assert (payment.amount_cents, payment.currency) == (due, "USD")  # what the booking owes
    assert (payment.received_cents, payment.received_currency) == (
        amount or due,
        currency.upper(),
    )
    assert ledger_transactions() == 0 and checks.check(db.session) == []
    assert db.session.scalars(select(AuditEvent.action)).all().count(audit.PAYMENT_MISMATCH) == 1
    # The money is owed back in full and paid after the commit, once.
    assert refunds.finish_refunds(db.session, gateway)["paid"]
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == (amount or due)
    intents.apply_intent(db.session, gateway.retrieve_intent(paid.id), gateway, utcnow())
    assert db.session.scalar(select(func.count(Refund.id))) == 1
    assert booking.status == BookingStatus.HELD


def test_negative_control_without_the_check_the_foreign_intent_confirms(make, gateway):
    booking = held_booking(make)
    paid = foreign_intent(gateway, booking, 100)
    outcome = intents.apply_intent(
        db.session, gateway.retrieve_intent(paid.id), gateway, utcnow(), check_amounts=False
    )
    assert outcome == "confirmed" and booking.status == BookingStatus.CONFIRMED


def test_lowering_our_own_intent_before_paying_never_confirms(make, gateway):
    booking = held_booking(make)
    start = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    intent_id = start.payment.provider_ref
    gateway.client.v1.payment_intents.update(intent_id, params={"amount": 50})
    gateway.confirm_intent(intent_id, "pm_card_visa")
    intent = gateway.retrieve_intent(intent_id)
    assert intent.status == "succeeded" and intent.amount_received == 50

    assert intents.apply_intent(db.session, intent, gateway, utcnow()) == "mismatch: refunded"
    payment = db.session.get(Payment, start.payment.id)
    assert payment.status == PaymentStatus.MISMATCH and payment.received_cents == 50
    assert booking.status == BookingStatus.HELD
    # Negative control: the same intent without the check would have confirmed the booking.
    payment.status = PaymentStatus.PENDING
    db.session.flush()
    assert (
        intents.apply_intent(db.session, intent, gateway, utcnow(), check_amounts=False)
        == "confirmed"
    )


def test_the_card_page_does_not_reuse_an_intent_changed_at_stripe(make, gateway):
    booking = held_booking(make)
    first = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    gateway.client.v1.payment_intents.update(first.payment.provider_ref, params={"amount": 50})
    again = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
    assert again.payment.provider_ref != first.payment.provider_ref
    assert again.payment.amount_cents == booking.online_due_cents
    assert db.session.get(Payment, first.payment.id).status == PaymentStatus.CANCELED


def test_a_signed_webhook_for_a_foreign_intent_does_not_confirm(pay_app, make, gateway):
    booking = held_booking(make)
    db.session.commit()
    paid = foreign_intent(gateway, booking, 100)
    payload = {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(utcnow().timestamp()),
        "data": {"object": {"id": paid.id, "object": "payment_intent"}},
    }
    body, header = sign_event(payload, WEBHOOK_SECRET)
    response = pay_app.test_client().post(
        "/webhooks/stripe",
        data=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.HELD
    payment = db.session.scalars(select(Payment)).one()
    assert payment.status == PaymentStatus.MISMATCH
    # The refund was paid after the webhook's commit.
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == 100


def test_the_right_amount_still_confirms(make, gateway):
    booking = held_booking(make)
    paid = foreign_intent(gateway, booking, booking.online_due_cents)
    assert intents.apply_intent(db.session, gateway.retrieve_intent(paid.id), gateway, utcnow())
    assert booking.status == BookingStatus.CONFIRMED

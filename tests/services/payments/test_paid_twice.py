"""A booking charged twice (a second tab, a charge whose answer was lost, an intent made at
Stripe with our metadata) keeps one charge: the second is given back in full, and the card
page never opens a new charge over one that went through."""

from __future__ import annotations

from sqlalchemy import select

from tests.services.payments.test_webhooks import (
    client,
    intent_event,
    make,
    outbox,
    paid_booking,
    pay_app,
    post_event,
)
from tests.stripe_emulator import confirm_card_setup
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Payment, PaymentStatus, Refund
from tourism.services.ledger import checks
from tourism.services.payments import online as payments

__all__ = ["client", "make", "outbox", "pay_app"]  # the fixtures, shared


def _succeeded(client, intent_id: str) -> dict:
    response = post_event(client, intent_event("payment_intent.succeeded", intent_id))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_second_charge_for_a_booking_paid_already_is_refunded_in_full(client, make, gateway):
    booking, payment = paid_booking(make, gateway)
    assert _succeeded(client, payment.provider_ref)["result"] == "confirmed"
    # A second intent for the same booking, charged: Stripe took the money again.
    second = gateway.create_intent(
        booking.online_due_cents,
        booking.currency,
        metadata={"booking_id": str(booking.id), "booking_reference": booking.reference},
        idempotency_key=f"second-{booking.id}",
    )
    assert gateway.confirm_intent(second.id, "pm_card_visa").status == "succeeded"
    assert _succeeded(client, second.id)["result"].endswith("paid already")
    db.session.expire_all()
    again = db.session.scalar(select(Payment).where(Payment.provider_ref == second.id))
    refund = db.session.scalar(select(Refund).where(Refund.payment_id == again.id))
    assert (refund.amount_cents, refund.reason) == (again.amount_cents, "duplicate")
    kept = db.session.get(Booking, booking.id)
    assert kept.status == BookingStatus.CONFIRMED
    assert kept.paid_online_cents == kept.online_due_cents
    assert checks.check(db.session) == []


def test_the_card_page_applies_a_charge_that_went_through_instead_of_charging_again(
    client, make, gateway
):
    """The card was charged but our answer never came back (or another tab paid): opening
    the card page again leads to the page that applies it, not to a new charge."""
    booking, payment = paid_booking(make, gateway)  # charged at Stripe, not applied here
    page = client.get(f"/bookings/{booking.manage_token}/pay")
    assert page.status_code == 303
    assert page.headers["Location"].endswith(f"/bookings/{booking.manage_token}/processing")
    db.session.expire_all()
    payments = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).all()
    assert [(p.provider_ref, p.status) for p in payments] == [
        (payment.provider_ref, PaymentStatus.PENDING)
    ]
    client.get(page.headers["Location"])
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert checks.check(db.session) == []


def test_a_charge_refused_because_another_tab_paid_returns_the_paid_intent(
    client, make, gateway, stripe_settings
):
    """Two tabs charge at the same moment: Stripe refuses the second (the intent is paid)
    as it would refuse a card. That is no refusal for the visitor: the paid intent is
    returned to be applied."""
    booking, payment = paid_booking(make, gateway)  # the other tab's charge went through
    setup_id, setup_secret = gateway.create_setup_intent(idempotency_key=f"tab-{booking.id}")
    confirm_card_setup(stripe_settings["STRIPE_API_BASE"], "pk_test_chakra", setup_secret)
    intent = payments.pay_with_card(db.session, booking, setup_id, gateway)
    assert (intent.id, intent.status) == (payment.provider_ref, "succeeded")

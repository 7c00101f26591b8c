"""Applying Stripe's answer about a PaymentIntent: confirm the booking when the intent
paid exactly what was asked in the booking's currency, record and refund anything else,
post fees learned later; used by webhooks, the processing page and reconcile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import faults
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Payment,
    PaymentStatus,
)
from ...text_input import ascii_whole_number
from ...unit_of_work import release
from ..access import audit
from ..booking import availability
from ..booking import lifecycle as booking_service
from ..ledger import adjustments as postings_later
from ..ledger import postings
from ..messages import outbox as notifications
from . import route_card
from .refunds import (
    payments_of,
    refund_payment,
)
from .stripe_gateway import IntentInfo, StripeGateway

#: PaymentIntent statuses in which the same intent can still be paid.


def _payment_for_intent(session: Session, intent: IntentInfo, now: datetime) -> Payment | None:
    payment = session.execute(
        select(Payment).where(Payment.provider_ref == intent.id)
    ).scalar_one_or_none()
    if payment is not None:
        return payment
    # A PaymentIntent we never recorded (a crash between Stripe and our commit): find the
    # booking from the metadata we attached when creating it. Anyone with the secret key can
    # write that metadata, so what the payment must bring is what the booking owes, never
    # what the intent says.
    booking_id = intent.metadata.get("booking_id", "")
    number = ascii_whole_number(booking_id)
    booking = session.get(Booking, number) if number is not None else None
    if booking is None or booking.reference != intent.metadata.get("booking_reference"):
        return None
    attempts = session.scalar(
        select(func.count(Payment.id)).where(Payment.booking_id == booking.id)
    )
    payment = Payment(
        booking_id=booking.id,
        provider="stripe",
        provider_ref=intent.id,
        attempt=attempts + 1,
        amount_cents=booking.online_due_cents,
        currency=booking.currency,
        status=PaymentStatus.PENDING,
        created_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def apply_intent(
    session: Session,
    intent: IntentInfo,
    gateway: StripeGateway | None,
    now: datetime,
    check_amounts: bool = True,
) -> str:
    """Bring our records in line with a PaymentIntent as Stripe reports it now.

    Idempotent and order-proof: it looks only at the intent's current state, so applying it
    twice, or after an older event, changes nothing. Makes no network call (refunds it
    decides on are owed, and paid after the commit). Returns what happened, for logs.

    A succeeded intent confirms only when it received exactly the amount, in the currency,
    that we asked for; anything else is a ``mismatch`` (``check_amounts=False`` exists only
    so tests can show what the check prevents).
    """
    if route_card.is_route_intent(session, intent):
        # A whole route's intent: confirmed, split and refunded as a route (``route_card``).
        return route_card.apply_route_intent(session, intent, gateway, now, check_amounts)
    payment = _payment_for_intent(session, intent, now)
    if payment is None:
        return "ignored: not ours"
    booking = session.get(Booking, payment.booking_id)
    availability.lock_departure(session, booking.departure_id)
    session.refresh(payment)
    session.refresh(booking)

    if intent.status == "succeeded":
        if payment.status == PaymentStatus.MISMATCH:
            return "unchanged"
        if payment.status == PaymentStatus.SUCCEEDED:
            if payment.fee_cents is None and intent.fee_cents is not None:
                payment.fee_cents = intent.fee_cents
                session.flush()
                postings_later.post_fee(session, payment)
                return "fee recorded"
            return "unchanged"
        if check_amounts and not intent.matches(payment.amount_cents, payment.currency):
            return _record_mismatch(session, booking, payment, intent, gateway, now)
        payment.status = PaymentStatus.SUCCEEDED
        payment.succeeded_at = now
        payment.charge_ref = intent.charge_id
        payment.fee_cents = intent.fee_cents
        payment.failure_message = ""
        session.flush()
        postings.post_payment(session, payment)
        outcome = _settle_paid_booking(session, booking, payment, gateway, now)
        faults.point("payments.applied")
        return outcome
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH):
        return "unchanged"  # never downgrade a payment Stripe once took
    if intent.status == "canceled":
        payment.status = PaymentStatus.CANCELED
        return "canceled"
    if intent.failure_message:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = intent.failure_message[:300]
        return "failed"
    return "pending"


def _record_mismatch(
    session: Session,
    booking: Booking,
    payment: Payment,
    intent: IntentInfo,
    gateway: StripeGateway | None,
    now: datetime,
) -> str:
    """Stripe took money that is not what we asked for: keep it apart from the split, give
    it all back, and tell the association. The booking stays as it was (held seats lapse)."""
    received = intent.amount_received or 0
    payment.status = PaymentStatus.MISMATCH
    payment.succeeded_at = now
    payment.charge_ref = intent.charge_id
    payment.fee_cents = intent.fee_cents
    payment.received_cents = received
    payment.received_currency = intent.currency[:3]
    payment.failure_message = (
        f"received {received} {intent.currency}, asked {payment.amount_cents} {payment.currency}"
    )[:300]
    session.flush()
    audit.record(
        session,
        audit.PAYMENT_MISMATCH,
        target=f"booking:{booking.reference}",
        association_id=booking.departure.experience.association_id,
        detail=f"payment {payment.id} ({intent.id}): {payment.failure_message}",
        at=now,
    )
    refund_payment(session, payment, received, "mismatch", gateway)
    return "mismatch: refunded"


def _settle_paid_booking(
    session: Session, booking: Booking, payment: Payment, gateway, now: datetime
) -> str:
    """A payment just succeeded: confirm the booking, or refund if its seats are gone, or
    if it was paid already (a second tab, a charge whose answer was lost, an intent made
    at Stripe with our metadata): a second charge is given back in full, never kept."""
    if booking.status == BookingStatus.CONFIRMED:
        paid_before = sum(
            p.net_cents
            for p in payments_of(session, booking)
            if p.id != payment.id and p.provider == "stripe" and p.status == PaymentStatus.SUCCEEDED
        )
        if paid_before >= booking.online_due_cents:
            amount = refund_payment(session, payment, payment.net_cents, "duplicate", gateway)
            return f"refunded {amount}: paid already"
        return "paid"
    departure = session.get(Departure, booking.departure_id)
    if booking.status == BookingStatus.HELD and booking.hold_expires_at > now:
        booking_service.confirm_booking(session, booking, booking.payment_method, now)
        notifications.queue(session, booking, "confirmed")
        return "confirmed"
    if booking.status in (BookingStatus.HELD, BookingStatus.EXPIRED):
        # The hold lapsed while the tourist paid. Confirm if the seats are still free.
        left = availability.seats_left(session, departure, now)
        if (
            departure.status == DepartureStatus.SCHEDULED
            and departure.starts_at > now
            and left >= booking.participants
        ):
            booking_service.confirm_booking(
                session, booking, booking.payment_method, now, late_ok=True
            )
            notifications.queue(session, booking, "confirmed")
            return "confirmed late"
        if booking.status == BookingStatus.HELD:
            booking.transition(BookingStatus.EXPIRED)
        amount = refund_payment(session, payment, payment.net_cents, "late_payment", gateway)
        notifications.queue(session, booking, "late_payment_refunded", refund_cents=amount)
        return "refunded: seats sold meanwhile"
    # Cancelled (or refunded) while the payment was in flight: give the money back.
    amount = refund_payment(session, payment, payment.net_cents, "tourist_cancelled", gateway)
    return f"refunded {amount}: booking no longer active"


def pending_intents(
    session: Session, booking: Booking, gateway: StripeGateway | None
) -> list[IntentInfo]:
    """Stripe's current view of the booking's pending payments (network; releases the
    transaction first). Apply each with ``apply_intent`` in a unit of work."""
    if gateway is None:
        return []
    refs = [
        p.provider_ref
        for p in payments_of(session, booking)
        if p.status == PaymentStatus.PENDING and p.provider_ref
    ]
    release(session)
    return [gateway.retrieve_intent(ref) for ref in refs]


def sync_booking(
    session: Session, booking: Booking, gateway: StripeGateway | None, now: datetime
) -> str:
    """Ask Stripe about the booking's pending payment and apply the answer."""
    if gateway is None:
        return "no gateway"
    outcome = "nothing pending"
    for intent in pending_intents(session, booking, gateway):
        outcome = apply_intent(session, intent, gateway, now)
    return outcome

"""Online payments: starting them, applying what Stripe says, and reconciling with Stripe.

A booking is paid only when Stripe says so — through a verified webhook, or when we ask
Stripe ourselves (processing page, reconcile command) — never because a browser came back.
Every function here takes the departure lock before changing a booking or its money, so
webhooks, tourists and the association can never interleave on the same departure.

Refunds and cancellations (with their refunds) live in ``refunds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ... import faults
from ...errors import DepartureUnavailable, InvalidRequest
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from ..booking import availability
from ..booking import lifecycle as booking_service
from ..ledger import adjustments as postings_later
from ..ledger import postings
from ..messages import outbox as notifications
from .refunds import (
    payments_of,
    refund_payment,
    require_gateway,
)
from .stripe_gateway import IntentInfo, PaymentDeclined, StripeGateway

#: PaymentIntent statuses in which the same intent can still be paid.
PAYABLE_STATUSES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)


class NothingToPay(DepartureUnavailable):
    default_message = _l("This booking has nothing left to pay online.")


@dataclass(frozen=True)
class PaymentStart:
    payment: Payment
    client_secret: str
    setup_client_secret: str
    setup_intent_id: str


def offered_methods(experience, gateway: StripeGateway | None) -> list[str]:
    """The experience's payment options that can work right now."""
    online = {PaymentMethod.CARD.value, PaymentMethod.DEPOSIT.value}
    return [
        code
        for code in experience.payment_option_codes
        if code in {m.value for m in PaymentMethod} and (gateway is not None or code not in online)
    ]


def start_payment(
    session: Session,
    booking: Booking,
    gateway: StripeGateway | None,
    now: datetime,
    hold_for: timedelta,
) -> PaymentStart:
    """Create (or reuse) the PaymentIntent for a held booking, and extend its hold.

    The hold is extended so it outlives the payment attempt; a payment that still arrives late
    is handled by ``apply_intent``.
    """
    availability.lock_departure(session, booking.departure_id)
    session.refresh(booking)
    if booking.status != BookingStatus.HELD or booking.online_due_cents <= 0:
        raise NothingToPay()
    gateway = require_gateway(gateway)
    if booking.hold_expires_at <= now:
        raise booking_service.HoldExpired()
    booking.hold_expires_at = max(booking.hold_expires_at, now + hold_for)

    payments = payments_of(session, booking)
    intent = None
    payment = next((p for p in reversed(payments) if p.status == PaymentStatus.PENDING), None)
    if payment is not None and payment.provider_ref:
        intent = gateway.retrieve_intent(payment.provider_ref)
        if intent.status not in PAYABLE_STATUSES:
            payment.status = (
                PaymentStatus.CANCELED if intent.status == "canceled" else payment.status
            )
            payment, intent = None, None
    if payment is None:
        payment = Payment(
            booking_id=booking.id,
            provider="stripe",
            attempt=len(payments) + 1,
            amount_cents=booking.online_due_cents,
            currency=booking.currency,
            status=PaymentStatus.PENDING,
            created_at=now,
        )
        session.add(payment)
        session.flush()
    if intent is None:
        intent = gateway.create_intent(
            payment.amount_cents,
            payment.currency,
            metadata={
                "booking_id": str(booking.id),
                "booking_reference": booking.reference,
                "payment_id": str(payment.id),
            },
            idempotency_key=f"booking-{booking.id}-attempt-{payment.attempt}",
            description=booking.reference,
        )
        payment.provider_ref = intent.id
    setup_id, setup_secret = gateway.create_setup_intent(
        idempotency_key=f"booking-{booking.id}-attempt-{payment.attempt}-card-{now.timestamp()}"
    )
    session.flush()
    return PaymentStart(payment, intent.client_secret or "", setup_secret, setup_id)


def pay_with_card(
    session: Session, booking: Booking, setup_intent_id: str, gateway: StripeGateway | None
) -> IntentInfo:
    """Charge the card the tourist set up in the browser to the booking's pending intent."""
    payment = next(
        (p for p in reversed(payments_of(session, booking)) if p.status == PaymentStatus.PENDING),
        None,
    )
    if payment is None or not payment.provider_ref or booking.status != BookingStatus.HELD:
        raise NothingToPay()
    gateway = require_gateway(gateway)
    if not setup_intent_id.startswith("seti_") or len(setup_intent_id) > 100:
        raise InvalidRequest()
    try:
        payment_method = gateway.setup_intent_payment_method(setup_intent_id)
    except PaymentDeclined:
        payment_method = None
    if payment_method is None:
        raise InvalidRequest(_l("The card could not be saved. Please try again."))
    try:
        intent = gateway.confirm_intent(payment.provider_ref, payment_method)
    except PaymentDeclined as exc:
        raise InvalidRequest(_l("The card was declined. Please try another card.")) from exc
    faults.point("payments.charged")
    return intent


def _payment_for_intent(session: Session, intent: IntentInfo, now: datetime) -> Payment | None:
    payment = session.execute(
        select(Payment).where(Payment.provider_ref == intent.id)
    ).scalar_one_or_none()
    if payment is not None:
        return payment
    # A PaymentIntent we never recorded (a crash between Stripe and our commit): find the
    # booking from the metadata we attached when creating it.
    booking_id = intent.metadata.get("booking_id", "")
    booking = session.get(Booking, int(booking_id)) if booking_id.isdigit() else None
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
        amount_cents=intent.amount,
        currency=intent.currency,
        status=PaymentStatus.PENDING,
        created_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def apply_intent(
    session: Session, intent: IntentInfo, gateway: StripeGateway | None, now: datetime
) -> str:
    """Bring our records in line with a PaymentIntent as Stripe reports it now.

    Idempotent and order-proof: it looks only at the intent's current state, so applying it
    twice, or after an older event, changes nothing. Returns what happened, for logs.
    """
    payment = _payment_for_intent(session, intent, now)
    if payment is None:
        return "ignored: not ours"
    booking = session.get(Booking, payment.booking_id)
    availability.lock_departure(session, booking.departure_id)
    session.refresh(payment)
    session.refresh(booking)

    if intent.status == "succeeded":
        if payment.status == PaymentStatus.SUCCEEDED:
            if payment.fee_cents is None and intent.fee_cents is not None:
                payment.fee_cents = intent.fee_cents
                session.flush()
                postings_later.post_fee(session, payment)
                return "fee recorded"
            return "unchanged"
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
    if payment.status == PaymentStatus.SUCCEEDED:
        return "unchanged"  # never downgrade a payment Stripe once confirmed
    if intent.status == "canceled":
        payment.status = PaymentStatus.CANCELED
        return "canceled"
    if intent.failure_message:
        payment.status = PaymentStatus.FAILED
        payment.failure_message = intent.failure_message[:300]
        return "failed"
    return "pending"


def _settle_paid_booking(
    session: Session, booking: Booking, payment: Payment, gateway, now: datetime
) -> str:
    """A payment just succeeded: confirm the booking, or refund if its seats are gone."""
    if booking.status == BookingStatus.CONFIRMED:
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


def sync_booking(
    session: Session, booking: Booking, gateway: StripeGateway | None, now: datetime
) -> str:
    """Ask Stripe about the booking's pending payment and apply the answer."""
    if gateway is None:
        return "no gateway"
    pending = [
        p
        for p in payments_of(session, booking)
        if p.status == PaymentStatus.PENDING and p.provider_ref
    ]
    outcome = "nothing pending"
    for payment in pending:
        outcome = apply_intent(session, gateway.retrieve_intent(payment.provider_ref), gateway, now)
    return outcome


def reconcile_payments(
    session: Session, gateway: StripeGateway, now: datetime, since: datetime
) -> dict[str, int]:
    """Repair bookings whose confirmation was missed (a lost webhook, a crash before commit).

    Asks Stripe about every pending payment we know, and about every PaymentIntent that
    succeeded since ``since`` (including ones we never recorded). Running it twice changes
    nothing the second time.
    """
    counts = {"checked": 0, "changed": 0}
    pending = (
        session.execute(
            select(Payment.provider_ref).where(
                Payment.status == PaymentStatus.PENDING,
                Payment.provider == "stripe",
                Payment.provider_ref.is_not(None),
                Payment.created_at >= since,
            )
        )
        .scalars()
        .all()
    )
    succeeded = set(
        session.execute(
            select(Payment.provider_ref).where(Payment.status == PaymentStatus.SUCCEEDED)
        ).scalars()
    )
    candidates = list(
        dict.fromkeys(
            list(pending)
            + [
                intent_id
                for intent_id in gateway.recent_succeeded_intent_ids(since)
                if intent_id and intent_id not in succeeded
            ]
        )
    )
    for intent_id in candidates:
        counts["checked"] += 1
        outcome = apply_intent(session, gateway.retrieve_intent(intent_id), gateway, now)
        if outcome not in ("unchanged", "pending", "ignored: not ours"):
            counts["changed"] += 1
    return counts

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
from sqlalchemy.orm import Session

from ... import faults
from ...errors import DepartureUnavailable, DomainError, InvalidRequest
from ...models import (
    Booking,
    BookingStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
)
from ...unit_of_work import release
from ..booking import availability
from ..booking import lifecycle as booking_service
from .refunds import (
    payments_of,
    require_gateway,
)
from .stripe_gateway import GatewayError, IntentInfo, PaymentDeclined, StripeGateway

#: PaymentIntent statuses in which the same intent can still be paid.
PAYABLE_STATUSES = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action", "processing"}
)


class NothingToPay(DepartureUnavailable):
    default_message = _l("This booking has nothing left to pay online.")


class PaidAlready(DomainError):
    """The pending PaymentIntent was charged (another tab, or an answer lost on the way):
    it is applied, not replaced by a new one that would charge the card again."""

    status_code = 409
    default_message = _l("This booking's payment went through already.")


class PaymentRefused(DomainError):
    """Stripe refused to open the payment (a 400: e.g. an amount under its minimum)."""

    status_code = 502
    default_message = _l(
        "The payment processor refused this payment. You were not charged. You can try again "
        "later or choose to pay on arrival."
    )


@dataclass(frozen=True)
class PaymentStart:
    payment: Payment
    client_secret: str
    setup_client_secret: str
    setup_intent_id: str


@dataclass(frozen=True)
class PreparedPayment:
    """What Stripe gave for a payment attempt, before anything is recorded or locked."""

    booking_id: int
    attempt: int
    amount_cents: int
    currency: str
    intent: IntentInfo
    setup_intent_id: str
    setup_client_secret: str


_METHOD_CODES = frozenset(method.value for method in PaymentMethod)
_ONLINE_CODES = frozenset({PaymentMethod.CARD.value, PaymentMethod.DEPOSIT.value})


def offered_methods(experience, gateway: StripeGateway | None) -> list[str]:
    """The experience's payment options that can work right now."""
    return [
        code
        for code in experience.payment_option_codes
        if code in _METHOD_CODES and (gateway is not None or code not in _ONLINE_CODES)
    ]


def _check_payable(booking: Booking, now: datetime) -> None:
    if booking.status == BookingStatus.EXPIRED or (
        booking.status == BookingStatus.HELD and booking.hold_expires_at <= now
    ):
        raise booking_service.HoldExpired()
    if booking.status != BookingStatus.HELD or booking.online_due_cents <= 0:
        raise NothingToPay()


def prepare_payment(
    session: Session, booking: Booking, gateway: StripeGateway | None, now: datetime
) -> PreparedPayment:
    """Ask Stripe for the booking's PaymentIntent (the pending one, if Stripe can still take
    it for the amount we asked, else a new one) and a SetupIntent for the card form.

    The network part of paying: it takes no lock and writes nothing, and the caller must not
    hold a transaction open on SQLite. ``record_payment_start`` then records it under the lock.
    """
    _check_payable(booking, now)
    gateway = require_gateway(gateway)
    booking_id, amount, currency = booking.id, booking.online_due_cents, booking.currency
    payments = payments_of(session, booking)
    pending = next(
        (p for p in reversed(payments) if p.status == PaymentStatus.PENDING and p.provider_ref),
        None,
    )
    pending_ref = pending.provider_ref if pending is not None else None
    attempt = pending.attempt if pending is not None else len(payments) + 1
    if pending is not None and (pending.amount_cents, pending.currency) != (amount, currency):
        pending_ref, attempt = None, len(payments) + 1
    reference, new_attempt = booking.reference, len(payments) + 1
    release(session)  # no transaction, so no lock, while Stripe answers
    intent, attempt, setup_id, setup_secret = open_intent(
        gateway,
        pending_ref,
        attempt,
        new_attempt,
        amount,
        currency,
        metadata={"booking_id": str(booking_id), "booking_reference": reference},
        key=f"booking-{booking_id}",
        now=now,
    )
    return PreparedPayment(booking_id, attempt, amount, currency, intent, setup_id, setup_secret)


def open_intent(
    gateway: StripeGateway,
    pending_ref: str | None,
    attempt: int,
    new_attempt: int,
    amount: int,
    currency: str,
    *,
    metadata: dict[str, str],
    key: str,
    now: datetime,
) -> tuple[IntentInfo, int, str, str]:
    """The PaymentIntent to pay ``amount``: the pending one (``pending_ref``) while Stripe
    still takes it for that amount, else a new one for attempt ``new_attempt``; and a
    SetupIntent for the card form. Outside any transaction. Returns the intent, the attempt
    it belongs to, and the SetupIntent's id and secret; ``PaymentRefused`` when Stripe
    refuses."""
    intent = None
    try:
        if pending_ref:
            intent = gateway.retrieve_intent(pending_ref)
            if intent.status == "succeeded":
                raise PaidAlready()
            if intent.status not in PAYABLE_STATUSES or (intent.amount, intent.currency) != (
                amount,
                currency,
            ):
                # Not payable any more, or changed at Stripe since we made it: a new attempt.
                intent, attempt = None, new_attempt
        if intent is None:
            intent = gateway.create_intent(
                amount,
                currency,
                metadata={**metadata, "attempt": str(attempt)},
                idempotency_key=f"{key}-attempt-{attempt}",
            )
        setup_id, setup_secret = gateway.create_setup_intent(
            idempotency_key=f"{key}-attempt-{attempt}-card-{now.timestamp()}"
        )
    except PaymentDeclined as exc:
        raise PaymentRefused() from exc
    return intent, attempt, setup_id, setup_secret


def record_payment_start(
    session: Session,
    prepared: PreparedPayment,
    now: datetime,
    hold_for: timedelta,
    hold_max: timedelta | None = None,
) -> PaymentStart:
    """Record the attempt ``prepare_payment`` made at Stripe, under the departure lock, and
    extend the hold so it outlives the payment attempt, but never past ``hold_max`` from the
    booking's creation (reloading the card page cannot keep seats held for ever). A payment
    that still arrives late is handled by ``apply_intent``."""
    booking = session.get(Booking, prepared.booking_id)
    availability.lock_departure(session, booking.departure_id)
    session.refresh(booking)
    _check_payable(booking, now)
    if (booking.online_due_cents, booking.currency) != (prepared.amount_cents, prepared.currency):
        raise NothingToPay()  # changed meanwhile; the page asks again
    extended = max(booking.hold_expires_at, now + hold_for)
    if hold_max is not None:
        extended = min(extended, booking.created_at + hold_max)
    booking.hold_expires_at = max(booking.hold_expires_at, extended)

    payments = payments_of(session, booking)
    payment = next((p for p in payments if p.provider_ref == prepared.intent.id), None)
    if payment is None:
        for stale in payments:
            if stale.status == PaymentStatus.PENDING and stale.provider_ref:
                stale.status = PaymentStatus.CANCELED  # replaced by this attempt
        payment = Payment(
            booking_id=booking.id,
            provider="stripe",
            provider_ref=prepared.intent.id,
            attempt=prepared.attempt,
            amount_cents=prepared.amount_cents,
            currency=prepared.currency,
            status=PaymentStatus.PENDING,
            created_at=now,
        )
        session.add(payment)
    session.flush()
    return PaymentStart(
        payment,
        prepared.intent.client_secret or "",
        prepared.setup_client_secret,
        prepared.setup_intent_id,
    )


def start_payment(
    session: Session,
    booking: Booking,
    gateway: StripeGateway | None,
    now: datetime,
    hold_for: timedelta,
    hold_max: timedelta | None = None,
) -> PaymentStart:
    """``prepare_payment`` then ``record_payment_start``, for callers that hold no lock yet."""
    prepared = prepare_payment(session, booking, gateway, now)
    return record_payment_start(session, prepared, now, hold_for, hold_max)


def pay_with_card(
    session: Session, booking: Booking, setup_intent_id: str, gateway: StripeGateway | None
) -> IntentInfo:
    """Charge the card the tourist set up in the browser to the booking's pending intent.

    Network only: it releases the transaction before calling Stripe; the caller applies the
    intent it returns (``apply_intent``) in a unit of work of its own."""
    payment = next(
        (p for p in reversed(payments_of(session, booking)) if p.status == PaymentStatus.PENDING),
        None,
    )
    if payment is None or not payment.provider_ref or booking.status != BookingStatus.HELD:
        if booking.status == BookingStatus.EXPIRED:
            raise booking_service.HoldExpired()
        raise NothingToPay()
    gateway = require_gateway(gateway)
    if not setup_intent_id.startswith("seti_") or len(setup_intent_id) > 100:
        raise InvalidRequest()
    intent_id = payment.provider_ref
    release(session)
    try:
        payment_method = gateway.setup_intent_payment_method(setup_intent_id)
    except PaymentDeclined:
        payment_method = None
    if payment_method is None:
        raise InvalidRequest(_l("The card could not be saved. Please try again."))
    try:
        intent = gateway.confirm_intent(intent_id, payment_method)
    except PaymentDeclined as exc:
        return charged_meanwhile(gateway, intent_id, exc)
    faults.point("payments.charged")
    return intent


def charged_meanwhile(gateway: StripeGateway, intent_id: str, declined: PaymentDeclined):
    """Stripe refused to charge the intent: because another tab had just paid it (it then
    answers as a card refusal), the intent, to be applied; else the refusal."""
    try:
        current = gateway.retrieve_intent(intent_id)
    except (GatewayError, PaymentDeclined):
        current = None
    if current is not None and current.status == "succeeded":
        return current
    raise CardDeclined() from declined


class CardDeclined(InvalidRequest):
    default_message = _l("The card was declined. Please try another card.")


@dataclass(frozen=True)
class CheckoutState:
    """Where a card payment stands, for the page the tourist sees after paying."""

    #: ``confirmed``, ``mismatch``, ``late_refunded``, ``refunded``, ``expired``, ``failed``
    #: or ``pending``.
    name: str
    #: What is being (or was) refunded, in cents, where that is the outcome.
    refund_cents: int = 0
    message: str = ""


def checkout_state(booking: Booking) -> CheckoutState:
    """The outcome of the booking's last card payment attempt, as far as we know it."""
    if booking.status == BookingStatus.CONFIRMED:
        return CheckoutState("confirmed")
    last = booking.payments[-1] if booking.payments else None
    owed_back = (
        sum(r.amount_cents for r in last.refunds if r.status != RefundStatus.FAILED) if last else 0
    )
    if last is not None and last.status == PaymentStatus.MISMATCH:
        return CheckoutState("mismatch", owed_back)
    if last is not None and last.status == PaymentStatus.SUCCEEDED:
        if booking.status == BookingStatus.EXPIRED:
            return CheckoutState("late_refunded", owed_back)
        return CheckoutState("refunded", owed_back)
    if booking.status == BookingStatus.EXPIRED:
        return CheckoutState("expired")
    if booking.status != BookingStatus.HELD:
        return CheckoutState("refunded", owed_back)
    if last is not None and last.status == PaymentStatus.FAILED:
        return CheckoutState("failed", message=last.failure_message)
    return CheckoutState("pending")

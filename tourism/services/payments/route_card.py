"""Paying a whole route by card (or its deposit): one checkout, one Stripe PaymentIntent.

The intent is a ``RoutePayment``. A route is paid only when Stripe says so, exactly as a
booking is (a verified webhook, the processing page or ``flask reconcile-payments`` asking
Stripe: ``intents.apply_intent`` hands route intents here). When it succeeded, for exactly
the amount and currency asked, under the locks of every leg's departure (by id, the order
``book_route`` takes them):

- each leg booking gets an ordinary stripe ``Payment`` of its online part (``route_payment_id``
  set; the intent is the route's), posted with ``ledger.postings.post_payment``: split by *that
  experience's* rule in force at the sale into its association's ledger, like any card
  payment. The processor's fee of the whole charge is shared over these leg payments in
  proportion to their amounts (the split rules know how to take a fee off);
- paid by card, the nights, the extras and the curator's fee are one ``payment`` ledger
  transaction per community: its Stripe clearing against each host family's, each provider's
  and the curator's share (the accounts ``settlement.record_route_cash`` credits for cash:
  reused, not forked), each night *pending* until it is over (``routes.night_releases``
  releases it), the extras and the fee *pending* until the route starts
  (``routes.extra_releases``). With a deposit they are paid in cash on arrival, through
  ``record_route_cash``;
- the route booking and every leg booking are confirmed, and the route's confirmation email
  is queued.

A payment that arrives after the hold lapsed, after the route was cancelled, or that is not
what we asked for, confirms nothing and is given back whole (after the commit).

Refunds of a leg go through the ordinary refund service: a leg's ``Payment`` knows its
intent (``Payment.intent_ref``), so ``refunds.refund_payment`` refunds that part of the charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import faults
from ...errors import InvalidRequest
from ...models import (
    BookingStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    RouteBooking,
    RoutePayment,
)
from ...models.ledger import AccountKind, TransactionKind
from ...money import allocate
from ...text_input import ascii_whole_number
from ...unit_of_work import release
from ..booking import lifecycle as booking_service
from ..ledger import journal as ledger
from ..ledger import postings
from ..routes import booking as route_booking_service
from ..routes import claims, notices, settlement
from . import route_refunds
from .online import NothingToPay, charged_meanwhile, open_intent
from .refunds import require_gateway
from .stripe_gateway import IntentInfo, PaymentDeclined, StripeGateway

ONLINE_METHODS = (PaymentMethod.CARD.value, PaymentMethod.DEPOSIT.value)


class RouteHoldExpired(booking_service.HoldExpired):
    default_message = _l(
        "Your route was held for a limited time and the hold has expired. Please book again."
    )


@dataclass(frozen=True)
class RoutePaymentStart:
    payment: RoutePayment
    client_secret: str
    setup_client_secret: str
    setup_intent_id: str


def _check_payable(route_booking: RouteBooking, now: datetime) -> None:
    if route_booking.status == BookingStatus.EXPIRED or (
        route_booking.status == BookingStatus.HELD and route_booking.hold_expires_at <= now
    ):
        raise RouteHoldExpired()
    if (
        route_booking.status != BookingStatus.HELD
        or route_booking.payment_method not in ONLINE_METHODS
        or route_booking_service.online_due_cents(route_booking) <= 0
    ):
        raise NothingToPay()


def _pending(route_booking: RouteBooking) -> RoutePayment | None:
    return next(
        (p for p in reversed(route_booking.payments) if p.status == PaymentStatus.PENDING), None
    )


def start_route_payment(
    session: Session,
    route_booking: RouteBooking,
    gateway: StripeGateway | None,
    now: datetime,
    hold_for: timedelta,
    hold_max: timedelta | None = None,
) -> RoutePaymentStart:
    """Ask Stripe for the route's PaymentIntent (the pending one if Stripe can still take it
    for the amount asked, else a new one) and a SetupIntent for the card form, with no
    transaction open; then record it under the locks and stretch the hold of the route and
    its legs (never past ``hold_max`` from the booking)."""
    _check_payable(route_booking, now)
    gateway = require_gateway(gateway)
    rb_id, reference = route_booking.id, route_booking.reference
    amount = route_booking_service.online_due_cents(route_booking)
    currency = route_booking.currency
    pending = _pending(route_booking)
    attempt = len(route_booking.payments) + 1
    pending_ref = None
    if pending is not None and (pending.amount_cents, pending.currency) == (amount, currency):
        pending_ref, attempt = pending.provider_ref, pending.attempt
    new_attempt = len(route_booking.payments) + 1
    release(session)  # no transaction, so no lock, while Stripe answers
    intent, attempt, setup_id, setup_secret = open_intent(
        gateway,
        pending_ref,
        attempt,
        new_attempt,
        amount,
        currency,
        metadata={"route_booking_id": str(rb_id), "route_booking_reference": reference},
        key=f"route-booking-{rb_id}",
        now=now,
    )

    route_booking = session.get(RouteBooking, rb_id)
    claims.lock_route(session, route_booking)
    _check_payable(route_booking, now)
    if route_booking_service.online_due_cents(route_booking) != amount:
        raise NothingToPay()  # changed meanwhile; the page asks again
    extended = max(route_booking.hold_expires_at, now + hold_for)
    if hold_max is not None:
        extended = min(extended, route_booking.created_at + hold_max)
    extended = max(route_booking.hold_expires_at, extended)
    route_booking.hold_expires_at = extended
    for booking_leg in route_booking.legs:
        if booking_leg.booking.status == BookingStatus.HELD:
            booking_leg.booking.hold_expires_at = extended
    payment = next((p for p in route_booking.payments if p.provider_ref == intent.id), None)
    if payment is None:
        for stale in route_booking.payments:
            if stale.status == PaymentStatus.PENDING:
                stale.status = PaymentStatus.CANCELED  # replaced by this attempt
        payment = RoutePayment(
            route_booking=route_booking,
            provider_ref=intent.id,
            attempt=attempt,
            amount_cents=amount,
            currency=currency,
            status=PaymentStatus.PENDING,
            created_at=now,
        )
        session.add(payment)
    session.flush()
    return RoutePaymentStart(payment, intent.client_secret or "", setup_secret, setup_id)


def pay_route_with_card(
    session: Session,
    route_booking: RouteBooking,
    setup_intent_id: str,
    gateway: StripeGateway | None,
    now: datetime,
) -> IntentInfo:
    """Charge the card set up in the browser to the route's pending intent. Network only:
    the caller applies the returned intent (``apply_route_intent``) in its own unit of work.
    A hold whose time is up is not charged (its legs' seats may be gone: the charge would
    only be refunded), whether or not the sweep has marked it yet."""
    payment = _pending(route_booking)
    if payment is None or route_booking.status != BookingStatus.HELD:
        if route_booking.status == BookingStatus.EXPIRED:
            raise RouteHoldExpired()
        raise NothingToPay()
    if route_booking.hold_expires_at is not None and route_booking.hold_expires_at <= now:
        raise RouteHoldExpired()
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


def route_payment_for(session: Session, intent: IntentInfo, now: datetime) -> RoutePayment | None:
    """Our record of a route's PaymentIntent, or ``None`` when the intent is not a route's.
    An intent we never recorded (a crash between Stripe and our commit) is found from its
    metadata; what it must bring is what the route owes, never what the intent says."""
    found = session.scalar(select(RoutePayment).where(RoutePayment.provider_ref == intent.id))
    if found is not None:
        return found
    rb_id = intent.metadata.get("route_booking_id", "")
    number = ascii_whole_number(rb_id)
    route_booking = session.get(RouteBooking, number) if number is not None else None
    if route_booking is None or route_booking.reference != intent.metadata.get(
        "route_booking_reference"
    ):
        return None
    payment = RoutePayment(
        route_booking=route_booking,
        provider_ref=intent.id,
        attempt=len(route_booking.payments) + 1,
        amount_cents=route_booking_service.online_due_cents(route_booking),
        currency=route_booking.currency,
        status=PaymentStatus.PENDING,
        created_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def is_route_intent(session: Session, intent: IntentInfo) -> bool:
    if session.scalar(select(RoutePayment.id).where(RoutePayment.provider_ref == intent.id)):
        return True
    return "route_booking_id" in intent.metadata


def apply_route_intent(
    session: Session,
    intent: IntentInfo,
    gateway: StripeGateway | None,
    now: datetime,
    check_amounts: bool = True,
) -> str:
    """Bring a route's records in line with its PaymentIntent as Stripe reports it now.
    Idempotent and order-proof, like ``intents.apply_intent``; no network call (money to
    give back is given after the commit)."""
    payment = route_payment_for(session, intent, now)
    if payment is None:
        return "ignored: not ours"
    route_booking = payment.route_booking
    claims.lock_route(session, route_booking)
    session.refresh(payment)
    if intent.status != "succeeded":
        if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH):
            return "unchanged"
        if intent.status == "canceled":
            payment.status = PaymentStatus.CANCELED
            return "canceled"
        if intent.failure_message:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = intent.failure_message[:300]
            return "failed"
        # No card tried yet at Stripe: nothing is on its way from the bank.
        return "unpaid" if intent.status == "requires_payment_method" else "pending"
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH):
        return "unchanged"
    payment.charge_ref = intent.charge_id
    payment.fee_cents = intent.fee_cents
    payment.succeeded_at = now
    payment.failure_message = ""
    if check_amounts and not intent.matches(payment.amount_cents, payment.currency):
        received = intent.amount_received or 0
        payment.status = PaymentStatus.MISMATCH
        payment.failure_message = (
            f"received {received} {intent.currency}, asked {payment.amount_cents} "
            f"{payment.currency}"
        )[:300]
        route_refunds.give_back(session, payment, received, "mismatch", gateway)
        return "mismatch: refunded"
    payment.status = PaymentStatus.SUCCEEDED
    alive = route_booking.status == BookingStatus.HELD and route_booking.hold_expires_at > now
    if not alive:
        # Lapsed (its seats, beds and stock may be sold) or cancelled while paying: the
        # route is not confirmed half-way; the money goes back whole.
        if route_booking.status == BookingStatus.HELD:
            _expire(session, route_booking)
        route_refunds.give_back(session, payment, payment.amount_cents, "route_not_held", gateway)
        notices.queue_route(
            session, route_booking, notices.ROUTE_LATE_REFUNDED, refund_cents=payment.amount_cents
        )
        return "refunded: route no longer held"
    session.flush()
    _post_legs(session, route_booking, payment)
    if route_booking_service.stay_paid_online(route_booking):
        _post_stay(session, route_booking, payment, now)
    for booking_leg in sorted(route_booking.legs, key=lambda bl: bl.booking.departure_id):
        booking_service.confirm_booking(
            session, booking_leg.booking, route_booking.payment_method, now
        )
    route_booking.status = BookingStatus.CONFIRMED
    route_booking.confirmed_at, route_booking.hold_expires_at = now, None
    session.flush()
    notices.queue_route(session, route_booking, notices.ROUTE_CONFIRMED)
    faults.point("payments.applied")
    return "confirmed"


def _post_legs(session: Session, route_booking: RouteBooking, payment: RoutePayment) -> None:
    legs = sorted(
        (bl.booking for bl in route_booking.legs if bl.booking.online_due_cents > 0),
        key=lambda b: b.id,
    )
    amounts = [leg.online_due_cents for leg in legs]
    fees = allocate(payment.fee_cents or 0, amounts) if amounts else []
    for leg, amount, fee in zip(legs, amounts, fees, strict=True):
        leg_payment = Payment(
            booking_id=leg.id,
            provider="stripe",
            provider_ref=None,
            route_payment_id=payment.id,
            charge_ref=payment.charge_ref,
            attempt=1,
            amount_cents=amount,
            currency=payment.currency,
            fee_cents=fee if payment.fee_cents is not None else None,
            status=PaymentStatus.SUCCEEDED,
            created_at=payment.created_at,
            succeeded_at=payment.succeeded_at,
        )
        session.add(leg_payment)
        session.flush()
        postings.post_payment(session, leg_payment)


stay_memo = settlement.card_stay_memo


def _post_stay(session: Session, route_booking, payment: RoutePayment, now: datetime) -> None:
    for part in settlement.community_parts(route_booking):
        if not part.stay_cents:
            continue
        memo = stay_memo(route_booking, part.association)
        if ledger.find_transaction(session, TransactionKind.PAYMENT, memo=memo) is not None:
            continue
        clearing = ledger.account(session, AccountKind.STRIPE_CLEARING, part.association)
        credits = settlement.stay_lines(
            session, route_booking, part, nights_pending=True, extras_pending=True
        )
        ledger.post(
            session,
            kind=TransactionKind.PAYMENT,
            lines=[(clearing, part.stay_cents), *credits],
            memo=memo,
            currency=route_booking.currency,
            at=now,
        )


def _expire(session: Session, route_booking: RouteBooking) -> None:
    for booking_leg in route_booking.legs:
        if booking_leg.booking.status == BookingStatus.HELD:
            booking_leg.booking.transition(BookingStatus.EXPIRED)
    route_booking.status = BookingStatus.EXPIRED
    session.flush()


def sync_route_booking(
    session: Session, route_booking: RouteBooking, gateway: StripeGateway | None, now: datetime
) -> str:
    """Ask Stripe about the route's pending payment and apply the answer (the processing
    page's check, never trusting the browser's return)."""
    if gateway is None:
        return "no gateway"
    refs = [p.provider_ref for p in route_booking.payments if p.status == PaymentStatus.PENDING]
    release(session)
    outcome = "nothing pending"
    for ref in refs:
        outcome = apply_route_intent(session, gateway.retrieve_intent(ref), gateway, now)
    return outcome


def route_checkout_state(route_booking: RouteBooking) -> str:
    """Where the route's last card payment stands, for the page after paying: ``confirmed``,
    ``refunded`` (paid too late, or not what was asked: given back), ``expired``, ``failed``
    or ``pending``."""
    if route_booking.status == BookingStatus.CONFIRMED:
        return "confirmed"
    last = route_booking.payments[-1] if route_booking.payments else None
    if last is not None and last.status in (PaymentStatus.SUCCEEDED, PaymentStatus.MISMATCH):
        return "refunded"
    if route_booking.status != BookingStatus.HELD:
        return "expired"
    if last is not None and last.status == PaymentStatus.FAILED:
        return "failed"
    return "pending"

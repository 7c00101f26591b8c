"""Applying Stripe webhook events: each event id once, the payload only as a trigger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    BookingStatus,
    Dispute,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
    RefundStatus,
)
from ..booking import availability
from ..ledger import postings
from ..messages import homestay_booking_notices as host_notices
from ..messages import outbox as notifications
from ..messages.rendering import REFUNDED
from . import intents
from .stripe_gateway import (
    ChargeInfo,
    EventInfo,
    IntentInfo,
    PaymentDeclined,
    StripeGateway,
    stripe_ref,
)

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.processing",
    }
)
DISPUTE_EVENTS = frozenset(
    {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}
)
CLOSED_DISPUTE_STATUSES = frozenset({"won", "lost", "warning_closed"})


def already_processed(session: Session, event_id: str) -> bool:
    return session.get(ProviderEvent, event_id) is not None


@dataclass(frozen=True)
class Fetched:
    """Stripe's current state of what an event is about, read before any transaction."""

    intent: IntentInfo | None = None
    charge: ChargeInfo | None = None
    #: Stripe does not know the object (a dashboard test event, another account's secret).
    unknown: bool = False


def fetch_object(event: EventInfo, gateway: StripeGateway) -> Fetched:
    """Re-read the event's object from Stripe (the payload may be stale or out of order).
    Network only: call it with no transaction open, so no lock is held while Stripe answers.
    A ``GatewayError`` means retry later."""
    object_id = stripe_ref(event.object.get("id"))
    if not object_id:
        return Fetched()
    try:
        if event.type in INTENT_EVENTS:
            return Fetched(intent=gateway.retrieve_intent(object_id))
        if event.type == "charge.refunded":
            return Fetched(charge=gateway.retrieve_charge(object_id))
    except PaymentDeclined:
        return Fetched(unknown=True)
    return Fetched()


def handle_event(
    session: Session,
    event: EventInfo,
    gateway: StripeGateway,
    now: datetime,
    fetched: Fetched | None = None,
) -> str:
    """Apply one verified event. The caller commits; a ``GatewayError`` means retry later.

    The event id is recorded in the same transaction as its effects, so a redelivery after
    a commit is a no-op and a failure before it leaves nothing behind. ``fetched``: what
    ``fetch_object`` read before the transaction (read here when not given).
    """
    if fetched is None:
        fetched = fetch_object(event, gateway)
    if already_processed(session, event.id):
        return "duplicate"
    session.add(ProviderEvent(id=event.id, provider="stripe", type=event.type, received_at=now))
    session.flush()

    if event.type in INTENT_EVENTS or event.type == "charge.refunded":
        if fetched.unknown:
            # Acknowledge it, or Stripe would retry a poison event for days.
            return "ignored: unknown to Stripe"
        if fetched.intent is not None:
            return intents.apply_intent(session, fetched.intent, gateway, now)
        if fetched.charge is not None:
            return record_refunds(session, fetched.charge)
        return "ignored: no object id"
    if event.type in DISPUTE_EVENTS:
        return record_dispute(session, event.object, now)
    return "ignored"


def _payment_for_charge(session: Session, charge_id: str, intent_id: str | None) -> Payment | None:
    conditions = [Payment.charge_ref == charge_id]
    if intent_id:
        conditions.append(Payment.provider_ref == intent_id)
    return session.execute(select(Payment).where(or_(*conditions))).scalars().first()


def record_refunds(session: Session, charge: ChargeInfo) -> str:
    """Record refunds Stripe reports for a charge that we do not know yet (e.g. made in
    Stripe's dashboard). Refunds we made ourselves are already recorded under their id.
    A confirmed booking that keeps nothing then is ``refunded``: its seats are free, and
    the tourist and its host families are told."""
    payment = _payment_for_charge(session, charge.id, charge.payment_intent_id)
    if payment is None:
        return "ignored: not ours"
    if payment.route_payment_id is not None:
        # A route's charge is shared by its legs: the refunds we make are recorded when made
        # (``pay_owed_refund``); one made in Stripe's dashboard is left for a person to
        # attribute to a leg (docs/ROUTES.md).
        return "ignored: a route's charge"
    booking = session.get(Booking, payment.booking_id)
    availability.lock_departure(session, booking.departure_id)
    ours = list(session.execute(select(Refund).where(Refund.payment_id == payment.id)).scalars())
    known = {r.provider_ref for r in ours}
    # Refunds we owe carry their id in Stripe's metadata: one made but not recorded yet (the
    # webhook came first) is ours to record, as paid, not a second refund.
    owed = {str(r.id): r for r in ours if r.status == RefundStatus.PENDING and not r.provider_ref}
    added: list[Refund] = []
    for refund in charge.refunds:
        if refund.id in known or refund.status not in ("succeeded", "pending"):
            continue
        mine = owed.get(refund.metadata.get("refund_id", ""))
        if mine is not None:
            mine.provider_ref, mine.amount_cents = refund.id, refund.amount
            mine.status = RefundStatus.SUCCEEDED
            added.append(mine)
            continue
        added.append(
            Refund(
                payment_id=payment.id,
                provider_ref=refund.id,
                amount_cents=refund.amount,
                reason="provider",
                status=RefundStatus.SUCCEEDED,
            )
        )
    session.add_all(added)
    session.flush()
    session.refresh(payment)
    if payment.status == PaymentStatus.SUCCEEDED:  # a mismatch never entered the ledger
        for refund in added:
            postings.post_refund(session, refund)
    session.refresh(booking)
    # Refunded means the booking keeps nothing: not when the party paid the rest in cash
    # (e.g. after a partial refund raised what was due on arrival) and is still coming.
    kept = sum(p.net_cents for p in booking.payments)
    if kept == 0 and booking.status == BookingStatus.CONFIRMED and added:
        booking.transition(BookingStatus.REFUNDED)
        session.flush()
        # The booking no longer holds its seats: the tourist is told (email, calendar
        # cancel, their phone if they opted in), and so are the families of its nights.
        refunded = sum(p.refunded_cents for p in booking.payments)
        notifications.queue(session, booking, REFUNDED, refund_cents=refunded)
        host_notices.queue_booking_homestays(session, booking, host_notices.CANCELLED)
    return f"recorded {len(added)} refund(s)"


def record_dispute(session: Session, data: dict, now: datetime) -> str:
    """Create or update a dispute from a signed event. Stripe's emulator cannot serve
    disputes, so the verified payload is used; a closed dispute is never reopened by an
    older event arriving late."""
    dispute_id = stripe_ref(data.get("id"))
    charge_id = stripe_ref(data.get("charge"))
    if not dispute_id or not charge_id:
        return "ignored: not ours"
    payment = _payment_for_charge(session, charge_id, stripe_ref(data.get("payment_intent")))
    if payment is None:
        return "ignored: not ours"
    booking = session.get(Booking, payment.booking_id)
    availability.lock_departure(session, booking.departure_id)
    status = _text(data.get("status"), 40)
    dispute = session.execute(
        select(Dispute).where(Dispute.provider_ref == dispute_id)
    ).scalar_one_or_none()
    if dispute is None:
        dispute = Dispute(
            payment_id=payment.id,
            provider_ref=dispute_id,
            amount_cents=_disputed_cents(data.get("amount"), payment),
            status=status,
            reason=_text(data.get("reason"), 60),
            created_at=now,
        )
        session.add(dispute)
    elif dispute.status in CLOSED_DISPUTE_STATUSES:
        return "unchanged: dispute already closed"
    else:
        dispute.status = status
    if status in CLOSED_DISPUTE_STATUSES:
        dispute.closed_at = now
    session.flush()
    postings.post_dispute(session, dispute)
    return f"dispute {status}"


def _text(value, max_length: int) -> str:
    """A short label from the payload, as text PostgreSQL accepts (no NUL characters)."""
    return ("" if value is None else str(value)).replace("\x00", "")[:max_length]


def _disputed_cents(value, payment: Payment) -> int:
    """What the dispute claims, which can never be more than was paid: a missing or absurd
    amount stands for the whole payment, Stripe's own default."""
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value <= payment.amount_cents
    ):
        return value
    return payment.amount_cents

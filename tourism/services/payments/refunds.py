"""Refunds, and the cancellations that give them: the tourist cancelling under the experience's
policy, and the association cancelling a whole departure (everyone refunded in full).

``payments`` shares the helpers defined here (``require_gateway``, ``payments_of``,
``refund_payment``) and re-exports the public names. As there, the departure lock is taken
before a booking's money changes, and a refund is recorded once however often it is asked for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError, InvalidRequest
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from ...money import percent_of
from ..access import audit
from ..booking import availability
from ..booking import lifecycle as booking_service
from ..ledger import postings
from ..messages import outbox as notifications
from .stripe_gateway import StripeGateway


class PaymentsUnavailable(DomainError):
    status_code = 503
    default_message = _l("Online payment is not available right now. Please try again later.")


def require_gateway(gateway: StripeGateway | None) -> StripeGateway:
    if gateway is None:
        raise PaymentsUnavailable()
    return gateway


def payments_of(session: Session, booking: Booking) -> list[Payment]:
    return list(
        session.execute(
            select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)
        ).scalars()
    )


def refund_percent(policy: list[dict], starts_at: datetime, now: datetime) -> int:
    """The refund the cancellation policy gives at ``now``: the first tier whose notice is met."""
    hours_before = (starts_at - now) / timedelta(hours=1)
    for tier in sorted(policy or [], key=lambda t: int(t["hours"]), reverse=True):
        if hours_before >= int(tier["hours"]):
            return max(0, min(100, int(tier["percent"])))
    return 0


def refund_payment(
    session: Session, payment: Payment, amount_cents: int, reason: str, gateway
) -> int:
    """Refund ``amount_cents`` of a Stripe payment and record it once. Returns the amount."""
    if amount_cents <= 0 or payment.provider != "stripe":
        return 0
    gateway = require_gateway(gateway)
    info = gateway.refund(
        payment.provider_ref, amount_cents, idempotency_key=f"payment-{payment.id}-refund-{reason}"
    )
    existing = session.execute(
        select(Refund).where(Refund.provider_ref == info.id)
    ).scalar_one_or_none()
    if existing is None:
        refund = Refund(
            payment_id=payment.id,
            provider_ref=info.id,
            amount_cents=info.amount,
            reason=reason,
            status=RefundStatus.SUCCEEDED
            if info.status in ("succeeded", "pending")
            else RefundStatus.FAILED,
        )
        session.add(refund)
        session.flush()
        session.refresh(payment)
        postings.post_refund(session, refund)
        booking = payment.booking
        audit.record(
            session,
            audit.REFUND_REQUESTED,
            target=f"booking:{booking.reference}",
            association_id=booking.departure.experience.association_id,
            detail=f"{info.amount} cents of payment {payment.id}, {reason}, {refund.status}",
        )
    return info.amount


def policy_refunds(
    session: Session, booking: Booking, percent: int
) -> list[tuple[Payment, int]]:
    """What ``percent`` of the policy refunds of each of the booking's card payments: each
    payment is refunded on its own, rounded to the cent on its own."""
    return [
        (payment, percent_of(payment.net_cents, percent))
        for payment in payments_of(session, booking)
        if payment.status == PaymentStatus.SUCCEEDED and payment.net_cents > 0
    ]


def refund_preview(session: Session, booking: Booking, percent: int) -> int:
    """What cancelling now would refund, computed exactly as ``cancel_with_refund`` will."""
    return sum(amount for _, amount in policy_refunds(session, booking, percent))


def cancel_with_refund(
    session: Session, booking: Booking, gateway: StripeGateway | None, now: datetime
) -> int:
    """The tourist cancels: free the seats and refund what the policy gives.

    Returns the refunded amount in cents.
    """
    booking_service.cancel_booking(session, booking, now)
    percent = refund_percent(
        booking.departure.experience.cancellation_policy, booking.departure.starts_at, now
    )
    refunded = 0
    for payment, amount in policy_refunds(session, booking, percent):
        refunded += refund_payment(session, payment, amount, "tourist_cancelled", gateway)
    notifications.queue(session, booking, "cancelled", refund_cents=refunded)
    return refunded


def cancel_departure(
    session: Session,
    departure: Departure,
    reason: str,
    gateway: StripeGateway | None,
    now: datetime,
) -> list[Booking]:
    """The association cancels a departure (weather, river): every booking is cancelled,
    refunded in full and notified."""
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise InvalidRequest(_l("Please give a short reason for the cancellation."))
    departure = availability.lock_departure(session, departure.id)
    if departure.status == DepartureStatus.CANCELLED:
        return []
    departure.status = DepartureStatus.CANCELLED
    departure.cancel_reason = reason
    audit.record(
        session,
        audit.DEPARTURE_CANCELLED,
        target=f"departure:{departure.id}",
        association_id=departure.experience.association_id,
        detail=reason,
        at=now,
    )
    affected = list(
        session.execute(
            select(Booking).where(
                Booking.departure_id == departure.id,
                Booking.status.in_((BookingStatus.HELD, BookingStatus.CONFIRMED)),
            )
        ).scalars()
    )
    for booking in affected:
        booking.transition(BookingStatus.CANCELLED)
        booking.cancelled_at = now
        booking.hold_expires_at = None
        booking.cancel_reason = reason
        refunded = 0
        for payment in payments_of(session, booking):
            if payment.status == PaymentStatus.SUCCEEDED and payment.net_cents > 0:
                refunded += refund_payment(
                    session, payment, payment.net_cents, "departure_cancelled", gateway
                )
        notifications.queue(
            session, booking, "departure_cancelled", reason=reason, refund_cents=refunded
        )
    session.flush()
    return affected

"""Association staff cancel one booking: the tourist phoned to cancel, or the association
must call one party off (a guide ill for a private add-on, a booking made twice).

Staff give a reason (one line, shown to the tourist) and choose the refund: ``policy``, what
the experience's cancellation policy gives now, as if the tourist had cancelled, or ``full``,
everything paid. The cancellation itself is the tourist's (``lifecycle.cancel_booking``: the
departure lock, the seats freed, a reseller's prepaid sale undone, the host families told);
the refunds are the tourist's too (``refunds.refund_payment``: a card payment is owed back
and paid after the commit, a bank transfer is owed back for the treasurer to pay, cash
taken on arrival has nothing to give back). A leg of a route booking is refused: a route's
legs are cancelled from the route booking. The cancellation is audit-logged with the
acting user; the tourist is emailed that the association cancelled it, with the reason
and the refund; a reseller that sold it is sent its webhook, all in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, InvalidRequest
from ...models import Booking, BookingStatus, Payment, RouteBookingLeg, User
from ...text_input import is_clean_line
from ..access import audit
from ..booking import lifecycle as booking_service
from ..channels import webhooks
from ..ledger.postings import BANK_TRANSFER
from ..messages import outbox as notifications
from ..messages.rendering import CANCELLED
from . import refunds
from .stripe_gateway import StripeGateway

STAFF_CANCELLED_ACTION = "booking.cancelled_by_association"
#: The refund choices staff have: the policy's share now, or everything paid.
POLICY, FULL = "policy", "full"
REFUND_CHOICES = (POLICY, FULL)
#: The longest reason (the booking's ``cancel_reason`` column holds 300).
REASON_LIMIT = 300
#: The refunds' reason, so a repeated request owes nothing twice (``owe_refund``).
REFUND_REASON = "association_cancelled"


class NotCancellable(DepartureUnavailable):
    default_message = _l(
        "This booking can no longer be cancelled: it is already cancelled or expired, "
        "or its departure has begun."
    )


class RouteLeg(DepartureUnavailable):
    default_message = _l(
        "This booking is part of a route: its legs are cancelled from the route booking."
    )


class BadReason(InvalidRequest):
    default_message = _l(
        "Please give the reason on one line, in at most 300 characters; the visitor reads it."
    )


class UnknownRefundChoice(InvalidRequest):
    default_message = _l("Choose the refund: what the policy gives now, or everything paid.")


def _is_route_leg(session: Session, booking: Booking) -> bool:
    leg = session.scalar(select(RouteBookingLeg.id).where(RouteBookingLeg.booking_id == booking.id))
    return leg is not None


def check_cancellable(session: Session, booking: Booking, now: datetime) -> None:
    """Raise unless staff may cancel ``booking`` now: held or confirmed, nobody checked in
    or marked absent, its departure still to come, not a leg of a route. (Checked again
    under the lock when cancelling.)"""
    if _is_route_leg(session, booking):
        raise RouteLeg()
    if booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
        raise NotCancellable()
    if booking.checked_in_at is not None or booking.no_show_at is not None:
        raise NotCancellable()
    if booking.departure.starts_at <= now:
        raise NotCancellable()


def _given_back(payment: Payment) -> bool:
    """A payment a cancellation refunds (``refunds.owe_refund``): by card, or by a bank
    transfer the treasurer pays back; cash has nothing to give back."""
    return payment.provider == BANK_TRANSFER or bool(
        payment.provider == "stripe" and payment.intent_ref
    )


def _refunds(
    session: Session, booking: Booking, choice: str, now: datetime
) -> list[tuple[Payment, int]]:
    if choice == FULL:
        percent = 100
    else:
        departure = booking.departure
        percent = refunds.refund_percent(
            departure.experience.cancellation_policy, departure.starts_at, now
        )
    return [
        (payment, amount)
        for payment, amount in refunds.policy_refunds(session, booking, percent)
        if _given_back(payment)
    ]


def refund_previews(session: Session, booking: Booking, now: datetime) -> dict[str, int]:
    """What cancelling now would refund under each choice, computed as cancelling does."""
    return {
        choice: sum(amount for _, amount in _refunds(session, booking, choice, now))
        for choice in REFUND_CHOICES
    }


def clean_reason(reason: object) -> str:
    """The reason, trimmed, or ``BadReason``: required, one line, at most ``REASON_LIMIT``."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not is_clean_line(text, REASON_LIMIT):
        raise BadReason()
    return text


def cancel_by_association(
    session: Session,
    booking: Booking,
    reason: str,
    refund: str,
    actor: User | None,
    gateway: StripeGateway | None,
    now: datetime,
) -> int:
    """Staff cancel ``booking`` (see the module doc); returns the amount refunded (owed
    back) in cents. Raises a ``DomainError``, the caller rolling back, when it may not."""
    reason = clean_reason(reason)
    if refund not in REFUND_CHOICES:
        raise UnknownRefundChoice()
    check_cancellable(session, booking, now)
    try:
        # Locks the departure, reads the booking again, and checks its state, its date and
        # that nobody checked the party in or marked it absent meanwhile.
        booking_service.cancel_booking(session, booking, now, refuse_attended=True)
    except booking_service.CannotCancel as error:
        raise NotCancellable() from error
    booking.cancel_reason = reason
    refunded = 0
    for payment, amount in _refunds(session, booking, refund, now):
        refunded += refunds.refund_payment(session, payment, amount, REFUND_REASON, gateway)
    audit.record(
        session,
        STAFF_CANCELLED_ACTION,
        actor=actor,
        target=f"booking {booking.reference}",
        association_id=booking.departure.experience.association_id,
        detail=f"refund {refund}, {refunded} cents: {reason}",
        at=now,
    )
    webhooks.booking_changed(session, booking, now, webhooks.ASSOCIATION_CANCELLED)
    notifications.queue(
        session, booking, CANCELLED, refund_cents=refunded, by_association=True, reason=reason
    )
    session.flush()
    return refunded

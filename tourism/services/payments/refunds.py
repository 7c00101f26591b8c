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

from ... import faults
from ...errors import DomainError, InvalidRequest
from ...jobs.queue import enqueue
from ...jobs.registry import job
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
from ...unit_of_work import after_commit, release, unit_of_work
from ..access import audit
from ..booking import availability
from ..booking import lifecycle as booking_service
from ..channels import webhooks
from ..ledger import postings, reseller_postings
from ..ledger.postings import BANK_TRANSFER
from ..messages import homestay_booking_notices as host_notices
from ..messages import outbox as notifications
from .stripe_gateway import (
    GatewayError,
    PaymentDeclined,
    RefundInfo,
    StripeGateway,
    current_gateway,
)


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
    session: Session, payment: Payment, amount_cents: int, reason: str, gateway=None
) -> int:
    """Owe ``amount_cents`` of a Stripe payment back, to be paid once the transaction commits.

    Called under the departure lock, so it makes no network call: the refund is recorded as
    owed (``pending``, no provider id) and paid after the commit by ``pay_owed_refund`` (or,
    after a crash, by ``flask finish-refunds``). Returns the amount owed.
    """
    refund = owe_refund(session, payment, amount_cents, reason)
    if refund is None:
        return 0
    if gateway is not None and payment.provider == "stripe":
        after_commit(session, _OwedRefunds(session, gateway), key=OWED_KEY).add(refund.id)
    return refund.amount_cents


#: The job that pays one owed refund (``pay_refund``).
PAY_REFUND = "pay-refund"


class RefundNotPaid(RuntimeError):
    """Stripe could not be reached or is not configured: the job tries again with backoff."""


@job(PAY_REFUND, max_attempts=8)
def pay_refund(session: Session, payload: dict, _key: str) -> None:
    """The pay-refund job, enqueued with every refund owed: pays it unless it was paid
    already (right after its commit, or by ``finish-refunds``), so a cancelled departure's
    many refunds are each retried with backoff and end as a dead letter if Stripe never
    takes them. A refund Stripe declines is recorded as failed, and the job is done."""
    gateway = current_gateway()
    if gateway is None:
        raise RefundNotPaid("Stripe is not configured on this site")
    session.commit()
    try:
        pay_owed_refund(session, payload["refund_id"], gateway)
    except GatewayError as exc:
        release(session)
        raise RefundNotPaid(str(exc)[:500]) from exc


def owe_refund(session: Session, payment: Payment, amount_cents: int, reason: str) -> Refund | None:
    """Record that ``amount_cents`` of ``payment`` is owed back, never more than is left of it
    (received, less every refund paid or owed). Idempotent per payment and reason. A group's
    bank transfer is owed back alike, but paid by the treasurer (``groups.transfers``)."""
    by_transfer = payment.provider == BANK_TRANSFER
    by_card = payment.provider == "stripe" and payment.intent_ref
    if amount_cents <= 0 or not (by_transfer or by_card):
        return None
    session.flush()
    refunds = list(session.execute(select(Refund).where(Refund.payment_id == payment.id)).scalars())
    same = next(
        (r for r in refunds if r.reason == reason and r.status != RefundStatus.FAILED), None
    )
    if same is not None:
        return same
    received = (
        payment.received_cents if payment.status == PaymentStatus.MISMATCH else payment.amount_cents
    ) or 0
    left = received - sum(r.amount_cents for r in refunds if r.status != RefundStatus.FAILED)
    amount = min(amount_cents, left)
    if amount <= 0:
        return None
    refund = Refund(
        payment_id=payment.id,
        provider_ref=None,
        amount_cents=amount,
        reason=reason,
        status=RefundStatus.PENDING,
    )
    session.add(refund)
    session.flush()
    if not by_transfer:
        # Paid after the commit; the job is what makes sure, with retries (``pay_refund``).
        enqueue(session, PAY_REFUND, {"refund_id": refund.id}, key=f"refund:{refund.id}")
    booking = payment.booking
    audit.record(
        session,
        audit.REFUND_REQUESTED,
        target=f"booking:{booking.reference}",
        association_id=booking.departure.experience.association_id,
        detail=f"{amount} cents of payment {payment.id} owed, {reason}",
    )
    return refund


#: ``after_commit`` key of the refunds owed by the transaction.
OWED_KEY = "payments.owed_refunds"


class _OwedRefunds:
    """After the commit: pay the refunds the transaction recorded as owed, each on its own.
    One that fails (Stripe down) stays owed for ``flask finish-refunds``."""

    def __init__(self, session: Session, gateway: StripeGateway) -> None:
        self.session = session
        self.gateway = gateway
        self.ids: list[int] = []

    def add(self, refund_id: int) -> None:
        self.ids.append(refund_id)

    def __call__(self) -> None:
        finish_refunds(self.session, self.gateway, self.ids)


def owed_refund_ids(session: Session) -> list[int]:
    """Every refund recorded as owed and not paid yet, oldest first."""
    return list(
        session.execute(
            select(Refund.id)
            .join(Payment, (Refund.payment_id == Payment.id) & (Payment.provider == "stripe"))
            .where(Refund.status == RefundStatus.PENDING, Refund.provider_ref.is_(None))
            .order_by(Refund.id)
        ).scalars()
    )


def finish_refunds(
    session: Session, gateway: StripeGateway, refund_ids: list[int] | None = None
) -> dict[str, list]:
    """Pay owed refunds (``refund_ids``, or all), committing each on its own. Never raises
    for one refund: what could not be paid is reported and stays owed."""
    result: dict[str, list] = {"paid": [], "failed": [], "owed": []}
    for refund_id in owed_refund_ids(session) if refund_ids is None else refund_ids:
        try:
            outcome = pay_owed_refund(session, refund_id, gateway)
        except GatewayError as exc:
            release(session)
            result["owed"].append((refund_id, str(exc)[:200]))
            continue
        result["failed" if outcome == "failed" else "paid"].append(refund_id)
    return result


def pay_owed_refund(session: Session, refund_id: int, gateway: StripeGateway) -> str:
    """Pay one owed refund at Stripe, outside any transaction, then record it in its own.

    The Stripe call carries an idempotency key and the refund's id in its metadata, so a
    retry after a crash never refunds twice: Stripe answers the same refund, and where a
    processor ignores the key, the refund already made is found on the charge by its id.
    """
    refund = session.get(Refund, refund_id)
    if refund is None or refund.status != RefundStatus.PENDING or refund.provider_ref:
        release(session)
        return "unchanged"
    # A leg of a route paid by card refunds its part of the route's intent.
    intent_id, amount = refund.payment.intent_ref, refund.amount_cents
    charge_id = refund.payment.charge_ref
    release(session)  # no transaction (no lock) while Stripe answers
    try:
        info = gateway.refund(
            intent_id,
            amount,
            idempotency_key=f"refund-{refund_id}",
            metadata={"refund_id": str(refund_id)},
        )
    except PaymentDeclined as exc:
        info = _already_made(gateway, charge_id, refund_id)
        if info is None:
            with unit_of_work(session):
                _record_refund_failure(session, refund_id, str(exc))
            return "failed"
    faults.point("refunds.paid")
    with unit_of_work(session):
        return record_paid_refund(session, refund_id, info)


def _already_made(gateway: StripeGateway, charge_id: str | None, refund_id: int):
    if not charge_id:
        return None
    try:
        charge = gateway.retrieve_charge(charge_id)
    except PaymentDeclined:
        return None
    return next((r for r in charge.refunds if r.metadata.get("refund_id") == str(refund_id)), None)


def _record_refund_failure(session: Session, refund_id: int, message: str) -> None:
    refund = session.get(Refund, refund_id)
    availability.lock_departure(session, refund.payment.booking.departure_id)
    session.refresh(refund)
    if refund.status != RefundStatus.PENDING:
        return
    refund.status = RefundStatus.FAILED
    booking = refund.payment.booking
    audit.record(
        session,
        audit.REFUND_FAILED,
        target=f"booking:{booking.reference}",
        association_id=booking.departure.experience.association_id,
        detail=f"refund {refund.id}: {message[:200]}",
    )


def record_paid_refund(session: Session, refund_id: int, info: RefundInfo) -> str:
    """Stripe made the owed refund ``refund_id``: record its id and post the reversal."""
    refund = session.get(Refund, refund_id)
    booking = refund.payment.booking
    availability.lock_departure(session, booking.departure_id)
    session.refresh(refund)
    if refund.status != RefundStatus.PENDING:
        return "unchanged"
    # The charge.refunded webhook may have recorded it first (as made in the dashboard).
    twin = session.execute(
        select(Refund).where(Refund.provider_ref == info.id, Refund.id != refund.id)
    ).scalar_one_or_none()
    if twin is not None:
        refund.status = RefundStatus.FAILED  # not paid twice: the twin stands for it
        return "recorded by webhook"
    refund.provider_ref = info.id
    refund.amount_cents = info.amount
    refund.status = (
        RefundStatus.SUCCEEDED if info.status in ("succeeded", "pending") else RefundStatus.FAILED
    )
    session.flush()
    session.refresh(refund.payment)
    if refund.payment.status == PaymentStatus.SUCCEEDED:
        postings.post_refund(session, refund)
    audit.record(
        session,
        audit.REFUND_REQUESTED,
        target=f"booking:{booking.reference}",
        association_id=booking.departure.experience.association_id,
        detail=f"{info.amount} cents of payment {refund.payment_id}, {refund.reason}, "
        f"{refund.status}",
    )
    return str(refund.status)


def policy_refunds(session: Session, booking: Booking, percent: int) -> list[tuple[Payment, int]]:
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
    webhooks.booking_changed(session, booking, now, webhooks.GUEST_CANCELLED)
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
    minimum: int | None = None,
) -> list[Booking]:
    """The association cancels a departure (weather, river): every booking is cancelled,
    refunded in full and notified. ``minimum``: the departure did not reach that many
    visitors (``operations.minimums``); each email says so in its visitor's language."""
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
        session.scalars(
            select(Booking)
            .where(
                Booking.departure_id == departure.id,
                Booking.status.in_((BookingStatus.HELD, BookingStatus.CONFIRMED)),
            )
            .options(host_notices.HOSTS)
        )
    )
    for booking in affected:
        if booking.status == BookingStatus.CONFIRMED:  # its host families were told
            host_notices.queue_booking_homestays(session, booking, host_notices.CANCELLED)
        booking.transition(BookingStatus.CANCELLED)
        booking.cancelled_at = now
        booking.hold_expires_at = None
        booking.cancel_reason = reason
        reseller_postings.reverse_sale(session, booking)
        webhooks.booking_changed(session, booking, now, reason)
        refunded = 0
        for payment in payments_of(session, booking):
            if payment.status == PaymentStatus.SUCCEEDED and payment.net_cents > 0:
                refunded += refund_payment(
                    session, payment, payment.net_cents, "departure_cancelled", gateway
                )
        extra = {"minimum": minimum} if minimum else {}
        notifications.queue(
            session, booking, "departure_cancelled", reason=reason, refund_cents=refunded, **extra
        )
    session.flush()
    return affected

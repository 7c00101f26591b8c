"""A group's bank transfer: received, and paid back.

The treasurer marks the group's transfer received (``mark_transfer_paid``): a payment of the
booking's total into the association's bank account, posted with the split.

If that booking is then cancelled (the group under the cancellation policy, or the association
cancelling the departure), the money cannot go back through Stripe. The cancellation records
what is owed back as a refund still to pay (``payments.refunds.owe_refund``: ``pending``, no
job pays it); the treasurer sees it on the request and, once they have sent the money back by
bank transfer, records it (``record_transfer_refund``: amount in cents, the day, the bank's
reference). That refund is posted like a card refund, reversing the split from the bank
account, append-only; the ledger check stays whole. More than was paid and not yet refunded is
refused. Every function only flushes; the caller commits.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...database import utcnow
from ...errors import DepartureUnavailable, DomainError, InvalidRequest
from ...models import (
    BookingStatus,
    DepartureStatus,
    GroupQuote,
    GroupRequest,
    Payment,
    PaymentStatus,
    QuoteStatus,
    Refund,
    RefundStatus,
    User,
)
from ...money import format_money
from ..access import audit
from ..booking import availability, lifecycle
from ..ledger import postings
from ..messages import outbox
from ..messages.account_emails import GROUP_TRANSFER_REFUNDED
from .quotes import BANK_TRANSFER, NotTransfer, post_staff_message, queue_group_email

#: Why a refund the treasurer paid back of their own accord (nothing was owed) was made.
TREASURER_REFUND = "treasurer_refund"
MAX_REFERENCE = 60
#: Posted on the request's thread when the treasurer records a transfer paid back.
REFUNDED_NOTE = _l("We sent %(amount)s back to you by bank transfer (reference: %(reference)s).")


class NotCancelled(DomainError):
    status_code = 409
    default_message = _l(
        "The booking is not cancelled: a bank transfer is paid back only for a cancelled booking."
    )


class RefundRecordedAlready(DomainError):
    """The same refund (amount, day and bank reference) was recorded already: the form was
    sent twice. Nothing new is written and the group is not told twice."""

    status_code = 303
    default_message = _l(
        "This refund was already recorded, with the same amount, day and bank reference: "
        "nothing was recorded twice."
    )


def mark_transfer_paid(session: Session, quote: GroupQuote, actor: User, now: datetime) -> Payment:
    """The treasurer received the group's bank transfer: record a payment of the booking's
    total, confirm the booking and post its split (bank debited). Idempotent: marking it
    again returns the payment recorded the first time."""
    if quote.transfer_payment is not None:
        return quote.transfer_payment
    booking = quote.booking
    if (
        quote.status != QuoteStatus.ACCEPTED
        or booking is None
        or booking.payment_method != BANK_TRANSFER
    ):
        raise NotTransfer()
    departure = availability.lock_departure(session, booking.departure_id)
    session.refresh(booking)
    session.refresh(quote)
    if quote.transfer_payment is not None:
        return quote.transfer_payment  # marked meanwhile
    late = booking.status == BookingStatus.EXPIRED or (
        booking.status == BookingStatus.HELD and booking.hold_expires_at <= now
    )
    if booking.status not in (BookingStatus.HELD, BookingStatus.EXPIRED):
        raise NotTransfer()
    if late:
        # The hold lapsed: the seats must still be free (counted without this booking).
        taken = availability.seats_taken_on(session, departure.id, now)
        if departure.status != DepartureStatus.SCHEDULED or (
            booking.participants > departure.capacity - taken
        ):
            raise DepartureUnavailable()
    payment = Payment(
        booking=booking,
        provider=BANK_TRANSFER,
        attempt=len(booking.payments) + 1,
        amount_cents=booking.total_cents,
        currency=booking.currency,
        status=PaymentStatus.SUCCEEDED,
        fee_cents=0,
        collected_by_id=actor.id,
        created_at=now,
        succeeded_at=now,
    )
    session.add(payment)
    session.flush()
    lifecycle.confirm_booking(session, booking, BANK_TRANSFER, now, late_ok=True)
    postings.post_payment(session, payment)
    quote.transfer_payment = payment
    session.flush()
    outbox.queue(session, booking, "confirmed")
    return payment


def paid_quote(request: GroupRequest) -> GroupQuote | None:
    """The request's quote whose bank transfer was received (the latest, if several were)."""
    return next((q for q in reversed(request.quotes) if q.transfer_payment_id), None)


def refundable_quote(request: GroupRequest) -> GroupQuote:
    """The quote whose transfer a refund pays back, or why there is none: a transfer still
    awaited is told apart from a quote that was never to be paid by transfer."""
    quote = paid_quote(request)
    if quote is not None:
        return quote
    if any(
        q.status == QuoteStatus.ACCEPTED
        and q.booking is not None
        and q.booking.payment_method == BANK_TRANSFER
        for q in request.quotes
    ):
        raise TransferNotReceived()
    raise NotTransfer()


def owed_back(session: Session, quote: GroupQuote) -> int:
    """What the association owes the group back of its bank transfer, in cents: the refunds
    the cancellation recorded as owed and the treasurer has not paid yet."""
    payment = quote.transfer_payment
    if payment is None:
        return 0
    return sum(
        session.scalars(
            select(Refund.amount_cents).where(
                Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING
            )
        )
    )


def refundable(quote: GroupQuote) -> int:
    """The most the treasurer may still pay back: the transfer less what was refunded."""
    payment = quote.transfer_payment
    return payment.net_cents if payment is not None else 0


class TransferNotReceived(DomainError):
    status_code = 409
    default_message = _l("The group's transfer has not been marked as received: nothing to refund.")


def record_transfer_refund(
    session: Session,
    quote: GroupQuote,
    amount_cents: int,
    paid_on: date,
    reference: str,
    actor: User,
    today: date,
    zone: ZoneInfo,
    link: str | None = None,
) -> Refund:
    """The treasurer paid ``amount_cents`` of the group's transfer back by bank transfer on
    ``paid_on`` (a local day, not after ``today``) with the bank's ``reference``: record the
    refund and post its reversal (see the module doc). It settles what was owed first; what
    it does not cover stays owed. Raise with a clear message and write nothing on bad input.
    With ``link`` (the request's page), the group is emailed and told on the request's
    thread, in the request's language, how much was sent back and with which reference.
    """
    payment = quote.transfer_payment
    if quote.status != QuoteStatus.ACCEPTED or payment is None:
        raise NotTransfer()
    booking = payment.booking
    if booking.status not in (BookingStatus.CANCELLED, BookingStatus.REFUNDED):
        raise NotCancelled()
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvalidRequest(_l("Enter an amount greater than zero."))
    if not isinstance(paid_on, date) or paid_on > today:
        raise InvalidRequest(_l("Give the day the transfer was made, today or earlier."))
    # Money cannot go back before it came: the ledger and the monthly reports date the
    # refund by this day.
    arrived = payment.succeeded_at.astimezone(zone).date() if payment.succeeded_at else None
    if arrived is not None and paid_on < arrived:
        raise InvalidRequest(
            _l("The refund cannot be made before the group's transfer arrived (%(day)s)."),
            day=arrived.isoformat(),
        )
    reference = (reference or "").strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise InvalidRequest(_l("Give the bank's reference of the transfer, in a few words."))
    availability.lock_departure(session, booking.departure_id)
    session.refresh(payment)
    # One bank transfer, one reference: the same one again is the form sent twice (a double
    # click, a slow answer), read under the lock so a sending in flight is seen once it is
    # committed.
    if session.scalar(
        select(Refund.id).where(
            Refund.payment_id == payment.id,
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.amount_cents == amount_cents,
            Refund.paid_on == paid_on,
            Refund.bank_reference == reference,
        )
    ):
        raise RefundRecordedAlready()
    # Read under the lock, from the table: a refund recorded meanwhile is counted.
    refunded = session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED
        )
    )
    left = payment.amount_cents - refunded if payment.status == PaymentStatus.SUCCEEDED else 0
    if amount_cents > left:
        raise InvalidRequest(
            _l("That is more than was paid and not yet refunded (%(left)s)."),
            left=format_money(left, payment.currency),
        )
    owed = session.scalars(
        select(Refund)
        .where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)
        .order_by(Refund.id)
    ).first()
    paid_at = datetime.combine(paid_on, time(12), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    if owed is None:
        refund = Refund(payment_id=payment.id, reason=TREASURER_REFUND, created_at=paid_at)
        session.add(refund)
    else:
        refund = owed
        if amount_cents < owed.amount_cents:
            # Part of what is owed: the rest stays owed, as a refund of its own.
            session.add(
                Refund(
                    payment_id=payment.id,
                    amount_cents=owed.amount_cents - amount_cents,
                    reason=owed.reason,
                    status=RefundStatus.PENDING,
                    created_at=owed.created_at,
                )
            )
    refund.amount_cents = amount_cents
    refund.status = RefundStatus.SUCCEEDED
    refund.paid_on = paid_on
    refund.bank_reference = reference
    refund.recorded_by_id = actor.id
    session.flush()
    session.refresh(payment)
    postings.post_refund(session, refund, at=paid_at)
    audit.record(
        session,
        audit.REFUND_REQUESTED,
        actor=actor,
        target=f"booking:{booking.reference}",
        association_id=booking.departure.experience.association_id,
        detail=f"{amount_cents} cents of payment {payment.id} paid back by bank transfer, "
        f"reference {reference}",
    )
    if amount_cents == left and booking.status == BookingStatus.CANCELLED:
        booking.transition(BookingStatus.REFUNDED)
    session.flush()
    if link:
        _tell_group(session, quote, refund, actor, link)
    return refund


def _tell_group(
    session: Session, quote: GroupQuote, refund: Refund, actor: User, link: str
) -> None:
    """Email the group that the money went back, and say so on the request's thread."""
    request = quote.request
    queue_group_email(
        session,
        request,
        GROUP_TRANSFER_REFUNDED,
        f"group-transfer-refunded-{refund.id}",
        link,
        amount_cents=refund.amount_cents,
        currency=quote.currency,
        paid_on=refund.paid_on.isoformat(),
        reference=refund.bank_reference,
    )
    with force_locale(request.language):
        body = str(REFUNDED_NOTE) % {
            "amount": format_money(refund.amount_cents, quote.currency),
            "reference": refund.bank_reference,
        }
    post_staff_message(session, request, actor, body, utcnow())

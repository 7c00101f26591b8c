"""Quotes: the association's priced answer to a group request, and the requester's answer.

The association quotes a price (per person or for the whole group, in cents), a day and time,
and how long the offer stands. The quote comes with a **private departure** made for it
(capacity: the group's size; ``Departure.group_request_id`` names the request), which the
catalog, its availability, the API and resellers never show, and the requester is emailed
(in their language) a link to the request's private page.

There the requester accepts and pays, or declines. Accepting holds the group's seats on the
private departure (``booking.private``: the same lock and seat count as any booking) and
makes an ordinary booking, so its payment, split and ledger are those of any booking:

- **card** or **deposit** (when the experience offers them): the booking's own card page
  pays it (``payments.online``, a PaymentIntent), and the verified payment confirms it;
- **bank transfer**: the booking is held until the departure closes for booking, and the
  association's treasurer marks the transfer received (``mark_transfer_paid``): a payment of
  the total into the association's bank account, posted with the split. Marking it twice
  records one payment.

A quote past its expiry cannot be accepted (409). Declining closes the request and cancels
the private departure. Every function only flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, DomainError, InvalidRequest
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    GroupQuote,
    GroupRequest,
    GroupRequestStatus,
    Payment,
    PaymentStatus,
    QuotePricing,
    QuoteStatus,
    User,
)
from ...money import allocate
from ..booking import availability, lifecycle, private
from ..ledger import postings
from ..messages import outbox
from .requests import RequestClosed

#: The most a quote may ask, in cents (a million dollars: a typo, not a price).
MAX_CENTS = 100_000_000
#: How a requester may pay: online with the booking's card page, or by bank transfer.
BANK_TRANSFER = postings.BANK_TRANSFER
ONLINE_METHODS = ("card", "deposit")


class QuoteExpired(DomainError):
    status_code = 409
    default_message = _l(
        "This quote has expired and can no longer be accepted. Write to the association for "
        "a new one."
    )


class QuoteAnswered(DomainError):
    status_code = 409
    default_message = _l("This quote was already answered.")


class QuoteOpen(DomainError):
    status_code = 409
    default_message = _l(
        "This request already has a quote that stands; wait for the answer or its expiry."
    )


class DepartureTaken(DomainError):
    status_code = 409
    default_message = _l("This experience already has a departure at that time.")


class NotTransfer(DomainError):
    status_code = 409
    default_message = _l("This quote was not accepted for payment by bank transfer.")


@dataclass
class QuoteInput:
    pricing: str
    amount_cents: int
    day: date
    start: time
    #: The last day the quote may be accepted (through its end, local time).
    valid_until: date


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def total_for(pricing: QuotePricing, amount_cents: int, group_size: int) -> int:
    return amount_cents * group_size if pricing == QuotePricing.PER_PERSON else amount_cents


def ticket_lines(
    quote: GroupQuote, category_id: int, group_size: int
) -> list[tuple[int, int, int]]:
    """The quote's total as booking lines (category, tickets, unit price): a total that does
    not divide by the group is shared out by largest remainder, so the lines add up to it to
    the cent ($1,000.00 for 7: 5 tickets at $142.86 and 2 at $142.85)."""
    shares = allocate(quote.total_cents, [1] * group_size)
    prices: dict[int, int] = {}
    for cents in shares:
        prices[cents] = prices.get(cents, 0) + 1
    return [(category_id, count, cents) for cents, count in sorted(prices.items(), reverse=True)]


def live_quote(request: GroupRequest, now: datetime) -> GroupQuote | None:
    """The request's quote that stands: offered or accepted and not expired, or accepted
    with its booking confirmed or still held."""
    for quote in reversed(request.quotes):
        if quote.status == QuoteStatus.ACCEPTED and (
            quote.expires_at > now or _live_booking(quote, now) is not None
        ):
            return quote
        if quote.status == QuoteStatus.OFFERED and quote.expires_at > now:
            return quote
    return None


def make_quote(
    session: Session,
    request: GroupRequest,
    data: QuoteInput,
    actor: User,
    now: datetime,
    zone: ZoneInfo,
    link: str,
) -> GroupQuote:
    """Quote ``request`` (see the module doc) and queue the email telling the requester;
    ``link`` is the absolute address of the request's private page. Raise with a clear
    message and write nothing on bad input."""
    if request.status != GroupRequestStatus.OPEN:
        raise RequestClosed()
    if live_quote(request, now) is not None:
        raise QuoteOpen()
    if data.pricing not in {p.value for p in QuotePricing}:
        raise InvalidRequest(_l("Say whether the price is per person or for the whole group."))
    if not _whole(data.amount_cents) or not 0 < data.amount_cents <= MAX_CENTS:
        raise InvalidRequest(_l("Enter a price greater than zero."))
    if not isinstance(data.day, date) or not isinstance(data.start, time):
        raise InvalidRequest(_l("Give the day and time of the visit."))
    if not isinstance(data.valid_until, date):
        raise InvalidRequest(_l("Give the last day the quote may be accepted."))
    pricing = QuotePricing(data.pricing)
    total = total_for(pricing, data.amount_cents, request.group_size)
    if total > MAX_CENTS:
        raise InvalidRequest(_l("Enter a price greater than zero."))
    starts_at = datetime.combine(data.day, data.start, tzinfo=zone).astimezone(ZoneInfo("UTC"))
    if starts_at <= now:
        raise InvalidRequest(_l("Choose a day and time still to come."))
    expires_at = datetime.combine(
        data.valid_until + timedelta(days=1), time.min, tzinfo=zone
    ).astimezone(ZoneInfo("UTC"))
    if expires_at <= now or data.valid_until >= data.day:
        raise InvalidRequest(
            _l("The quote must stand from today until at most the day before the visit.")
        )
    experience = request.experience
    if not any(pc.is_active for pc in experience.price_categories):
        raise InvalidRequest(_l("This experience has no ticket type to sell."))
    departure = session.scalar(
        select(Departure).where(
            Departure.experience_id == experience.id, Departure.starts_at == starts_at
        )
    )
    if departure is None:
        departure = Departure(
            experience_id=experience.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=experience.duration_minutes),
            capacity=request.group_size,
            group_request_id=request.id,
            created_at=now,
        )
        session.add(departure)
        session.flush()
    elif departure.group_request_id != request.id:
        raise DepartureTaken()
    # Else an earlier quote of this request at this time lapsed: its departure serves again
    # (no live quote means no live booking holds seats on it).
    quote = GroupQuote(
        request_id=request.id,
        departure_id=departure.id,
        pricing=pricing,
        amount_cents=data.amount_cents,
        total_cents=total,
        currency=experience.currency,
        status=QuoteStatus.OFFERED,
        expires_at=expires_at,
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(quote)
    session.flush()
    session.expire(request, ["quotes"])  # a view-only list: read it again
    text = experience.text(request.language)
    outbox.queue_account_email(
        session,
        kind="group_quote",
        key=f"group-quote-{quote.id}",
        recipient=request.email,
        language=request.language,
        url=link,
        experience=text.title if text else experience.slug,
        total_cents=total,
        currency=quote.currency,
        expires_at=expires_at.isoformat(),
        starts_at=starts_at.isoformat(),
    )
    return quote


def _check_answerable(quote: GroupQuote, now: datetime) -> None:
    if quote.request.status != GroupRequestStatus.OPEN:
        raise RequestClosed()
    if quote.status == QuoteStatus.DECLINED:
        raise QuoteAnswered()
    if quote.status == QuoteStatus.ACCEPTED and _live_booking(quote, now) is not None:
        raise QuoteAnswered()
    if quote.expires_at <= now:
        raise QuoteExpired()


def _live_booking(quote: GroupQuote, now: datetime) -> Booking | None:
    booking = quote.booking
    if booking is None:
        return None
    if booking.status == BookingStatus.CONFIRMED:
        return booking
    if booking.status == BookingStatus.HELD and (
        booking.hold_expires_at is None or booking.hold_expires_at > now
    ):
        return booking
    return None


def methods_for(online_offered: list[str]) -> list[str]:
    """How the requester may pay: the experience's online methods that work now (``card``,
    ``deposit``), and always a bank transfer."""
    return [m for m in ONLINE_METHODS if m in online_offered] + [BANK_TRANSFER]


def accept_quote(
    session: Session,
    quote: GroupQuote,
    method: str,
    online_offered: list[str],
    now: datetime,
    hold_for: timedelta,
) -> Booking:
    """Accept ``quote``: hold the group's seats on its private departure in a booking paid
    with ``method`` (see the module doc). An unpaid card booking that lapsed may be
    accepted again while the quote stands."""
    _check_answerable(quote, now)
    if method not in methods_for(online_offered):
        raise InvalidRequest(_l("That payment method is not offered for this experience."))
    request = quote.request
    departure = quote.departure
    if departure.status != DepartureStatus.SCHEDULED:
        raise DepartureUnavailable()
    category = min(
        (pc for pc in departure.experience.price_categories if pc.is_active),
        key=lambda pc: pc.position,
        default=None,
    )
    if category is None:  # every ticket type was withdrawn since the quote
        raise InvalidRequest(_l("This experience has no ticket type to sell."))
    if method == BANK_TRANSFER:
        # A transfer takes days: the seats stay held until the departure closes for booking.
        hold_until = departure.starts_at - lifecycle.DEFAULT_CUTOFF
    else:
        hold_until = now + hold_for
    booking = private.hold_private_seats(
        session,
        departure,
        ticket_lines(quote, category.id, request.group_size),
        private.PrivateContact(request.name, request.email, request.phone, request.language),
        method,
        now,
        hold_until,
    )
    quote.status = QuoteStatus.ACCEPTED
    quote.answered_at = now
    quote.booking = booking
    session.flush()
    return booking


def decline_quote(session: Session, quote: GroupQuote, now: datetime) -> GroupQuote:
    """Decline ``quote``: the request is closed and the private departure cancelled."""
    if quote.request.status != GroupRequestStatus.OPEN:
        raise RequestClosed()
    if quote.status != QuoteStatus.OFFERED:
        raise QuoteAnswered()
    quote.status = QuoteStatus.DECLINED
    quote.answered_at = now
    quote.request.status = GroupRequestStatus.CLOSED
    departure = availability.lock_departure(session, quote.departure_id)
    departure.status = DepartureStatus.CANCELLED
    departure.cancel_reason = "group quote declined"
    session.flush()
    return quote


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
    quote.transfer_payment_id = payment.id
    session.flush()
    outbox.queue(session, booking, "confirmed")
    return payment

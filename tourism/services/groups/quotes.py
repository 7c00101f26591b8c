"""Quotes: the association's priced answer to a group request, and the requester's answer.

The association quotes a price (per person or for the whole group, in cents), a day and time,
and how long the offer stands. The quote comes with a **private departure** made for it
(capacity: the group's size; ``Departure.group_request_id`` names the request), which the
catalog, its availability, the API and resellers never show, and the requester is emailed
(in their language) a link to the request's private page.

There the requester accepts and pays, or declines (``quote_answers``). Accepting holds the
group's seats on the private departure (``booking.private``: the same lock and seat count as
any booking) and makes an ordinary booking, so its payment, split and ledger are those of any
booking:

- **card** or **deposit** (when the experience offers them): the booking's own card page
  pays it (``payments.online``, a PaymentIntent), and the verified payment confirms it;
- **bank transfer**: the booking is held until the departure closes for booking, and the
  association's treasurer marks the transfer received (``transfers``): a payment of the
  total into the association's bank account, posted with the split; paid back by transfer
  if the booking is cancelled;
- **on arrival**, when the association offered it on the quote (``pay_on_arrival``) and the
  experience takes it: the booking is confirmed at once, unpaid, like a pay-on-arrival web
  booking; the guide collects the cash on the day, which posts it.

A quote is for the request's group size unless the association gives another. A quote past
its expiry, withdrawn, or replaced by a revision (``quote_changes``) cannot be accepted
(409). Every function only flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import DomainError, InvalidRequest
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    GroupMessage,
    GroupQuote,
    GroupRequest,
    GroupRequestStatus,
    PaymentMethod,
    QuotePricing,
    QuoteStatus,
    User,
)
from ...money import allocate
from ..booking import availability
from ..ledger import postings
from ..messages import outbox
from .requests import MAX_GROUP, RequestClosed

#: The most a quote may ask, in cents (a million dollars: a typo, not a price).
MAX_CENTS = 100_000_000
#: How a requester may pay: online with the booking's card page, or by bank transfer.
BANK_TRANSFER = postings.BANK_TRANSFER
ONLINE_METHODS = ("card", "deposit")
ON_ARRIVAL = PaymentMethod.ON_ARRIVAL.value


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


class QuoteWithdrawn(DomainError):
    status_code = 409
    default_message = _l("The association withdrew this quote; it can no longer be accepted.")


class QuoteSuperseded(DomainError):
    status_code = 409
    default_message = _l(
        "The association changed this quote; only its latest version may be accepted."
    )


class QuoteTaken(DomainError):
    status_code = 409
    default_message = _l(
        "The group accepted this quote: it can no longer be changed or withdrawn. Cancel the "
        "booking under its policy instead."
    )


@dataclass
class QuoteInput:
    pricing: str
    amount_cents: int
    day: date
    start: time
    #: The last day the quote may be accepted (through its end, local time).
    valid_until: date
    #: How many people it is for; ``None``: the request's group size.
    group_size: int | None = None
    #: The group may pay on arrival (only if the experience takes payment on arrival).
    pay_on_arrival: bool = False


@dataclass
class Terms:
    """A quote's input, checked: what ``new_quote`` writes."""

    pricing: QuotePricing
    amount_cents: int
    group_size: int
    total_cents: int
    starts_at: datetime
    expires_at: datetime
    pay_on_arrival: bool


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
            quote.expires_at > now or live_booking(quote, now) is not None
        ):
            return quote
        if quote.status == QuoteStatus.OFFERED and quote.expires_at > now:
            return quote
    return None


def check_terms(request: GroupRequest, data: QuoteInput, now: datetime, zone: ZoneInfo) -> Terms:
    """``data`` checked against ``request``, or raise with a clear message."""
    if data.pricing not in {p.value for p in QuotePricing}:
        raise InvalidRequest(_l("Say whether the price is per person or for the whole group."))
    if not _whole(data.amount_cents) or not 0 < data.amount_cents <= MAX_CENTS:
        raise InvalidRequest(_l("Enter a price greater than zero."))
    size = request.group_size if data.group_size is None else data.group_size
    if not _whole(size) or not 1 <= size <= MAX_GROUP:
        raise InvalidRequest(
            _l("The group size must be between %(low)s and %(high)s."), low=1, high=MAX_GROUP
        )
    if not isinstance(data.day, date) or not isinstance(data.start, time):
        raise InvalidRequest(_l("Give the day and time of the visit."))
    if not isinstance(data.valid_until, date):
        raise InvalidRequest(_l("Give the last day the quote may be accepted."))
    pricing = QuotePricing(data.pricing)
    total = total_for(pricing, data.amount_cents, size)
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
    if data.pay_on_arrival is not False and (
        data.pay_on_arrival is not True or ON_ARRIVAL not in experience.payment_option_codes
    ):
        raise InvalidRequest(_l("This experience does not take payment on arrival."))
    return Terms(
        pricing, data.amount_cents, size, total, starts_at, expires_at, data.pay_on_arrival
    )


def place_departure(
    session: Session, request: GroupRequest, starts_at: datetime, size: int, now: datetime
) -> Departure:
    """The private departure for a quote of ``request`` at ``starts_at`` for ``size``: a new
    one, or the request's own at that time (an earlier quote lapsed, was withdrawn or
    changed: no live booking holds seats on it), opened again for ``size``."""
    experience = request.experience
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
            capacity=size,
            group_request_id=request.id,
            created_at=now,
        )
        session.add(departure)
        session.flush()
        return departure
    if departure.group_request_id != request.id:
        raise DepartureTaken()
    departure = availability.lock_departure(session, departure.id)
    departure.capacity = size
    departure.status = DepartureStatus.SCHEDULED
    departure.cancel_reason = ""
    session.flush()
    return departure


def new_quote(
    session: Session,
    request: GroupRequest,
    terms: Terms,
    departure: Departure,
    actor: User,
    now: datetime,
    replaces: GroupQuote | None = None,
) -> GroupQuote:
    quote = GroupQuote(
        request_id=request.id,
        departure_id=departure.id,
        pricing=terms.pricing,
        amount_cents=terms.amount_cents,
        total_cents=terms.total_cents,
        group_size=terms.group_size,
        pay_on_arrival=terms.pay_on_arrival,
        currency=request.experience.currency,
        status=QuoteStatus.OFFERED,
        expires_at=terms.expires_at,
        created_at=now,
        created_by_id=actor.id,
        replaces_id=replaces.id if replaces is not None else None,
    )
    session.add(quote)
    session.flush()
    session.expire(request, ["quotes"])  # a view-only list: read it again
    return quote


def tell_requester(
    session: Session,
    quote: GroupQuote,
    kind: str,
    link: str,
    note,
    actor: User,
    now: datetime,
    **facts,
) -> None:
    """Queue the email of ``kind`` about ``quote`` (in the request's language) and, when
    ``note`` is given, post it on the request's thread in that language, from ``actor``;
    ``facts``: what that kind of email says besides the quote's own."""
    request = quote.request
    queue_group_email(
        session,
        request,
        kind,
        f"{kind.replace('_', '-')}-{quote.id}",
        link,
        total_cents=quote.total_cents,
        currency=quote.currency,
        group_size=quote.group_size,
        expires_at=quote.expires_at.isoformat(),
        starts_at=quote.departure.starts_at.isoformat(),
        **facts,
    )
    if note:
        with force_locale(request.language):
            body = str(note)  # a lazy string, read in the request's language
        post_staff_message(session, request, actor, body, now)


def queue_group_email(
    session: Session, request: GroupRequest, kind: str, key: str, link: str, **facts
) -> None:
    """Queue the email of ``kind`` to whoever sent ``request``, in its language, naming its
    experience; ``facts``: what that kind of email says besides."""
    text = request.experience.text(request.language)
    outbox.queue_account_email(
        session,
        kind=kind,
        key=key,
        recipient=request.email,
        language=request.language,
        url=link,
        experience=text.title if text else request.experience.slug,
        **facts,
    )


def post_staff_message(
    session: Session, request: GroupRequest, actor: User, body: str, now: datetime
) -> None:
    """Say ``body`` on the request's thread from the association's ``actor``."""
    session.add(
        GroupMessage(
            request_id=request.id,
            from_requester=False,
            author_id=actor.id,
            body=body,
            created_at=now,
        )
    )
    session.flush()


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
    terms = check_terms(request, data, now, zone)
    departure = place_departure(session, request, terms.starts_at, terms.group_size, now)
    quote = new_quote(session, request, terms, departure, actor, now)
    tell_requester(session, quote, "group_quote", link, "", actor, now)
    return quote


def check_open(quote: GroupQuote) -> None:
    """Raise unless ``quote`` still stands as the association sent it (expiry aside)."""
    if quote.status == QuoteStatus.WITHDRAWN:
        raise QuoteWithdrawn()
    if quote.status == QuoteStatus.SUPERSEDED:
        raise QuoteSuperseded()
    if quote.request.status != GroupRequestStatus.OPEN:
        raise RequestClosed()


def live_booking(quote: GroupQuote, now: datetime) -> Booking | None:
    """The quote's booking while it holds seats: confirmed, or held and not lapsed."""
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

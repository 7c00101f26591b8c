"""The requester's answer to a quote: accept it (and pay by card, deposit, bank transfer or
on arrival) or decline it. See ``quotes`` for the rules; every function only flushes."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...errors import DepartureUnavailable, InvalidRequest
from ...models import (
    Booking,
    DepartureStatus,
    GroupQuote,
    GroupRequestStatus,
    QuoteStatus,
)
from ..booking import availability, lifecycle, private
from ..messages import outbox
from .quotes import (
    BANK_TRANSFER,
    ON_ARRIVAL,
    ONLINE_METHODS,
    QuoteAnswered,
    QuoteExpired,
    check_open,
    live_booking,
    ticket_lines,
)


def check_answerable(quote: GroupQuote, now: datetime) -> None:
    check_open(quote)
    if quote.status == QuoteStatus.DECLINED:
        raise QuoteAnswered()
    if quote.status == QuoteStatus.ACCEPTED and live_booking(quote, now) is not None:
        raise QuoteAnswered()
    if quote.expires_at <= now:
        raise QuoteExpired()


def methods_for(online_offered: list[str], quote: GroupQuote | None = None) -> list[str]:
    """How the requester may pay: the experience's online methods that work now (``card``,
    ``deposit``), always a bank transfer, and on arrival when ``quote`` offers it and the
    experience still takes it."""
    methods = [m for m in ONLINE_METHODS if m in online_offered] + [BANK_TRANSFER]
    if quote is not None and quote.pay_on_arrival and ON_ARRIVAL in online_offered:
        methods.append(ON_ARRIVAL)
    return methods


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
    check_answerable(quote, now)
    if method not in methods_for(online_offered, quote):
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
    if method in (BANK_TRANSFER, ON_ARRIVAL):
        # A transfer takes days: the seats stay held until the departure closes for booking.
        # (Pay on arrival is confirmed below, once its seats are claimed.)
        hold_until = departure.starts_at - lifecycle.DEFAULT_CUTOFF
    else:
        hold_until = now + hold_for
    booking = private.hold_private_seats(
        session,
        departure,
        ticket_lines(quote, category.id, quote.group_size),
        private.PrivateContact(request.name, request.email, request.phone, request.language),
        method,
        now,
        hold_until,
    )
    quote.status = QuoteStatus.ACCEPTED
    quote.answered_at = now
    quote.booking = booking
    session.flush()
    if method == ON_ARRIVAL:
        # Nothing to pay before the day: confirmed now, like a pay-on-arrival web booking.
        lifecycle.confirm_booking(session, booking, ON_ARRIVAL, now)
        outbox.queue(session, booking, "confirmed")
    return booking


def decline_quote(session: Session, quote: GroupQuote, now: datetime) -> GroupQuote:
    """Decline ``quote``: the request is closed and the private departure cancelled."""
    check_open(quote)
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

"""The association changes its mind about a quote it sent, before the group accepted it.

- **Withdraw** (``withdraw_quote``): the quote is ``withdrawn`` and its private departure
  cancelled, so it holds nothing; the group is emailed and told on the request's thread, in
  the request's language, with the association's own words of why when it gives them (in
  the email, and as its message on the thread). Accepting it afterwards is refused (409)
  and changes nothing.
- **Change** (``revise_quote``): a revised quote (price, group size, day and time, expiry) is
  a new quote that supersedes the old one (``replaces_id`` names it), so the history stays:
  the old one is ``superseded`` and can no longer be accepted (409); the group sees the
  revision, and is emailed and told on the thread. Its private departure is the old one when
  the time is the same (its capacity set to the new size), else a new one, and the old one
  is cancelled.

A quote the group accepted and whose booking still holds seats (paid, or waiting for its
payment) cannot be withdrawn or changed (409): the booking is cancelled under its policy
instead. One whose unpaid card booking lapsed is still open, and may be. Every function
only flushes; the caller commits.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ...errors import DomainError, InvalidRequest
from ...models import DepartureStatus, GroupQuote, QuoteStatus, User
from ..booking import availability
from .quotes import (
    QuoteInput,
    QuoteTaken,
    check_open,
    check_terms,
    live_booking,
    new_quote,
    place_departure,
    post_staff_message,
    tell_requester,
)
from .requests import LIMITS

WITHDRAWN_NOTE = _l("We withdrew our quote; it can no longer be accepted.")
CHANGED_NOTE = _l(
    "We changed our quote: the new one is on this page, and the earlier one can no longer "
    "be accepted."
)


class ChangedSince(DomainError):
    """Staff changing or withdrawing a quote that was changed since (said to the staff, not
    in the requester's words)."""

    status_code = 409
    default_message = _l("This quote was changed since: change or withdraw its latest version.")


def _check_changeable(quote: GroupQuote, now: datetime) -> None:
    if quote.status == QuoteStatus.SUPERSEDED:
        raise ChangedSince()
    check_open(quote)
    if quote.status not in (QuoteStatus.OFFERED, QuoteStatus.ACCEPTED):
        raise QuoteTaken()
    if quote.status == QuoteStatus.ACCEPTED and live_booking(quote, now) is not None:
        raise QuoteTaken()


def lock_for_change(session: Session, quote: GroupQuote, now: datetime) -> None:
    """Lock the quote's departure, then read the quote and its booking again and check them:
    an acceptance claims its seats under the same lock, so it either committed before (and
    is seen here) or waits and then finds the departure cancelled or changed."""
    availability.lock_departure(session, quote.departure_id)
    session.refresh(quote)
    if quote.booking is not None:
        session.refresh(quote.booking)
    _check_changeable(quote, now)


def changeable(quote: GroupQuote | None, now: datetime) -> bool:
    """Whether the association may still change or withdraw ``quote``."""
    if quote is None:
        return False
    try:
        _check_changeable(quote, now)
    except DomainError:
        return False
    return True


def _cancel_departure(session: Session, quote: GroupQuote, reason: str) -> None:
    departure = availability.lock_departure(session, quote.departure_id)
    departure.status = DepartureStatus.CANCELLED
    departure.cancel_reason = reason
    session.flush()


def withdraw_quote(
    session: Session,
    quote: GroupQuote,
    actor: User,
    now: datetime,
    link: str,
    reason: str = "",
) -> GroupQuote:
    """Withdraw ``quote`` (see the module doc); ``link`` is the request's private page,
    ``reason`` the association's own words of why (optional, sent as written)."""
    reason = (reason or "").strip()
    if len(reason) > LIMITS["message"]:
        raise InvalidRequest(_l("A field is too long."))
    _check_changeable(quote, now)  # refuse early, before any lock
    lock_for_change(session, quote, now)
    quote.status = QuoteStatus.WITHDRAWN
    quote.withdrawn_at = now
    _cancel_departure(session, quote, "group quote withdrawn")
    tell_requester(
        session, quote, "group_quote_withdrawn", link, WITHDRAWN_NOTE, actor, now, reason=reason
    )
    if reason:
        post_staff_message(session, quote.request, actor, reason, now)
    return quote


def revise_quote(
    session: Session,
    quote: GroupQuote,
    data: QuoteInput,
    actor: User,
    now: datetime,
    zone: ZoneInfo,
    link: str,
) -> GroupQuote:
    """Send a revision of ``quote`` (see the module doc) and return it; raise with a clear
    message and write nothing on bad input."""
    _check_changeable(quote, now)  # refuse early, before any lock
    request = quote.request
    terms = check_terms(request, data, now, zone)
    lock_for_change(session, quote, now)
    old_departure_id = quote.departure_id
    departure = place_departure(session, request, terms.starts_at, terms.group_size, now)
    quote.status = QuoteStatus.SUPERSEDED
    if departure.id != old_departure_id:
        _cancel_departure(session, quote, "group quote changed")
    revision = new_quote(session, request, terms, departure, actor, now, replaces=quote)
    tell_requester(session, revision, "group_quote_changed", link, CHANGED_NOTE, actor, now)
    return revision

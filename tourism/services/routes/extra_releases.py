"""A route's extras and its curator's fee are paid once the route has started.

Paid ahead (the whole route by card, or sold by a prepaid reseller), each extra of a route
(lunch, a chocolate box, a canoe transfer) is credited to its provider, and the curator's
fee to the curator, *pending* (``settlement.stay_lines``), as the nights are
(``routes.night_releases``); ``release_route_extras`` (run with the hourly
``release-shares``, before the nights) moves them to available once the route has started:
at the departure of its first activity leg (``started_at``). An extra is sold with the
route, not with one of its legs, so all of them wait for the route's start. So no provider
is paid out for a route that may still be cancelled, and a route cancelled before it starts
takes the money back from the pending accounts: nobody is left owing anything.

Released once per route (memo ``route <ref>: extras and fee``): what the route's own
postings still hold pending for each provider and the curator (the payment or sale, less a
refund or a reversal), at most the extras and fee credited there, and never what the same
family still waits for as a night of the route (a family hosting a night and selling a
lunch has one pending account): that waits for its night. Of a route cancelled late, the
part the policy kept is released at the start. Cash collected on the day is credited
available at once and never passes through here; a route paid before the extras waited
holds nothing pending for them, so nothing is released.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Booking, BookingStatus, Departure, RouteBooking, RouteBookingLeg
from ...models.ledger import AccountState, LedgerAccount, TransactionKind
from ...timefmt import local_to_utc
from ..ledger import journal as ledger
from . import night_releases, settlement

PENDING = AccountState.PENDING


def memo(route_booking: RouteBooking) -> str:
    return f"route {route_booking.reference}: extras and fee"


def started_at(route_booking: RouteBooking) -> datetime:
    """When the route starts: its first activity leg's departure (local midnight of its
    first day for a route without one)."""
    starts = [booking_leg.booking.departure.starts_at for booking_leg in route_booking.legs]
    return min(starts) if starts else local_to_utc(route_booking.start_date, time.min)


def _credited(session: Session, route_booking: RouteBooking) -> dict[LedgerAccount, int]:
    """Each pending account the extras and the fee are credited to, with their cents."""
    credited: dict[LedgerAccount, int] = {}
    for item in route_booking.extras:
        account = settlement.provider_account(session, item, PENDING)
        credited[account] = credited.get(account, 0) + item.amount_cents
    if route_booking.curator_fee_cents:
        account = settlement.curator_account(session, route_booking, PENDING)
        credited[account] = credited.get(account, 0) + route_booking.curator_fee_cents
    return credited


def _nights_waiting(session: Session, route_booking: RouteBooking) -> dict[LedgerAccount, int]:
    """The cents of the route's nights not released yet, by their family's pending account."""
    waiting: dict[LedgerAccount, int] = {}
    for night in route_booking.nights:
        key = night_releases.memo(route_booking, night)
        if ledger.find_transaction(session, TransactionKind.RELEASE, memo=key) is None:
            account = night_releases.pending_account(session, night)
            waiting[account] = waiting.get(account, 0) + night.amount_cents
    return waiting


def release_route_booking(session: Session, route_booking: RouteBooking, now: datetime) -> int:
    """Release the route's extras and fee once it has started (see the module doc); returns
    the cents released. Idempotent."""
    if not (route_booking.extras or route_booking.curator_fee_cents):
        return 0
    if started_at(route_booking) > now:
        return 0
    key = memo(route_booking)
    if ledger.find_transaction(session, TransactionKind.RELEASE, memo=key) is not None:
        return 0
    credited = _credited(session, route_booking)
    holding = night_releases.held(session, route_booking, set(credited))
    waiting = _nights_waiting(session, route_booking)
    lines = []
    released = 0
    for account, cents in credited.items():
        amount = min(cents, holding.get(account, 0) - waiting.get(account, 0))
        if amount <= 0:
            continue
        lines += [(account, amount), (ledger.available_twin(session, account), -amount)]
        released += amount
    if lines:
        ledger.post(
            session,
            kind=TransactionKind.RELEASE,
            lines=lines,
            memo=key,
            currency=route_booking.currency,
            at=now,
        )
    return released


def release_route_extras(session: Session, now: datetime, days: int = 30) -> int:
    """Release the extras and fee of route bookings with a leg that started in the last
    ``days`` days (idempotent). Returns how many route bookings were looked at."""
    started = (
        select(RouteBookingLeg.id)
        .join(Booking, RouteBookingLeg.booking_id == Booking.id)
        .join(Departure, Booking.departure_id == Departure.id)
        .where(
            RouteBookingLeg.route_booking_id == RouteBooking.id,
            Departure.starts_at > now - timedelta(days=days),
            Departure.starts_at <= now,
        )
        .exists()
    )
    found = list(
        session.scalars(
            select(RouteBooking)
            .where(
                RouteBooking.confirmed_at.is_not(None),
                RouteBooking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
                started,
            )
            .order_by(RouteBooking.id)
        )
    )
    for route_booking in found:
        release_route_booking(session, route_booking, now)
    return len(found)

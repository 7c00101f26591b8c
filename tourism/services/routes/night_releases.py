"""A route's homestay night is paid to its family once the night has happened.

Paid ahead (the whole route by card, or sold by a prepaid reseller), each night of a route
is credited to its host family *pending* (``settlement.stay_lines``), like a single
booking's night (``ledger.night_releases``); ``release_route_nights`` (run with the hourly
``release-shares``) moves it to available once the night is over: from local midnight after
its date (``night_over_at``). So a family is never paid out for a night still to come, and a
route cancelled before its nights takes the money back from the pending account: no family
is left owing anything.

Each night is released once (memo ``route <ref>: night <id>``): a route's nights are paid
ahead by one card payment, or by one reseller's sale, never both. What is released is what
the route's own postings still hold pending for that family (the sale or payment, less a
refund or a reversal), at most the night's price: of a route cancelled late, the part the
policy kept is released on the nights' dates. Cash collected on the day the family hosts is
credited available at once and never passes through here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from ...models import BookingStatus, RouteBooking, RouteBookingNight
from ...models.ledger import (
    AccountKind,
    AccountState,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from ...timefmt import local
from ..ledger import journal as ledger
from ..ledger.night_releases import night_over_at

PENDING = AccountState.PENDING


def memo(route_booking: RouteBooking, night: RouteBookingNight) -> str:
    return f"route {route_booking.reference}: night {night.id}"


def pending_account(session: Session, night: RouteBookingNight) -> LedgerAccount:
    family = night.homestay.family
    return ledger.account(session, AccountKind.FAMILY, family=family, state=PENDING)


def held(session: Session, route_booking: RouteBooking, accounts=None) -> dict[LedgerAccount, int]:
    """What the route's own postings (memos ``route <ref>: …``: its card payment or its
    reseller's sale, refunds, releases; and any reversal of them) still hold on its host
    families' pending accounts (or on ``accounts``, pending ones)."""
    if accounts is None:
        accounts = {pending_account(session, night) for night in route_booking.nights}
    if not accounts:
        return {}
    prefix = f"route {route_booking.reference}:"
    own = LedgerTransaction.memo.startswith(prefix, autoescape=True)
    original = aliased(LedgerTransaction)
    reversed_own = select(original.id).where(original.memo.startswith(prefix, autoescape=True))
    rows = session.execute(
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(
            LedgerEntry.account_id.in_([a.id for a in accounts]),
            or_(own, LedgerTransaction.reverses_id.in_(reversed_own)),
        )
        .group_by(LedgerEntry.account_id)
    )
    sums = {account_id: -int(total) for account_id, total in rows}
    return {a: sums.get(a.id, 0) for a in accounts}


def release_route_booking(session: Session, route_booking: RouteBooking, now: datetime) -> int:
    """Release each night of the route over at ``now`` (see the module doc); returns the
    cents released. Idempotent."""
    nights = sorted(route_booking.nights, key=lambda n: (n.night, n.id))
    over = [n for n in nights if night_over_at(n.night) <= now]
    if not over:
        return 0
    holding = held(session, route_booking)
    released = 0
    for night in over:
        key = memo(route_booking, night)
        if ledger.find_transaction(session, TransactionKind.RELEASE, memo=key) is not None:
            continue
        account = pending_account(session, night)
        cents = min(night.amount_cents, holding.get(account, 0))
        if cents <= 0:
            continue
        holding[account] -= cents
        ledger.post(
            session,
            kind=TransactionKind.RELEASE,
            lines=[(account, cents), (ledger.available_twin(session, account), -cents)],
            memo=key,
            currency=route_booking.currency,
            at=now,
        )
        released += cents
    return released


def release_route_nights(session: Session, now: datetime, days: int = 30) -> int:
    """Release the nights of route bookings over in the last ``days`` days (idempotent).
    Returns how many route bookings were looked at."""
    since = local(now).date() - timedelta(days=days)
    found = list(
        session.scalars(
            select(RouteBooking)
            .where(
                RouteBooking.confirmed_at.is_not(None),
                RouteBooking.status.in_((BookingStatus.CONFIRMED, BookingStatus.CANCELLED)),
                select(RouteBookingNight.id)
                .where(
                    RouteBookingNight.route_booking_id == RouteBooking.id,
                    RouteBookingNight.night >= since,
                    RouteBookingNight.night <= local(now).date(),
                )
                .exists(),
            )
            .order_by(RouteBooking.id)
        )
    )
    for route_booking in found:
        release_route_booking(session, route_booking, now)
    return len(found)

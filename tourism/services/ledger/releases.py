"""Releasing shares: pending money becomes available to pay out once the visit happened.

Once a departure has started (``now >= starts_at``) and a stop is confirmed visited, the
stop's host family's pending share of every payment on the departure moves to available (a
family hosting several stops is released whole at its first confirmed stop); at the first
confirmed stop the guides', funds' and platform's shares are released too. Before that,
money paid while the departure had no guides is handed from the guides' unassigned pool to
the guides who ran it (``assign_guide_pool``). Everything here is idempotent: one release
per payment and stop visit, one per payment for the others.

A homestay night sold with the booking is left pending by these releases and released on
its own once the night is over (``night_releases``): a night after the activity is paid
after its own date, not the departure's.

A stop confirmed before the start releases nothing at that moment;
``release_started_departures`` (``flask release-shares``, run every hour or so) catches up
with those, with guides assigned late, and with cash recorded after the stops.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    Payment,
    PaymentStatus,
    Stop,
    StopVisit,
    User,
)
from ...models.ledger import AccountKind, AccountState, LedgerAccount, TransactionKind
from ...money import allocate
from . import journal as ledger
from . import night_releases, reseller_postings
from .postings import remaining_shares

PENDING = AccountState.PENDING
GUIDES_MEMO = "guide pool to the departure's guides"


def _release(
    session: Session,
    payment: Payment,
    memo: str,
    accounts: Iterable[LedgerAccount],
    at: datetime | None = None,
    withheld: dict[LedgerAccount, int] | None = None,
):
    kind = TransactionKind.RELEASE
    if ledger.find_transaction(session, kind, payment_id=payment.id, memo=memo) is not None:
        return
    lines = []
    held = remaining_shares(session, payment)
    withheld = withheld or {}
    for account in accounts:
        cents = held.get(account, 0) - withheld.get(account, 0)
        if cents <= 0 or account.state != PENDING:
            continue
        available = ledger.available_twin(session, account)
        lines += [(account, cents), (available, -cents)]
    if lines:
        ledger.post(
            session,
            kind=TransactionKind.RELEASE,
            lines=lines,
            payment=payment,
            memo=memo,
            currency=payment.currency,
            at=at,
        )


def release_departure(
    session: Session, departure: Departure, now: datetime, only: Payment | None = None
) -> None:
    """Release what the confirmed stops of a departure that has started make available
    (see the module doc). Idempotent: one release per payment and stop visit, and one per
    payment for the guides, funds and platform. With ``only`` (cash just taken), only
    that payment's shares: nothing else changed, and a departure's other payments would
    each be read again for every cash entry."""
    if now < departure.starts_at:
        return
    visits = list(
        session.scalars(
            select(StopVisit).where(StopVisit.departure_id == departure.id).order_by(StopVisit.id)
        )
    )
    if not visits:
        return
    payments = session.scalars(
        select(Payment)
        .join(Booking, Payment.booking_id == Booking.id)
        .where(
            Booking.departure_id == departure.id,
            Booking.status != BookingStatus.HELD,
            Payment.status == PaymentStatus.SUCCEEDED,
            *([Payment.id == only.id] if only is not None else []),
        )
        .order_by(Payment.id)
    )
    guide_ids = departure_guide_ids(session, departure)
    hosts = set(
        session.scalars(
            select(Stop.family_id).where(
                Stop.experience_id == departure.experience_id, Stop.family_id.is_not(None)
            )
        )
    )
    for payment in payments:
        assign_guide_pool(session, departure, payment, now, guide_ids)
        held = remaining_shares(session, payment)
        booking = session.get(Booking, payment.booking_id)
        # Homestay nights are released on their own, once each night is over.
        kept = night_releases.withheld(session, booking, payment, held)
        for visit in visits:
            stop = session.get(Stop, visit.stop_id)
            family_accounts = [
                a for a in held if a.kind == AccountKind.FAMILY and a.family_id == stop.family_id
            ]
            if stop.family_id is not None:
                _release(session, payment, f"stop visit {visit.id}", family_accounts, now, kept)
        # A family hosting no stop (it provided an extra or a night) is released with
        # the funds, once the departure started and a stop was confirmed.
        others = [
            a
            for a in held
            if a.kind != AccountKind.FAMILY or a.family_id is None or a.family_id not in hosts
        ]
        _release(session, payment, f"departure {departure.id} started", others, now, kept)
        night_releases.release_nights(
            session, booking, payment, remaining_shares(session, payment), now
        )
    if only is not None:
        return
    # Prepaid resellers' sales: the same releases, per booking (no payment reached us).
    for booking in reseller_postings.prepaid_sales(session, departure.id):
        held = reseller_postings.sale_shares(session, booking)
        kept = night_releases.withheld(session, booking, None, held)
        held = {account: cents - kept.get(account, 0) for account, cents in held.items()}
        for visit in visits:
            stop = session.get(Stop, visit.stop_id)
            if stop.family_id is not None:
                family_accounts = [
                    a
                    for a in held
                    if a.kind == AccountKind.FAMILY and a.family_id == stop.family_id
                ]
                _release_sale(
                    session, booking, f"stop visit {visit.id}", held, family_accounts, now
                )
        others = [a for a in held if a.kind != AccountKind.FAMILY or a.family_id is None]
        _release_sale(session, booking, f"departure {departure.id} started", held, others, now)
        held = reseller_postings.sale_shares(session, booking)
        night_releases.release_nights(session, booking, None, held, now)


def _release_sale(
    session: Session,
    booking: Booking,
    memo: str,
    held: dict[LedgerAccount, int],
    accounts: Iterable[LedgerAccount],
    at: datetime,
) -> None:
    """``_release`` for a prepaid reseller's sale: once per booking and memo."""
    kind = TransactionKind.RELEASE
    found = ledger.find_transaction(
        session, kind, booking_id=booking.id, payment_id=None, memo=memo
    )
    if found is not None:
        return
    lines = []
    for account in accounts:
        cents = held.get(account, 0)
        if cents > 0 and account.state == PENDING:
            lines += [(account, cents), (ledger.available_twin(session, account), -cents)]
    if lines:
        ledger.post(
            session,
            kind=kind,
            lines=lines,
            booking=booking,
            memo=memo,
            currency=booking.currency,
            at=at,
        )


def departure_guide_ids(session: Session, departure: Departure) -> list[int]:
    """The departure's guides, lead first (in the order they were assigned)."""
    return list(
        session.scalars(
            select(DepartureGuide.user_id)
            .where(DepartureGuide.departure_id == departure.id)
            .order_by(DepartureGuide.id)
        )
    )


def assign_guide_pool(
    session: Session,
    departure: Departure,
    payment: Payment,
    at: datetime | None = None,
    guide_ids: list[int] | None = None,
) -> None:
    """Move what ``payment`` left in the guides' unassigned pool to the departure's guides
    (``guide_ids`` when the caller already has them)."""
    if guide_ids is None:
        guide_ids = departure_guide_ids(session, departure)
    if not guide_ids:
        return
    pools = {
        account: cents
        for account, cents in remaining_shares(session, payment).items()
        if account.kind == AccountKind.GUIDE and account.user_id is None
    }
    lines = []
    for pool, cents in pools.items():
        for user_id, part in zip(guide_ids, allocate(cents, [1] * len(guide_ids)), strict=True):
            guide = ledger.account(
                session,
                AccountKind.GUIDE,
                pool.association,
                user=session.get(User, user_id),
                state=pool.state,
            )
            lines.append((guide, -part))
        lines.append((pool, cents))
    if lines:
        ledger.post(
            session,
            kind=TransactionKind.ADJUSTMENT,
            lines=lines,
            payment=payment,
            memo=GUIDES_MEMO,
            currency=payment.currency,
            at=at,
        )


def release_started_departures(session: Session, now: datetime, days: int = 30) -> int:
    """Release what confirmed stops make available on departures that started in the last
    ``days`` days (idempotent). Returns how many departures were looked at."""
    departures = list(
        session.scalars(
            select(Departure)
            .where(
                Departure.starts_at <= now,
                Departure.starts_at >= now - timedelta(days=days),
                Departure.status != DepartureStatus.CANCELLED,
                select(StopVisit.id).where(StopVisit.departure_id == Departure.id).exists(),
            )
            .order_by(Departure.starts_at)
        )
    )
    for departure in departures:
        release_departure(session, departure, now)
    return len(departures)

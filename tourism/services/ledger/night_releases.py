"""A homestay night's money is released when the night has happened, not with its departure.

A single booking may add a night before or after its activity (``BookingNight``): the host
family's share of it is credited pending with the payment, like every share. The
departure's releases (``releases.release_departure``: at a confirmed stop, and for the
families hosting no stop, once the departure started) leave each night's part pending
(``withheld``); the night releases it on its own, once it is over: from local midnight
after the night's date (``night_over_at``), so a family is never paid for a night still to
come. A night before the activity is over by the time the activity starts, so its family is
paid as before; a night after it waits for its own date to pass. Each night is released
once per payment (memo ``night <id>``), or, for a prepaid reseller's sale, once per booking.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from ...models import Booking, BookingNight, LedgerAccount, Payment
from ...models.ledger import AccountState, TransactionKind
from ...timefmt import local_to_utc
from . import journal as ledger
from . import provider_shares
from .shares import paid_before

PENDING = AccountState.PENDING


def night_over_at(night: date) -> datetime:
    """When a night has happened: the start of the next day, local time."""
    return local_to_utc(night + timedelta(days=1), time.min)


def memo(night: BookingNight) -> str:
    return f"night {night.id}"


def _credits(session: Session, booking: Booking, payment: Payment | None):
    """(night, pending account, cents) this payment (or, ``None``, a prepaid reseller's
    sale of the whole booking) credited each night's host family."""
    if not booking.nights:
        return []
    if payment is None:
        gross, before = booking.total_cents, 0
    else:
        gross, before = payment.amount_cents, paid_before(session, payment)
    credits, _, _ = provider_shares.item_credits(session, booking, gross, before)
    return [
        (item, account, cents)
        for item, account, cents in credits
        if cents > 0 and isinstance(item, BookingNight)
    ]


def _released(session: Session, booking: Booking, payment: Payment | None, night) -> bool:
    kind = TransactionKind.RELEASE
    if payment is None:
        found = ledger.find_transaction(
            session, kind, booking_id=booking.id, payment_id=None, memo=memo(night)
        )
    else:
        found = ledger.find_transaction(session, kind, payment_id=payment.id, memo=memo(night))
    return found is not None


def withheld(
    session: Session, booking: Booking, payment: Payment | None, held: dict[LedgerAccount, int]
) -> dict[LedgerAccount, int]:
    """Per pending account, what the departure's releases must leave pending of ``held``:
    the nights of the booking not released yet (at most what the account still holds)."""
    kept: dict[LedgerAccount, int] = {}
    for night, account, cents in _credits(session, booking, payment):
        if not _released(session, booking, payment, night):
            kept[account] = kept.get(account, 0) + cents
    return {account: min(cents, held.get(account, 0)) for account, cents in kept.items()}


def release_nights(
    session: Session,
    booking: Booking,
    payment: Payment | None,
    held: dict[LedgerAccount, int],
    now: datetime,
) -> None:
    """Release each night of the booking that is over at ``now``: its family's part of this
    payment (or sale) moves from pending to available. Idempotent."""
    for night, account, cents in _credits(session, booking, payment):
        if now < night_over_at(night.night) or _released(session, booking, payment, night):
            continue
        cents = min(cents, held.get(account, 0))
        if cents <= 0 or account.state != PENDING:
            continue
        held[account] = held.get(account, 0) - cents
        available = ledger.available_twin(session, account)
        ledger.post(
            session,
            kind=TransactionKind.RELEASE,
            lines=[(account, cents), (available, -cents)],
            booking=booking,
            payment=payment,
            memo=memo(night),
            currency=booking.currency,
            at=now,
        )

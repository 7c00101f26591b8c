"""The part of a booking's payment that pays its extras and homestay nights: credited to
who provides each (the host family, the extra's family, or the association's fund when an
extra has no family), pending like the split, before the rest is split by the experience's
rule.

A booking paid in parts (a deposit, then cash) carries the add-ons in proportion to each
part, floored cumulatively as the split's fixed amounts are, so once the booking is paid in
full every provider has been credited exactly its items' amounts, to the cent. The
processor's fee comes out of the tickets' part, never out of a provider's.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...models import Booking, Family
from ...models.ledger import AccountKind, AccountState, LedgerAccount
from ...money import allocate
from . import journal as ledger

PENDING = AccountState.PENDING


def _items(booking: Booking) -> list[tuple[object, object, int]]:
    """(the extra or night, its provider, cents) per extra and night, in a fixed order."""
    items = []
    for item in booking.extras:
        extra = item.extra
        items.append((item, extra.family or extra.association, item.amount_cents))
    for night in booking.nights:
        items.append((night, night.homestay.family, night.amount_cents))
    return [(item, who, cents) for item, who, cents in items if cents > 0]


def _account(session: Session, provider):
    if isinstance(provider, Family):
        return ledger.account(session, AccountKind.FAMILY, family=provider, state=PENDING)
    return ledger.account(session, AccountKind.ASSOCIATION_FUND, provider, state=PENDING)


def addons_paid(booking: Booking, paid: int) -> int:
    """Of ``paid`` cents of the booking, how much pays its add-ons (floored)."""
    total, addons = booking.total_cents, booking.addons_cents
    if total <= 0 or addons <= 0:
        return 0
    return addons * min(max(paid, 0), total) // total


def item_credits(
    session: Session, booking: Booking, gross: int, paid_before: int
) -> tuple[list[tuple[object, LedgerAccount, int]], int, int]:
    """(the extra or night, its provider's pending account, cents) for what ``gross`` of the
    booking brings each add-on after ``paid_before``; the add-ons' part of this payment, and
    of what was paid before."""
    items = _items(booking)
    if not items:
        return [], 0, 0
    before = addons_paid(booking, paid_before)
    after = addons_paid(booking, paid_before + gross)
    weights = [cents for _, _, cents in items]
    was, now = allocate(before, weights), allocate(after, weights)
    credits = [
        (item, _account(session, who), new - old)
        for (item, who, _), old, new in zip(items, was, now, strict=True)
        if new != old
    ]
    return credits, after - before, before


def provider_lines(
    session: Session, booking: Booking, gross: int, paid_before: int
) -> tuple[list, int, int]:
    """(lines crediting the providers, the add-ons' part of this payment, the add-ons' part
    of what was paid before)."""
    credits, addons, before = item_credits(session, booking, gross, paid_before)
    return [(account, -cents) for _, account, cents in credits], addons, before

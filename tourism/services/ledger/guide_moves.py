"""The guides' share of a booking moved to another departure follows it.

A payment's guide share is credited, pending, to the guides of the departure when the money
arrived (or to the association's unassigned guide pool). When staff move the booking to
another date, the old departure's guides will not run the visit: the share still pending is
handed over to the new departure's guides (equal parts, lead first), or back to the pool
when it has none yet (``releases.assign_guide_pool`` hands it on once guides are assigned).

One ``adjustment`` per payment (and one for a prepaid reseller's sale, which names the
booking and no payment). Adjustments count as what a share "was given"
(``postings.ORIGINAL_KINDS``), so a later refund claws back from the new guides.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Booking, Departure, Payment, PaymentStatus, User
from ...models.ledger import AccountKind, AccountState, LedgerAccount, TransactionKind
from ...money import allocate
from . import journal as ledger
from . import reseller_postings
from .postings import remaining_shares
from .releases import departure_guide_ids

MEMO = "guide share to the new departure's guides"


def _lines(session: Session, held: dict[LedgerAccount, int], guide_ids: list[int]) -> list:
    """The entries that make the pending guide accounts in ``held`` hold their total in
    equal parts for ``guide_ids`` (or all in the pool), per association: empty when they
    already do."""
    pending = defaultdict(dict)
    for account, cents in held.items():
        if account.kind == AccountKind.GUIDE and account.state == AccountState.PENDING:
            pending[account.association][account] = cents
    lines = []
    for association, current in pending.items():
        total = sum(current.values())
        if guide_ids:
            parts = allocate(total, [1] * len(guide_ids))
            target = {
                ledger.account(
                    session,
                    AccountKind.GUIDE,
                    association,
                    user=session.get(User, user_id),
                    state=AccountState.PENDING,
                ): part
                for user_id, part in zip(guide_ids, parts, strict=True)
            }
        else:
            pool = ledger.account(
                session, AccountKind.GUIDE, association, state=AccountState.PENDING
            )
            target = {pool: total}
        for account in sorted(set(current) | set(target), key=lambda a: a.id or 0):
            # Held is owed (credit): giving an account more is a negative entry.
            delta = target.get(account, 0) - current.get(account, 0)
            if delta:
                lines.append((account, -delta))
    return lines


def follow_departure(session: Session, booking: Booking, departure: Departure, now: datetime):
    """Hand the still pending guide shares of ``booking`` (now on ``departure``) to that
    departure's guides. Call it in the transaction that moves the booking."""
    guide_ids = departure_guide_ids(session, departure)
    payments = session.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.id)
    )
    for payment in payments:
        lines = _lines(session, remaining_shares(session, payment), guide_ids)
        if lines:
            ledger.post(
                session,
                kind=TransactionKind.ADJUSTMENT,
                lines=lines,
                payment=payment,
                memo=MEMO,
                currency=payment.currency,
                at=now,
            )
    lines = _lines(session, reseller_postings.sale_shares(session, booking), guide_ids)
    if lines:
        ledger.post(
            session,
            kind=TransactionKind.ADJUSTMENT,
            lines=lines,
            booking=booking,
            memo=MEMO,
            currency=booking.currency,
            at=now,
        )

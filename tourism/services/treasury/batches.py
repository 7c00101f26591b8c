"""Settling several payouts at once: the treasurer's payout table, recorded as one batch
(one savepoint, one payout sheet) or not at all.

The table is shown with its batch id (``shown_batch_id``), so the same table sent twice (a
double click, a slow connection) records one settlement: the second sending finds the first
one's payouts under that id and raises ``BatchSentAgain`` (docs/decisions.md). Services
flush and never commit: the view commits once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import faults
from ...errors import DomainError, NotFound
from ...models import Association, Payout, PayoutMethod, User
from ..booking.caps import serialise_form_key
from .payouts import Beneficiary, PayoutError, record_payout


class EmptyBatch(PayoutError):
    default_message = _l("Select at least one family or guide to pay.")


class DuplicateBeneficiary(PayoutError):
    default_message = _l("%(name)s is selected twice.")


class BatchSentAgain(DomainError):
    """The payout table was sent again (a double click, a slow connection, the page sent
    once more): nothing new is written, the payouts its first sending recorded stand."""

    status_code = 303
    default_message = _l(
        "These payouts had already been recorded: nothing was recorded twice. Here is their sheet."
    )

    def __init__(self, batch: str) -> None:
        super().__init__()
        self.batch = batch


@dataclass
class BatchItem:
    beneficiary: Beneficiary
    amount_cents: int
    reference: str = ""
    receipt: str | None = None


#: A batch id as ``new_batch_id`` draws it: what a payout table may be sent with.
BATCH_ID = re.compile(r"[0-9a-f]{32}")


def new_batch_id() -> str:
    """A random batch id. The payout table is shown with one, so sending it twice records
    one settlement (``settle_batch``)."""
    return secrets.token_hex(16)


def shown_batch_id(sent: str | None = None) -> str:
    """The batch id the payout table is shown with: the one it was sent with when it is
    shown again after a refusal (nothing was recorded under it), else a new one."""
    return sent if isinstance(sent, str) and BATCH_ID.fullmatch(sent) else new_batch_id()


def _batch_for(session: Session, association: Association, sent: str | None) -> str:
    """The id the batch is recorded under: the one the table was shown with, or a new one
    if it came without one, with one not drawn here, or with another association's. Raises
    ``BatchSentAgain`` if this association already recorded a batch under it."""
    if not (isinstance(sent, str) and BATCH_ID.fullmatch(sent)):
        return new_batch_id()
    # Two sendings of one table wait here for each other (PostgreSQL's advisory lock; on
    # SQLite every write request's transaction holds the write lock from its start), so the
    # second one sees the first one's payouts once they are committed.
    serialise_form_key(session, sent)
    owner = session.scalar(select(Payout.association_id).where(Payout.batch == sent).limit(1))
    if owner == association.id:
        raise BatchSentAgain(sent)
    return sent if owner is None else new_batch_id()


def settle_batch(
    session: Session,
    association: Association,
    items: Sequence[BatchItem],
    method: PayoutMethod | str,
    actor: User,
    now: datetime,
    batch: str | None = None,
) -> tuple[str, list[Payout]]:
    """Record several payouts as one settlement: all of them, or (on the first refusal) none.

    ``batch`` is the id the payout table was shown with (``new_batch_id``): if this
    association already recorded a batch under it, the table was sent twice and
    ``BatchSentAgain`` is raised, writing nothing. Runs in a savepoint, so a refused item
    undoes the items before it even if the caller went on to commit; the caller's own
    transaction stays usable.
    """
    if not items:
        raise EmptyBatch()
    seen: set[str] = set()
    for item in items:
        if item.beneficiary.key in seen:
            raise DuplicateBeneficiary(name=item.beneficiary.name)
        seen.add(item.beneficiary.key)
    batch = _batch_for(session, association, batch)
    with session.begin_nested():
        payouts = [
            record_payout(
                session,
                association,
                item.beneficiary,
                item.amount_cents,
                method,
                item.reference,
                actor,
                now,
                receipt=item.receipt,
                batch=batch,
            )
            for item in items
        ]
    faults.point("payouts.recorded")
    return batch, payouts


def batch_payouts(session: Session, association: Association, batch: str) -> list[Payout]:
    """The payouts of one settlement of ``association``; ``NotFound`` if there are none."""
    payouts = session.scalars(
        select(Payout)
        .where(Payout.association_id == association.id, Payout.batch == batch)
        .order_by(Payout.id)
    ).all()
    if not payouts:
        raise NotFound()
    return list(payouts)

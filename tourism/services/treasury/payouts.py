"""Paying families and guides what the ledger says they are owed, and their statements.

**Ledger convention for a payout.** A beneficiary's share is a credit (negative balance) on
its ``available`` account once released. Paying it out *debits* that account (bringing
what we owe back towards zero) and *credits* where the money came from: the association's
``cash_held`` account (the office's cash, no user) for cash, its ``bank`` account for
every other method (bank transfer, cooperative savings, mobile money all leave the bank).
So "paid out" is not an account of its own: it is the sum of the ``payout`` transactions,
which each ``Payout`` row names, and the ledger stays balanced and append-only. A payout
never touches ``pending`` money: only what was released may be paid.

Services flush and never commit: the view commits once, so a batch is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import InvalidRequest, NotFound
from ...models import (
    AccountKind,
    AccountState,
    Association,
    Family,
    LedgerAccount,
    LedgerEntry,
    Membership,
    Payout,
    PayoutMethod,
    Role,
    TransactionKind,
    User,
)
from ...money import format_money
from ..access import audit
from ..ledger import journal as ledger
from ..messages import phone_notices

REFERENCE_LIMIT = 120


class PayoutError(InvalidRequest):
    """A payout that cannot be recorded; nothing was written."""


class AmountNotPositive(PayoutError):
    default_message = _l("The amount to pay %(name)s must be more than zero.")


class AmountAboveAvailable(PayoutError):
    status_code = 409
    default_message = _l(
        "%(name)s can be paid at most %(available)s now: the rest is not released yet."
    )


class UnknownMethod(PayoutError):
    default_message = _l("Please choose how the money was paid.")


class ReferenceTooLong(PayoutError):
    def __init__(self, n: int) -> None:
        super().__init__(
            _ln(
                "A reference is longer than %(num)s character.",
                "A reference is longer than %(num)s characters.",
                n,
            )
        )


# Beneficiaries and balances ------------------------------------------------------------------


@dataclass(frozen=True)
class Beneficiary:
    """A family or a guide of one association: whoever a share can be owed to."""

    association: Association
    family: Family | None = None
    user: User | None = None

    @property
    def kind(self) -> AccountKind:
        return AccountKind.FAMILY if self.family is not None else AccountKind.GUIDE

    @property
    def name(self) -> str:
        return self.family.name if self.family is not None else self.user.name

    @property
    def key(self) -> str:
        """A form-safe identifier: ``f12`` for a family, ``u7`` for a guide."""
        return f"f{self.family.id}" if self.family is not None else f"u{self.user.id}"

    def account(self, session: Session, state: AccountState) -> LedgerAccount:
        return ledger.account(
            session,
            self.kind,
            self.association,
            family=self.family,
            user=self.user,
            state=state,
        )


def as_beneficiary(association: Association, member: Family | User) -> Beneficiary:
    """A family (of ``association``; else ``NotFound``) or a guide, as a beneficiary there."""
    if isinstance(member, Family):
        if member.association_id != association.id:
            raise NotFound()
        return Beneficiary(association, family=member)
    return Beneficiary(association, user=member)


@dataclass
class BalanceLine:
    beneficiary: Beneficiary
    #: Owed but not yet released (the departure has not run): shown, not payable.
    pending_cents: int = 0
    #: Released and payable now.
    available_cents: int = 0


def _owed(session: Session, association: Association) -> dict[tuple, dict[AccountState, int]]:
    """Positive amounts owed per (kind, family_id, user_id) and state: one GROUP BY query."""
    rows = session.execute(
        select(
            LedgerAccount.kind,
            LedgerAccount.family_id,
            LedgerAccount.user_id,
            LedgerAccount.state,
            func.sum(LedgerEntry.amount_cents),
        )
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.association_id == association.id,
            LedgerAccount.kind.in_((AccountKind.FAMILY, AccountKind.GUIDE)),
            LedgerEntry.currency == "USD",
        )
        .group_by(
            LedgerAccount.kind, LedgerAccount.family_id, LedgerAccount.user_id, LedgerAccount.state
        )
    )
    owed: dict[tuple, dict[AccountState, int]] = {}
    for kind, family_id, user_id, state, total in rows:
        # Credit-normal accounts: what we owe is minus the balance.
        owed.setdefault((kind, family_id, user_id), {})[state] = -int(total)
    return owed


def beneficiary_balances(session: Session, association: Association) -> list[BalanceLine]:
    """Every family and guide of ``association`` with what is pending and available for them.

    Families are the association's (active ones, and inactive ones still owed money); guides
    are its guide members and anyone else holding a guide account there. The unassigned
    pools (accounts naming no family or guide) are not beneficiaries and are left out.
    """
    owed = _owed(session, association)
    families = session.scalars(
        select(Family).where(Family.association_id == association.id).order_by(Family.name)
    ).all()
    guide_ids = {uid for (kind, _f, uid) in owed if kind == AccountKind.GUIDE and uid}
    guide_ids |= set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.association_id == association.id, Membership.role == Role.GUIDE
            )
        )
    )
    guides = (
        session.scalars(select(User).where(User.id.in_(guide_ids)).order_by(User.name)).all()
        if guide_ids
        else []
    )
    lines = []
    for family in families:
        amounts = owed.get((AccountKind.FAMILY, family.id, None), {})
        if not family.is_active and not any(amounts.values()):
            continue
        lines.append(_line(Beneficiary(association, family=family), amounts))
    for user in guides:
        amounts = owed.get((AccountKind.GUIDE, None, user.id), {})
        lines.append(_line(Beneficiary(association, user=user), amounts))
    return lines


def _line(who: Beneficiary, amounts: dict[AccountState, int]) -> BalanceLine:
    return BalanceLine(
        who,
        pending_cents=amounts.get(AccountState.PENDING, 0),
        available_cents=amounts.get(AccountState.AVAILABLE, 0),
    )


# Recording payouts ---------------------------------------------------------------------------


def _available_locked(session: Session, who: Beneficiary) -> tuple[LedgerAccount, int]:
    """The beneficiary's available account, locked against a concurrent payout (``FOR
    UPDATE`` on PostgreSQL; SQLite's writer lock serialises anyway), and what it holds."""
    account = who.account(session, AccountState.AVAILABLE)
    session.execute(
        select(LedgerAccount.id).where(LedgerAccount.id == account.id).with_for_update()
    )
    return account, -ledger.balance(session, account)


def record_payout(
    session: Session,
    association: Association,
    beneficiary: Beneficiary | Family | User,
    amount_cents: int,
    method: PayoutMethod | str,
    reference: str,
    actor: User,
    now: datetime,
    receipt: str | None = None,
    batch: str | None = None,
) -> Payout:
    """Pay ``amount_cents`` of ``beneficiary``'s available balance, by ``method``.

    Refuses a non-positive amount (``AmountNotPositive``) and more than is available
    (``AmountAboveAvailable``), writing nothing. Posts a ``payout`` transaction (see the
    module docstring for its accounts) and the ``Payout`` row naming it. ``receipt`` is the
    key of a stored receipt photo (``store_receipt``).
    """
    who = (
        beneficiary
        if isinstance(beneficiary, Beneficiary)
        else as_beneficiary(association, beneficiary)
    )
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise TypeError("payout amounts are integer cents")
    try:
        method = PayoutMethod(method)
    except ValueError as exc:
        raise UnknownMethod() from exc
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_LIMIT:
        raise ReferenceTooLong(n=REFERENCE_LIMIT)
    if amount_cents <= 0:
        raise AmountNotPositive(name=who.name)
    available_account, available = _available_locked(session, who)
    if amount_cents > available:
        raise AmountAboveAvailable(name=who.name, available=format_money(max(available, 0)))
    source = ledger.account(
        session,
        AccountKind.CASH_HELD if method == PayoutMethod.CASH else AccountKind.BANK,
        association,
    )
    transaction = ledger.post(
        session,
        kind=TransactionKind.PAYOUT,
        lines=[(available_account, amount_cents), (source, -amount_cents)],
        memo=f"payout {method} {who.key} {reference}"[:300],
        at=now,
    )
    payout = Payout(
        association_id=association.id,
        family_id=who.family.id if who.family is not None else None,
        user_id=who.user.id if who.user is not None else None,
        amount_cents=amount_cents,
        method=method,
        reference=reference,
        receipt_key=receipt,
        recorded_by_id=actor.id,
        created_at=now,
        ledger_transaction_id=transaction.id,
        batch=batch,
    )
    session.add(payout)
    session.flush()
    audit.record(
        session,
        audit.PAYOUT_RECORDED,
        actor=actor,
        target=f"payout:{payout.id}",
        association_id=association.id,
        detail=f"{amount_cents} cents to {who.key} by {method}",
        at=now,
    )
    if who.family is not None:
        # The family hears of it on WhatsApp/SMS if it agreed to (after the commit).
        phone_notices.queue_family_payout(session, who.family, payout)
    return payout


def association_payouts(session: Session, association: Association) -> list[Payout]:
    return list(
        session.scalars(
            select(Payout)
            .where(Payout.association_id == association.id)
            .order_by(Payout.created_at.desc(), Payout.id.desc())
        )
    )

"""Double-entry bookkeeping: post balanced transactions, reverse them, read balances, check.

Every posting about money goes through ``post``: it refuses an empty or unbalanced
transaction, so "every transaction sums to zero" holds by construction; ``checks.check`` proves
it (and more) over the stored rows, for the ``flask ledger-check`` command and the tests.
Like every service here, these functions ``flush`` and never commit. See
``tourism/models/ledger.py`` for the accounts and the sign convention (debit +, credit -).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...database import utcnow
from ...models import Association, Booking, Dispute, Family, Payment, Refund, Reseller, User
from ...models.ledger import (
    ASSOCIATION_KINDS,
    BENEFICIARY_KINDS,
    RESELLER_KINDS,
    USER_KINDS,
    AccountKind,
    AccountState,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)


class LedgerError(Exception):
    """A posting that would break the books. A programming error, not a visitor's mistake."""


class EmptyTransaction(LedgerError):
    pass


class UnbalancedTransaction(LedgerError):
    def __init__(self, total: int) -> None:
        self.total = total
        super().__init__(f"entries sum to {total:+d} cents, not zero")


class AlreadyReversed(LedgerError):
    pass


class InvalidAccount(LedgerError):
    pass


# Accounts ------------------------------------------------------------------------------------


def account(
    session: Session,
    kind: AccountKind | str,
    association: Association | None = None,
    family: Family | None = None,
    user: User | None = None,
    state: AccountState | str | None = None,
    reseller: Reseller | None = None,
) -> LedgerAccount:
    """The account for this kind, association, member and state; created on first use.

    A family's account belongs to the family's association (``association`` may be left
    out). Beneficiary kinds need a ``state`` (pending or available); the others refuse one.
    """
    kind = AccountKind(kind)
    state = AccountState(state) if state is not None else None
    if family is not None:
        if kind != AccountKind.FAMILY:
            raise InvalidAccount(f"a {kind} account cannot name a family")
        if association is not None and association.id != family.association_id:
            raise InvalidAccount("the family belongs to another association")
        association = association or family.association
    if (reseller is not None) != (kind in RESELLER_KINDS):
        raise InvalidAccount(
            f"a {kind} account {'needs' if reseller is None else 'cannot name'} a reseller"
        )
    if reseller is not None:
        if association is not None and association.id != reseller.association_id:
            raise InvalidAccount("the reseller belongs to another association")
        association = association or reseller.association
    if user is not None and kind not in USER_KINDS:
        raise InvalidAccount(f"a {kind} account cannot name a user")
    if kind in ASSOCIATION_KINDS and association is None:
        raise InvalidAccount(f"a {kind} account belongs to an association")
    if (kind in BENEFICIARY_KINDS) != (state is not None):
        raise InvalidAccount(
            f"a {kind} account {'needs' if kind in BENEFICIARY_KINDS else 'takes no'} state"
        )

    key = LedgerAccount.key_for(
        kind,
        association.id if association is not None else None,
        family.id if family is not None else None,
        user.id if user is not None else None,
        state,
        reseller.id if reseller is not None else None,
    )
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
    if found is not None:
        return found
    created = LedgerAccount(
        key=key,
        kind=kind,
        association=association,
        family=family,
        user=user,
        state=state,
        reseller=reseller,
    )
    try:
        # A savepoint: if a concurrent transaction created the same account first, only
        # this insert is undone and we use theirs.
        with session.begin_nested():
            session.add(created)
    except IntegrityError:
        found = session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))
        if found is None:
            raise
        return found
    return created


# Posting -------------------------------------------------------------------------------------


def find_transaction(session: Session, kind: TransactionKind, **refs) -> LedgerTransaction | None:
    """The transaction of ``kind`` whose reference columns equal ``refs`` (``payment_id=…``),
    if one was posted: postings call it first so posting twice posts once."""
    conditions = [LedgerTransaction.kind == kind]
    for name, value in refs.items():
        conditions.append(getattr(LedgerTransaction, name) == value)
    return session.scalars(select(LedgerTransaction).where(*conditions).limit(1)).first()


def available_twin(session: Session, account_: LedgerAccount) -> LedgerAccount:
    """The ``available`` account of the same beneficiary as a ``pending`` one."""
    return account(
        session,
        account_.kind,
        association=account_.association if account_.family_id is None else None,
        family=account_.family,
        user=account_.user,
        state=AccountState.AVAILABLE,
    )


def post(
    session: Session,
    *,
    kind: TransactionKind | str,
    lines: Iterable[tuple[LedgerAccount, int]],
    booking: Booking | None = None,
    payment: Payment | None = None,
    refund: Refund | None = None,
    dispute: Dispute | None = None,
    reverses: LedgerTransaction | None = None,
    memo: str = "",
    currency: str = "USD",
    at: datetime | None = None,
) -> LedgerTransaction:
    """Record one balanced transaction: ``lines`` of (account, signed cents), debit +.

    ``at``: when the event happened, if not now (a payment posted after the fact keeps the
    date the money arrived, which is the month reports count it in).

    Zero lines are skipped; what is left must be non-empty and sum to zero, or
    ``EmptyTransaction`` / ``UnbalancedTransaction`` is raised and nothing is written.
    A refund or dispute implies its payment, and a payment its booking, so transactions
    about a payment's money always name it (``check`` relies on it).
    """
    kind = TransactionKind(kind)
    kept: list[tuple[LedgerAccount, int]] = []
    for ledger_account, amount in lines:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"ledger amounts are integer cents, not {type(amount).__name__}")
        if amount:
            kept.append((ledger_account, amount))
    if not kept:
        raise EmptyTransaction(f"a {kind} transaction needs at least one non-zero line")
    total = sum(amount for _, amount in kept)
    if total:
        raise UnbalancedTransaction(total)

    for source in (refund, dispute):
        if source is None:
            continue
        # Compared as objects (one per row in a session), so unflushed ones work too.
        if payment is not None and source.payment is not payment:
            raise LedgerError(f"{source!r} is not about {payment!r}")
        payment = payment or source.payment
    if payment is not None:
        if booking is not None and payment.booking is not booking:
            raise LedgerError(f"{payment!r} is not for {booking!r}")
        booking = booking or payment.booking
    if reverses is not None and _reversal_of(session, reverses) is not None:
        raise AlreadyReversed(f"transaction {reverses.id} has already been reversed")

    transaction = LedgerTransaction(
        kind=kind,
        booking=booking,
        payment=payment,
        refund=refund,
        dispute=dispute,
        reverses=reverses,
        memo=memo,
        created_at=at or utcnow(),
    )
    transaction.entries = [
        LedgerEntry(account=ledger_account, amount_cents=amount, currency=currency)
        for ledger_account, amount in kept
    ]
    session.add(transaction)
    session.flush()
    return transaction


def reverse(session: Session, transaction: LedgerTransaction, memo: str) -> LedgerTransaction:
    """Cancel ``transaction`` out with its exact negation (the only way to correct one).

    The reversal names the same booking, payment, refund and dispute, so per-payment and
    per-booking sums see both. A transaction can be reversed once (``AlreadyReversed``);
    a reversal can itself be reversed, which reinstates the original amounts.
    """
    currencies = {entry.currency for entry in transaction.entries}
    if len(currencies) != 1:
        raise LedgerError(f"transaction {transaction.id} has no single currency to reverse")
    return post(
        session,
        kind=TransactionKind.REVERSAL,
        lines=[(entry.account, -entry.amount_cents) for entry in transaction.entries],
        booking=transaction.booking,
        payment=transaction.payment,
        refund=transaction.refund,
        dispute=transaction.dispute,
        reverses=transaction,
        memo=memo,
        currency=currencies.pop(),
    )


def _reversal_of(session: Session, transaction: LedgerTransaction) -> LedgerTransaction | None:
    return session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.reverses_id == transaction.id)
    )


# Balances ------------------------------------------------------------------------------------


def _entry_filters(until: datetime | None, currency: str) -> list:
    """Entries in ``currency`` of transactions recorded before ``until`` (all if None)."""
    conditions = [LedgerEntry.currency == currency]
    if until is not None:
        conditions.append(LedgerTransaction.created_at < until)
    return conditions


def balance(
    session: Session,
    ledger_account: LedgerAccount,
    *,
    until: datetime | None = None,
    currency: str = "USD",
) -> int:
    """The account's signed balance in cents (debit +, credit -), optionally as it stood
    just before ``until``."""
    query = (
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account_id == ledger_account.id, *_entry_filters(until, currency))
    )
    return int(session.scalar(query))


def balances(
    session: Session,
    accounts: Sequence[LedgerAccount] | None = None,
    *,
    kind: AccountKind | str | None = None,
    association: Association | None = None,
    until: datetime | None = None,
    currency: str = "USD",
) -> dict[LedgerAccount, int]:
    """Signed balances of many accounts in one GROUP BY query.

    With ``accounts``: exactly those (zero when they have no entries). Otherwise every
    account with entries, optionally only of one ``kind`` and/or ``association``.
    """
    query = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(*_entry_filters(until, currency))
        .group_by(LedgerEntry.account_id)
    )
    if accounts is not None:
        query = query.where(LedgerEntry.account_id.in_([a.id for a in accounts]))
    if kind is not None:
        query = query.where(LedgerAccount.kind == AccountKind(kind))
    if association is not None:
        query = query.where(LedgerAccount.association_id == association.id)
    sums = {account_id: int(total) for account_id, total in session.execute(query)}
    if accounts is not None:
        return {a: sums.get(a.id, 0) for a in accounts}
    by_id = {
        a.id: a
        for a in session.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(list(sums))))
    }
    return {by_id[account_id]: total for account_id, total in sums.items()}

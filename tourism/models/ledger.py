"""The ledger: append-only double-entry bookkeeping of every cent that comes in and goes out.

A ``LedgerTransaction`` is one business event (a payment, a refund, a payout, a release…);
its ``LedgerEntry`` rows move money between ``LedgerAccount``\\ s and always sum to zero.
Balances are sums over entries, never stored totals.

**Sign convention.** ``amount_cents`` is signed: a *debit* is positive, a *credit* negative.
Accounts where money *is* (assets: ``stripe_clearing``, ``cash_held``, ``bank``,
``disputed_funds``) carry positive balances; accounts recording what is *owed* or *earned*
(every beneficiary share, refunds owed to tourists) carry negative ones, so "what we owe the
Tapuy family" is ``-balance``. ``AccountKind.normal_sign`` gives the sign a healthy balance
has, for reports that want to show positive numbers.

**Append-only.** Entries and transactions are never updated or deleted; a mistake is
corrected by a reversing transaction. The database refuses UPDATE and DELETE on both tables
(triggers created by the migration from the SQL in ``ledger_triggers``), and a
``before_flush`` hook refuses it earlier, in Python, with a clear error.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from .ledger_triggers import (  # noqa: F401  (re-exported: imported from here)
    APPEND_ONLY_TABLES,
    AppendOnlyViolation,
    append_only_triggers_sql,
    drop_append_only_triggers_sql,
)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class AccountKind(enum.StrEnum):
    """What an account records. One account per kind, association, member and state."""

    # Where money is (assets: debit-normal, balance >= 0) ----------------------------------
    #: Card money at the processor (Stripe), *gross* of its fees: a payment debits the full
    #: amount the tourist paid. The processor's balance for us is this plus
    #: ``processor_fees`` (a negative number).
    STRIPE_CLEARING = "stripe_clearing"
    #: Cash collected on arrival, held by the guide who collected it (``user``) or by the
    #: association's office (no user) until it is handed in or banked.
    CASH_HELD = "cash_held"
    #: The association's bank account: receives the processor's payouts and banked cash;
    #: pays families and guides by transfer.
    BANK = "bank"
    #: Money the processor withdrew while a chargeback is open; back to ``stripe_clearing``
    #: if the dispute is won, gone (clawed back from the shares) if it is lost.
    DISPUTED_FUNDS = "disputed_funds"
    #: Money a prepaid reseller (``reseller``) collected from guests for us and has not
    #: paid over yet: debited with a sale's price, credited by what it keeps and pays.
    RESELLER_RECEIVABLE = "reseller_receivable"
    #: The processor's fees, a contra-asset to ``stripe_clearing`` (credit-normal): the split
    #: deducts the fee from the gross first, so the fee is the processor's share of the
    #: payment, credited here, and no beneficiary is ever credited with it.
    PROCESSOR_FEES = "processor_fees"

    # What we owe (liabilities: credit-normal, balance <= 0) -------------------------------
    #: A host family's share. Without a family: shares for stops whose host is not known
    #: yet (an unassigned pool, allocated later).
    FAMILY = "family"
    #: A guide's share (``user``). Without a user: the pool of guide shares for departures
    #: whose guides are not assigned yet, allocated to the guides who ran them at release.
    GUIDE = "guide"
    #: The association's community fund.
    ASSOCIATION_FUND = "association_fund"
    #: The conservation fund (forest and chakra protection).
    CONSERVATION_FUND = "conservation_fund"
    #: Refunds owed to tourists and not yet returned (e.g. a cash booking cancelled): credited
    #: when the refund is granted, debited when the money is handed back.
    TOURIST_REFUNDS = "tourist_refunds"
    #: What the association owes a reseller (``reseller``): its commission on each sale,
    #: credited with the split. A prepaid reseller keeps it out of the money it collected.
    RESELLER_COMMISSION = "reseller_commission"

    # What we earn (income: credit-normal) -------------------------------------------------
    #: The platform's commission.
    PLATFORM = "platform"

    @property
    def normal_sign(self) -> int:
        """+1 for debit-normal accounts (money we hold), -1 for credit-normal ones."""
        return 1 if self in DEBIT_NORMAL_KINDS else -1


DEBIT_NORMAL_KINDS = frozenset(
    {
        AccountKind.STRIPE_CLEARING,
        AccountKind.CASH_HELD,
        AccountKind.BANK,
        AccountKind.DISPUTED_FUNDS,
        AccountKind.RESELLER_RECEIVABLE,
    }
)

#: Kinds that receive a share of a split. Each has two accounts per beneficiary, ``pending``
#: and ``available`` (see ``AccountState``).
BENEFICIARY_KINDS = frozenset(
    {
        AccountKind.FAMILY,
        AccountKind.GUIDE,
        AccountKind.ASSOCIATION_FUND,
        AccountKind.CONSERVATION_FUND,
        AccountKind.PLATFORM,
    }
)

#: Kinds that always belong to one association (the others may be platform-wide).
ASSOCIATION_KINDS = frozenset(
    {
        AccountKind.FAMILY,
        AccountKind.GUIDE,
        AccountKind.ASSOCIATION_FUND,
        AccountKind.CONSERVATION_FUND,
        AccountKind.CASH_HELD,
        AccountKind.BANK,
        AccountKind.TOURIST_REFUNDS,
        AccountKind.RESELLER_COMMISSION,
        AccountKind.RESELLER_RECEIVABLE,
    }
)

#: Kinds whose account names a reseller (and only they do).
RESELLER_KINDS = frozenset({AccountKind.RESELLER_COMMISSION, AccountKind.RESELLER_RECEIVABLE})

#: Kinds whose account may name a user: the guide paid, or the guide holding the cash.
USER_KINDS = frozenset({AccountKind.GUIDE, AccountKind.CASH_HELD})

#: Where a tourist's money is, or is owed back to them. For every payment the ledger
#: references, the sum of its transactions' entries on these accounts must equal what we
#: keep of the payment (amount - refunds - lost disputes); ``services.ledger.check`` checks.
SETTLEMENT_KINDS = frozenset(
    {
        AccountKind.STRIPE_CLEARING,
        AccountKind.CASH_HELD,
        AccountKind.BANK,
        AccountKind.DISPUTED_FUNDS,
        AccountKind.TOURIST_REFUNDS,
    }
)


class AccountState(enum.StrEnum):
    """Whether a beneficiary's money may be paid out yet.

    Two accounts per beneficiary rather than a flag on entries: moving money from pending
    to available is then itself a ledger transaction (``release``), dated, reversible and
    auditable like any other, and "what can be paid out now" is a plain balance.
    """

    #: Earned from a booking whose departure has not run yet: still refundable.
    PENDING = "pending"
    #: Released (the departure ran, the refund window closed): may be paid out.
    AVAILABLE = "available"


class TransactionKind(enum.StrEnum):
    PAYMENT = "payment"  # a card payment succeeded: the split, pending
    CASH = "cash"  # cash collected on arrival: the split, pending
    REFUND = "refund"  # money returned to the tourist
    DISPUTE = "dispute"  # a chargeback opened: the processor withdrew the amount
    DISPUTE_WON = "dispute_won"  # ... and returned it
    DISPUTE_LOST = "dispute_lost"  # ... and kept it: the shares are clawed back
    RELEASE = "release"  # pending shares become available
    PAYOUT = "payout"  # available money paid to a family or guide
    TRANSFER = "transfer"  # money moved between our own accounts (cash banked, processor payout)
    REVERSAL = "reversal"  # the exact negation of an earlier transaction (``reverses``)
    ADJUSTMENT = "adjustment"  # a documented manual correction
    RESELLER_SALE = "reseller_sale"  # a prepaid reseller sold a booking: the split, pending
    RESELLER_KEPT = "reseller_kept"  # ... and kept its commission out of the money
    RESELLER_RECEIPT = "reseller_receipt"  # money received from a prepaid reseller


class LedgerAccount(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(
            "family_id IS NULL OR kind = 'family'", name="family_only_on_family_accounts"
        ),
        CheckConstraint(
            "user_id IS NULL OR kind IN ('guide', 'cash_held')", name="user_only_where_allowed"
        ),
        CheckConstraint(
            "(state IS NULL) = (kind NOT IN "
            "('family', 'guide', 'association_fund', 'conservation_fund', 'platform'))",
            name="state_on_beneficiary_accounts",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ``kind/association/family/user/state`` spelled out, e.g. ``family/a3/f12/u-/pending``.
    #: Unique: SQL unique constraints treat NULLs as distinct (on SQLite and PostgreSQL), so a
    #: constraint over the nullable columns would not stop two platform accounts.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind))
    #: NULL only for platform-wide accounts.
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The reseller of a ``reseller_*`` account (its key ends with ``/r<id>``).
    reseller_id: Mapped[int | None] = mapped_column(ForeignKey("resellers.id"), index=True)
    #: ``pending`` or ``available`` on beneficiary accounts; NULL on the others.
    state: Mapped[AccountState | None] = mapped_column(_enum(AccountState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    association = relationship("Association")
    family = relationship("Family")
    user = relationship("User")
    reseller = relationship("Reseller")

    @staticmethod
    def key_for(
        kind: AccountKind,
        association_id: int | None,
        family_id: int | None,
        user_id: int | None,
        state: AccountState | None,
        reseller_id: int | None = None,
    ) -> str:
        def part(prefix: str, value: int | None) -> str:
            return f"{prefix}{'-' if value is None else value}"

        key = "/".join(
            (
                str(kind),
                part("a", association_id),
                part("f", family_id),
                part("u", user_id),
                str(state) if state is not None else "-",
            )
        )
        # Only reseller accounts carry the part, so every older key stays as it was.
        return key if reseller_id is None else f"{key}/{part('r', reseller_id)}"

    def __repr__(self) -> str:
        return f"<LedgerAccount {self.id} {self.key}>"


class LedgerTransaction(db.Model):
    """One business event's entries. Never updated or deleted (see the module docstring)."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[TransactionKind] = mapped_column(_enum(TransactionKind))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    #: The payment whose money this moves; every transaction about a payment's money
    #: (its split, its refunds, its disputes, their reversals) names it, which is what
    #: lets ``check`` compare the ledger with the payment.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"), index=True)
    #: The transaction this one cancels out; unique, so a transaction is reversed once.
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transactions.id"), unique=True
    )
    memo: Mapped[str] = mapped_column(String(300), default="")

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )
    reverses: Mapped[LedgerTransaction | None] = relationship(remote_side=[id])
    booking = relationship("Booking")
    payment = relationship("Payment")
    refund = relationship("Refund")
    dispute = relationship("Dispute")

    def __repr__(self) -> str:
        return f"<LedgerTransaction {self.id} {self.kind}>"


class LedgerEntry(db.Model):
    """One line of a transaction: a signed amount on one account (debit +, credit -)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        # Balances, reports and the ledger check sum entries per account and transaction:
        # with the amount in the index those sums read the index alone (docs/PERFORMANCE.md).
        Index(
            "ix_ledger_entries_account_transaction", "account_id", "transaction_id", "amount_cents"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    #: Signed integer cents: debit positive, credit negative. Big, because sums of them are.
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship()

    def __repr__(self) -> str:
        return f"<LedgerEntry {self.id} account={self.account_id} {self.amount_cents:+d}>"


# Append-only, enforced ----------------------------------------------------------------------


def _changed_columns(obj) -> list[str]:
    state = inspect(obj)
    return [
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    ]


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session: Session, _context, _instances) -> None:
    """Refuse, before any SQL is sent, to change or delete a stored ledger row.

    Only column changes count: appending a new entry or linking a reversal touches
    relationships of stored rows without changing them.
    """
    for obj in session.deleted:
        if isinstance(obj, LedgerTransaction | LedgerEntry):
            raise AppendOnlyViolation(f"{obj!r} cannot be deleted: the ledger is append-only")
    for obj in session.dirty:
        if isinstance(obj, LedgerTransaction | LedgerEntry) and _changed_columns(obj):
            raise AppendOnlyViolation(
                f"{obj!r} cannot be changed ({', '.join(_changed_columns(obj))}): "
                "the ledger is append-only"
            )

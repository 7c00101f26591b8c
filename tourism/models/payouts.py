"""Payouts: money handed to a family or a guide out of what the ledger says they may be paid.

Each ``Payout`` names the ledger transaction that moved its amount (``services.payouts``);
the ledger stays the source of truth for balances, the payout row keeps what the ledger does
not: how the money was handed over, the reference, the receipt photo and who recorded it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class PayoutMethod(enum.StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    COOPERATIVE_SAVINGS = "cooperative_savings"
    MOBILE_MONEY = "mobile_money"


class Payout(db.Model):
    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="payout_amount_positive"),
        CheckConstraint("(family_id IS NULL) <> (user_id IS NULL)", name="payout_one_beneficiary"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    #: The family paid, or NULL when a guide (``user_id``) was paid.
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id"), index=True)
    #: The guide paid, or NULL when a family was paid.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    method: Mapped[PayoutMethod] = mapped_column(
        Enum(
            PayoutMethod,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    #: The transfer number, savings book entry, or receipt number; may be empty for cash.
    reference: Mapped[str] = mapped_column(String(120), default="")
    #: The stored receipt photo (``services.payout_receipts``), if one was uploaded.
    receipt_key: Mapped[str | None] = mapped_column(String(32))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ledger_transaction_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_transactions.id"), unique=True
    )
    #: Payouts recorded together (one settlement, one payout sheet) share a random batch id.
    batch: Mapped[str | None] = mapped_column(String(32), index=True)

    association = relationship("Association")
    family = relationship("Family")
    user = relationship("User", foreign_keys=[user_id])
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    ledger_transaction = relationship("LedgerTransaction")

    @property
    def beneficiary_name(self) -> str:
        return self.family.name if self.family is not None else self.user.name

    def __repr__(self) -> str:
        return f"<Payout {self.id} {self.amount_cents} {self.method}>"

"""Rows for the treasury's CSV exports: the association's ledger entries, its payouts, and a
statement. Amounts leave here as decimal strings made from integer cents, never floats."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ...models import (
    Association,
    Booking,
    Family,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    User,
)
from ...money import decimal_text
from .statements import Statement

LEDGER_HEADER = [
    "transaction",
    "recorded_at_utc",
    "kind",
    "booking",
    "account",
    "account_kind",
    "state",
    "family",
    "guide",
    "memo",
    "amount",
    "currency",
]
PAYOUT_HEADER = [
    "payout",
    "recorded_at_utc",
    "batch",
    "beneficiary",
    "family_id",
    "guide_id",
    "method",
    "reference",
    "amount",
    "currency",
    "recorded_by",
    "ledger_transaction",
]
STATEMENT_HEADER = ["line", "booking", "departure_utc", "experience", "amount", "currency"]


#: What a spreadsheet reads as the start of a formula (or, tab and carriage return, as the
#: start of one once it trims the cell).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text, never runs: text that could start a formula
    (a family's name, a memo, a payout reference typed by someone) gets a leading ``'``.
    Numbers, negative amounts included, stay numbers."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def _when(moment) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def ledger_rows(session: Session, association: Association) -> Iterator[list]:
    """Every entry on ``association``'s accounts, oldest first; the last two columns are the
    amount in cents (signed: debit +, credit -) and the currency."""
    guide = aliased(User)
    query = (
        select(
            LedgerTransaction.id,
            LedgerTransaction.created_at,
            LedgerTransaction.kind,
            Booking.reference,
            LedgerAccount.key,
            LedgerAccount.kind,
            LedgerAccount.state,
            Family.name,
            guide.name,
            LedgerTransaction.memo,
            LedgerEntry.amount_cents,
            LedgerEntry.currency,
        )
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .outerjoin(Booking, LedgerTransaction.booking_id == Booking.id)
        .outerjoin(Family, LedgerAccount.family_id == Family.id)
        .outerjoin(guide, LedgerAccount.user_id == guide.id)
        .where(LedgerAccount.association_id == association.id)
        .order_by(LedgerTransaction.id, LedgerEntry.id)
    )
    for row in session.execute(query):
        (tid, created, kind, reference, key, akind, state, family, guide_name, memo, cents, cur) = (
            row
        )
        yield [
            tid,
            _when(created),
            str(kind),
            reference or "",
            key,
            str(akind),
            str(state) if state is not None else "",
            family or "",
            guide_name or "",
            memo,
            int(cents),
            cur,
        ]


def payout_rows(payouts: Iterable[Payout]) -> Iterator[list]:
    for payout in payouts:
        yield [
            payout.id,
            _when(payout.created_at),
            payout.batch or "",
            payout.beneficiary_name,
            payout.family_id or "",
            payout.user_id or "",
            str(payout.method),
            payout.reference,
            decimal_text(payout.amount_cents),
            payout.currency,
            payout.recorded_by.name,
            payout.ledger_transaction_id,
        ]


def statement_rows(result: Statement) -> Iterator[list]:
    """Credited and reversed lines per visit, payouts (negative), then the totals."""
    for visit in result.visits:
        when = _when(visit.departure_at)
        yield [
            "credited",
            visit.booking_reference or "",
            when,
            visit.experience or "",
            decimal_text(visit.credited_cents),
            "USD",
        ]
        if visit.reversed_cents:
            yield [
                "reversed",
                visit.booking_reference or "",
                when,
                visit.experience or "",
                decimal_text(-visit.reversed_cents),
                "USD",
            ]
    for payout in result.payouts:
        yield [
            "payout",
            payout.reference,
            _when(payout.created_at),
            str(payout.method),
            decimal_text(-payout.amount_cents),
            payout.currency,
        ]
    yield ["total_earned", "", "", "", decimal_text(result.earned_cents), "USD"]
    yield ["total_paid", "", "", "", decimal_text(result.paid_cents), "USD"]
    yield ["owed_pending", "", "", "", decimal_text(result.pending_cents), "USD"]
    yield ["owed_available", "", "", "", decimal_text(result.available_cents), "USD"]

"""Statements: what a family or guide earned per visit and was paid, and the private links
to them. Split from ``tourism.services.treasury.payouts``, which re-exports these names."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...models import (
    AccountKind,
    AccountState,
    Association,
    Booking,
    Departure,
    Experience,
    ExperienceText,
    Family,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Membership,
    Payout,
    Role,
    TransactionKind,
    User,
)
from .payouts import Beneficiary


def statement_link_token(session: Session, family: Family) -> str:
    """The family's private statement token, created (256 random bits) on first use."""
    if not family.statement_token:
        family.statement_token = secrets.token_urlsafe(32)
        session.flush()
    return family.statement_token


def family_by_statement_token(session: Session, token: str) -> Family:
    if not token or len(token) > 64:
        raise NotFound()
    family = session.scalar(select(Family).where(Family.statement_token == token))
    if family is None:
        raise NotFound()
    return family


def guide_associations(session: Session, user: User) -> list[Association]:
    """Associations where ``user`` is a guide or holds a guide account."""
    with_account = select(LedgerAccount.association_id).where(
        LedgerAccount.kind == AccountKind.GUIDE, LedgerAccount.user_id == user.id
    )
    as_guide = select(Membership.association_id).where(
        Membership.user_id == user.id, Membership.role == Role.GUIDE
    )
    return list(
        session.scalars(
            select(Association)
            .where(or_(Association.id.in_(with_account), Association.id.in_(as_guide)))
            .order_by(Association.name)
        )
    )


# Statements ----------------------------------------------------------------------------------


@dataclass
class VisitLine:
    booking_reference: str | None
    departure_at: datetime | None
    experience: str | None
    credited_cents: int
    reversed_cents: int

    @property
    def net_cents(self) -> int:
        return self.credited_cents - self.reversed_cents


@dataclass
class Statement:
    beneficiary: Beneficiary
    period: tuple[datetime | None, datetime | None]
    visits: list[VisitLine] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    credited_cents: int = 0
    reversed_cents: int = 0
    paid_cents: int = 0
    #: What is owed at the end of the period, pending and available.
    pending_cents: int = 0
    available_cents: int = 0

    @property
    def earned_cents(self) -> int:
        return self.credited_cents - self.reversed_cents


#: Moves within a beneficiary's own accounts or out to them, not earnings.
NOT_EARNINGS = (TransactionKind.RELEASE, TransactionKind.PAYOUT)


def statement(
    session: Session,
    who: Beneficiary,
    period: tuple[datetime | None, datetime | None] = (None, None),
) -> Statement:
    """What ``who`` earned per visit, what was reversed, and what they were paid, in
    ``period`` ([start, end), UTC; None for open-ended), with totals. Aggregated in SQL."""
    start, end = period
    # Looked up, not created: a statement is a read and writes nothing.
    account_ids = _existing_account_ids(session, who)
    in_period = []
    if start is not None:
        in_period.append(LedgerTransaction.created_at >= start)
    if end is not None:
        in_period.append(LedgerTransaction.created_at < end)
    credited = func.sum(case((LedgerEntry.amount_cents < 0, -LedgerEntry.amount_cents), else_=0))
    reversed_ = func.sum(case((LedgerEntry.amount_cents > 0, LedgerEntry.amount_cents), else_=0))
    rows = session.execute(
        select(
            Booking.reference,
            Departure.starts_at,
            func.coalesce(func.max(ExperienceText.title), func.max(Experience.slug)),
            credited,
            reversed_,
        )
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .outerjoin(Booking, LedgerTransaction.booking_id == Booking.id)
        .outerjoin(Departure, Booking.departure_id == Departure.id)
        .outerjoin(Experience, Departure.experience_id == Experience.id)
        .outerjoin(
            ExperienceText,
            and_(ExperienceText.experience_id == Experience.id, ExperienceText.locale == "es"),
        )
        .where(
            LedgerEntry.account_id.in_(account_ids),
            LedgerEntry.currency == "USD",
            LedgerTransaction.kind.not_in(NOT_EARNINGS),
            *in_period,
        )
        .group_by(Booking.id, Booking.reference, Departure.starts_at)
        .order_by(Departure.starts_at, Booking.reference)
    )
    result = Statement(who, period)
    for reference, starts_at, title, plus, minus in rows:
        result.visits.append(VisitLine(reference, starts_at, title, int(plus), int(minus)))
    result.credited_cents = sum(v.credited_cents for v in result.visits)
    result.reversed_cents = sum(v.reversed_cents for v in result.visits)

    owner = (
        Payout.family_id == who.family.id
        if who.family is not None
        else and_(Payout.user_id == who.user.id, Payout.association_id == who.association.id)
    )
    paid_in_period = [owner]
    if start is not None:
        paid_in_period.append(Payout.created_at >= start)
    if end is not None:
        paid_in_period.append(Payout.created_at < end)
    result.payouts = list(
        session.scalars(select(Payout).where(*paid_in_period).order_by(Payout.created_at))
    )
    result.paid_cents = int(
        session.scalar(
            select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(*paid_in_period)
        )
    )
    owed = dict.fromkeys(AccountState, 0)
    if account_ids:
        until = [LedgerTransaction.created_at < end] if end is not None else []
        for state, total in session.execute(
            select(LedgerAccount.state, func.sum(LedgerEntry.amount_cents))
            .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
            .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerAccount.id.in_(account_ids), LedgerEntry.currency == "USD", *until)
            .group_by(LedgerAccount.state)
        ):
            owed[state] = -int(total)
    result.pending_cents = owed[AccountState.PENDING]
    result.available_cents = owed[AccountState.AVAILABLE]
    return result


def _existing_account_ids(session: Session, who: Beneficiary) -> list[int]:
    keys = [
        LedgerAccount.key_for(
            who.kind,
            who.association.id,
            who.family.id if who.family is not None else None,
            who.user.id if who.user is not None else None,
            state,
        )
        for state in AccountState
    ]
    return list(session.scalars(select(LedgerAccount.id).where(LedgerAccount.key.in_(keys))))

"""Revenue reports for one association: money per month, per experience and per beneficiary
type, visitors per month, and how much of the beneficiaries' income reaches families
represented by women and guides under 30.

Every figure is a ``GROUP BY`` in the database over the append-only ledger (or, for
visitors, over bookings); Python only reshapes the few grouped rows. Decisions:

- **Which money.** A report counts the ledger transactions that bring tourists' money in or
  send it back: ``payment`` and ``cash`` (gross), ``refund`` and ``dispute_lost`` (taken
  back). Releases only move shares from pending to available, payouts and transfers move
  money the association already has, and an opened or won dispute nets to zero, so none of
  them is revenue. ``adjustment`` transactions are counted: they re-share money already in
  (a processor fee learned later, the guides' pool handed to the guides), so where the
  money went follows them; on the settlement accounts (only a manual correction touches
  them) they count as a correction of the gross. Within those transactions, the entries on
  the settlement accounts (``SETTLEMENT_KINDS``) are what tourists paid and got back, and the
  entries on the beneficiary and processor-fee accounts are where that money went; both add
  up to the same net, which the tests check.
- **Which month.** The month of the ledger transaction (when the money arrived or was
  returned), in the association's time zone (America/Guayaquil). A refund in March of a
  February payment lowers March. A closed month never changes afterwards, since the ledger
  is append-only. Months are bucketed with a ``CASE`` over the local month boundaries
  converted to UTC in Python: the same SQL on SQLite and PostgreSQL, exact for any zone,
  and the range itself stays a plain comparison on the indexed ``created_at``.
- **Visitors.** Participants of confirmed bookings on departures that were not cancelled,
  have already started and were not marked as a no-show, in the month the departure
  started. A refunded or cancelled booking is not a visit.
- **Women and under 30.** Shares of what families (and guides) earned, by the family
  representative's recorded gender (and the guide membership's ``under_30``). Income of
  members whose gender or age is not recorded is shown as such, never guessed, and so is
  income still in the unassigned pools (stops or departures without a known host or guide).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ...models import Association, Booking, Departure, ExperienceText, Family, Membership, Role
from ...models.ledger import (
    SETTLEMENT_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from .periods import (
    Period,
    local_month,
)
from .visitors import MonthVisitors, visitors_by_month

GROSS_KINDS = (TransactionKind.PAYMENT, TransactionKind.CASH)
#: Adjustments move shares after the money came in (a processor fee learned later, the
#: guides' pool handed to the guides who ran the departure): counted, so "where the money
#: went" follows them; on the settlement accounts they count as a correction of the gross.
REVENUE_KINDS = (
    *GROSS_KINDS,
    TransactionKind.REFUND,
    TransactionKind.DISPUTE_LOST,
    TransactionKind.ADJUSTMENT,
)

#: Where the money went, in the order reports show it.
BENEFICIARY_TYPES = (
    AccountKind.FAMILY,
    AccountKind.GUIDE,
    AccountKind.ASSOCIATION_FUND,
    AccountKind.CONSERVATION_FUND,
    AccountKind.PLATFORM,
    AccountKind.PROCESSOR_FEES,
)
#: Groups of the inclusion tables; "not_recorded" and "unassigned" are never guessed at.
GENDER_GROUPS = ("female", "male", "other", "not_recorded", "unassigned")
AGE_GROUPS = ("under_30", "30_or_over", "not_recorded", "unassigned")


# The report ---------------------------------------------------------------------------------


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole`` with one decimal (None when nothing to share)."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class MonthRevenue:
    month: str
    gross_cents: int = 0
    refunded_cents: int = 0
    disputes_lost_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.refunded_cents - self.disputes_lost_cents


@dataclass(frozen=True)
class ExperienceRevenue:
    experience_id: int
    title: str
    gross_cents: int
    net_cents: int


@dataclass(frozen=True)
class Share:
    group: str  # an AccountKind value, or one of GENDER_GROUPS / AGE_GROUPS
    cents: int
    percent: Decimal | None


@dataclass(frozen=True)
class Report:
    association: Association
    period: Period
    months: list[MonthRevenue]
    experiences: list[ExperienceRevenue]
    beneficiaries: list[Share]
    visitors: list[MonthVisitors]
    families: list[Share]
    guides: list[Share]

    def _cents(self, shares: list[Share], group: str) -> int:
        return next((s.cents for s in shares if s.group == group), 0)

    @property
    def net_cents(self) -> int:
        return sum(m.net_cents for m in self.months)

    @property
    def families_cents(self) -> int:
        return self._cents(self.beneficiaries, AccountKind.FAMILY)

    @property
    def fees_cents(self) -> int:
        """The platform's commission plus the processor's fees."""
        return self._cents(self.beneficiaries, AccountKind.PLATFORM) + self._cents(
            self.beneficiaries, AccountKind.PROCESSOR_FEES
        )

    @property
    def conservation_cents(self) -> int:
        return self._cents(self.beneficiaries, AccountKind.CONSERVATION_FUND)

    @property
    def women_cents(self) -> int:
        return self._cents(self.families, "female")

    @property
    def under_30_cents(self) -> int:
        return self._cents(self.guides, "under_30")

    @property
    def is_empty(self) -> bool:
        no_money = not any(m.gross_cents or m.net_cents for m in self.months)
        return no_money and not any(v.bookings for v in self.visitors)


def _revenue_entries(association: Association, period: Period, currency: str):
    """Conditions and joins shared by the money queries: revenue transactions of the
    period, entries on ``association``'s accounts in ``currency``."""
    bounds = period.boundaries()
    return (
        select()
        .select_from(LedgerEntry)
        .join(LedgerTransaction, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerEntry.account_id == LedgerAccount.id)
        .where(
            LedgerAccount.association_id == association.id,
            LedgerEntry.currency == currency,
            LedgerTransaction.kind.in_(REVENUE_KINDS),
            LedgerTransaction.created_at >= bounds[0],
            LedgerTransaction.created_at < bounds[-1],
        )
    )


def revenue_by_month(
    session: Session, association: Association, period: Period, currency: str = "USD"
) -> list[MonthRevenue]:
    """Per local month: gross taken from tourists, refunded, lost to disputes (every month
    of the period, empty ones included)."""
    inner = (
        _revenue_entries(association, period, currency)
        .add_columns(
            local_month(LedgerTransaction.created_at, period).label("month"),
            LedgerTransaction.kind.label("kind"),
            LedgerEntry.amount_cents.label("cents"),
        )
        .where(LedgerAccount.kind.in_(SETTLEMENT_KINDS))
        .subquery()
    )
    rows = session.execute(
        select(inner.c.month, inner.c.kind, func.sum(inner.c.cents)).group_by(
            inner.c.month, inner.c.kind
        )
    )
    totals: dict[str, dict[str, int]] = {m: {} for m in period.months}
    for month, kind, cents in rows:
        totals[month][str(kind)] = int(cents)

    def take(sums: dict[str, int], *kinds: TransactionKind) -> int:
        return sum(sums.get(str(kind), 0) for kind in kinds)

    return [
        MonthRevenue(
            month,
            gross_cents=take(sums, *GROSS_KINDS, TransactionKind.ADJUSTMENT),
            refunded_cents=-take(sums, TransactionKind.REFUND),
            disputes_lost_cents=-take(sums, TransactionKind.DISPUTE_LOST),
        )
        for month, sums in totals.items()
    ]


def _titles(session: Session, ids: list[int], locale: str) -> dict[int, str]:
    """Each experience's title in ``locale``, else Spanish, else any."""
    rank = case((ExperienceText.locale == locale, 0), (ExperienceText.locale == "es", 1), else_=2)
    rows = session.execute(
        select(ExperienceText.experience_id, ExperienceText.title)
        .where(ExperienceText.experience_id.in_(ids))
        .order_by(ExperienceText.experience_id, rank.desc())
    )
    return dict(rows.all())  # the best-ranked title comes last and wins


def revenue_by_experience(
    session: Session,
    association: Association,
    period: Period,
    locale: str,
    currency: str = "USD",
) -> list[ExperienceRevenue]:
    """Gross and net per experience (through the transactions' bookings), largest net first."""
    gross = case((LedgerTransaction.kind.in_(GROSS_KINDS), LedgerEntry.amount_cents), else_=0)
    rows = session.execute(
        _revenue_entries(association, period, currency)
        .add_columns(Departure.experience_id, func.sum(gross), func.sum(LedgerEntry.amount_cents))
        .join(Booking, LedgerTransaction.booking_id == Booking.id)
        .join(Departure, Booking.departure_id == Departure.id)
        .where(LedgerAccount.kind.in_(SETTLEMENT_KINDS))
        .group_by(Departure.experience_id)
    ).all()
    titles = _titles(session, [row[0] for row in rows], locale)
    found = [
        ExperienceRevenue(eid, titles.get(eid, f"#{eid}"), int(g), int(n)) for eid, g, n in rows
    ]
    return sorted(found, key=lambda e: (-e.net_cents, e.title, e.experience_id))


def revenue_by_beneficiary(
    session: Session, association: Association, period: Period, currency: str = "USD"
) -> list[Share]:
    """What each type of beneficiary earned of the net (credits count positive)."""
    rows = session.execute(
        _revenue_entries(association, period, currency)
        .add_columns(LedgerAccount.kind, func.sum(LedgerEntry.amount_cents))
        .where(LedgerAccount.kind.in_(BENEFICIARY_TYPES))
        .group_by(LedgerAccount.kind)
    )
    earned = {AccountKind(kind): -int(cents) for kind, cents in rows}
    total = sum(earned.values())
    return [
        Share(str(kind), earned.get(kind, 0), percent(earned.get(kind, 0), total))
        for kind in BENEFICIARY_TYPES
    ]


def _shares(sums: dict[str, int], groups: tuple[str, ...]) -> list[Share]:
    total = sum(sums.values())
    return [Share(g, sums.get(g, 0), percent(sums.get(g, 0), total)) for g in groups]


def families_by_gender(
    session: Session, association: Association, period: Period, currency: str = "USD"
) -> list[Share]:
    """What families earned, by their representative's recorded gender."""
    unassigned = LedgerAccount.family_id.is_(None)
    rows = session.execute(
        _revenue_entries(association, period, currency)
        .add_columns(unassigned, Family.representative_gender, func.sum(LedgerEntry.amount_cents))
        .outerjoin(Family, LedgerAccount.family_id == Family.id)
        .where(LedgerAccount.kind == AccountKind.FAMILY)
        .group_by(unassigned, Family.representative_gender)
    )
    sums: dict[str, int] = {}
    for is_pool, gender, cents in rows:
        group = "unassigned" if is_pool else gender if gender in GENDER_GROUPS else "not_recorded"
        sums[group] = sums.get(group, 0) - int(cents)
    return _shares(sums, GENDER_GROUPS)


def guides_by_age(
    session: Session, association: Association, period: Period, currency: str = "USD"
) -> list[Share]:
    """What guides earned, by whether their guide membership says they are under 30."""
    unassigned = LedgerAccount.user_id.is_(None)
    rows = session.execute(
        _revenue_entries(association, period, currency)
        .add_columns(unassigned, Membership.under_30, func.sum(LedgerEntry.amount_cents))
        .outerjoin(
            Membership,
            and_(
                Membership.user_id == LedgerAccount.user_id,
                Membership.association_id == LedgerAccount.association_id,
                Membership.role == Role.GUIDE,
            ),
        )
        .where(LedgerAccount.kind == AccountKind.GUIDE)
        .group_by(unassigned, Membership.under_30)
    )
    sums: dict[str, int] = {}
    for is_pool, young, cents in rows:
        if is_pool:
            group = "unassigned"
        else:
            group = {True: "under_30", False: "30_or_over"}.get(young, "not_recorded")
        sums[group] = sums.get(group, 0) - int(cents)
    return _shares(sums, AGE_GROUPS)


def revenue_report(
    session: Session, association: Association, period: Period, locale: str, now: datetime
) -> Report:
    """Every table of the association's revenue dashboard for ``period``."""
    return Report(
        association=association,
        period=period,
        months=revenue_by_month(session, association, period),
        experiences=revenue_by_experience(session, association, period, locale),
        beneficiaries=revenue_by_beneficiary(session, association, period),
        visitors=visitors_by_month(session, association, period, now),
        families=families_by_gender(session, association, period),
        guides=guides_by_age(session, association, period),
    )

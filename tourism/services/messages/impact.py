"""The impact receipt: after the visit, who hosted the tourists and where their money went.

Queued through the notification outbox under the key ``booking:<id>:impact``, so a booking
gets it at most once however often the command runs (``notifications.queue_impact_receipts``,
run by ``flask send-impact-receipts``). Only confirmed bookings that were not marked as no-show,
on departures that were not cancelled and ended at least ``after`` ago but not more than
``within`` ago (so a first run, or a scheduler that was down for a while, never mails
visits long past).

**Which families.** The host families of the stops the guide confirmed for that departure
(``StopVisit``), in itinerary order; when the guide confirmed none (no signal, or an older
app), the host families of all the experience's stops.

**Which amounts.** From the ledger when the booking's payments were posted: per party, what
the beneficiary accounts hold of each payment (``postings.remaining_shares``, after any
refund), with the processor's recorded fee as the processing line; a reseller's commission
is left out (the receipt says where the community's money went). The part of the total no
posted payment covers (e.g. cash the guide has not recorded yet) is shared by the booking's
rule, as ``transparency`` does. No posting and no rule: no amounts, only the families.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Booking, Departure, Family, PaymentStatus, Stop, StopVisit
from ...models.ledger import AccountKind, LedgerTransaction, TransactionKind
from ..ledger import postings, split_rules
from ..ledger.splits import Party
from ..ledger.transparency import (
    LINE_ORDER,
    PROCESSING,
    Breakdown,
    Line,
    PlannedPayment,
    compute_breakdown,
)

_KIND_PARTY = {
    AccountKind.FAMILY: Party.FAMILIES.value,
    AccountKind.GUIDE: Party.GUIDES.value,
    AccountKind.ASSOCIATION_FUND: Party.ASSOCIATION_FUND.value,
    AccountKind.CONSERVATION_FUND: Party.CONSERVATION_FUND.value,
    AccountKind.PLATFORM: Party.PLATFORM.value,
}


@dataclass(frozen=True)
class ImpactReceipt:
    #: Names of the families who hosted the visit, in itinerary order.
    families: tuple[str, ...]
    #: True when the names come from the stops the guide confirmed.
    confirmed_by_guide: bool
    breakdown: Breakdown | None
    #: True when the amounts come from the ledger, not (only) from the rule.
    from_ledger: bool


def hosting_families(session: Session, departure: Departure) -> tuple[list[Family], bool]:
    """The families who hosted ``departure`` (see the module doc), and whether the guide's
    confirmations said so."""
    stops = list(
        session.scalars(
            select(Stop)
            .where(Stop.experience_id == departure.experience_id)
            .order_by(Stop.position)
        )
    )
    visited = set(
        session.scalars(select(StopVisit.stop_id).where(StopVisit.departure_id == departure.id))
    )
    confirmed = [stop for stop in stops if stop.id in visited]
    chosen = confirmed or stops
    families: list[Family] = []
    for stop in chosen:
        if stop.family is not None and stop.family not in families:
            families.append(stop.family)
    return families, bool(confirmed)


def _posted(session: Session, payment_id: int) -> bool:
    return (
        session.scalar(
            select(LedgerTransaction.id)
            .where(
                LedgerTransaction.payment_id == payment_id,
                LedgerTransaction.kind.in_((TransactionKind.PAYMENT, TransactionKind.CASH)),
            )
            .limit(1)
        )
        is not None
    )


def impact_breakdown(session: Session, booking: Booking) -> tuple[Breakdown | None, bool]:
    """What went to whom of ``booking``'s money (see the module doc), and whether the ledger
    said so."""
    totals = dict.fromkeys(LINE_ORDER, 0)
    family_ids: set[int] = set()
    covered = 0
    for payment in booking.payments:
        if payment.status != PaymentStatus.SUCCEEDED or not _posted(session, payment.id):
            continue
        covered += payment.amount_cents
        for account, cents in postings.remaining_shares(session, payment).items():
            if account.kind not in _KIND_PARTY:
                continue  # a reseller's commission: the agency's, not the community's
            totals[_KIND_PARTY[account.kind]] += cents
            if account.family_id is not None:
                family_ids.add(account.family_id)
        if payment.provider != "cash":
            totals[PROCESSING] += payment.fee_cents or 0
    from_ledger = covered > 0
    rest = booking.total_cents - covered
    rule = split_rules.rule_for_booking(session, booking)
    if rest > 0 and rule is not None:
        stops = session.scalars(
            select(Stop)
            .where(Stop.experience_id == booking.departure.experience_id)
            .order_by(Stop.position)
        )
        families = split_rules.family_members(rule, stops)
        family_ids |= {member.id for member in families}
        planned = compute_breakdown(
            [PlannedPayment(rest)], booking.participants, rule, families, booking.currency
        )
        for line in planned.lines:
            totals[line.kind] += line.cents
    if not any(totals.values()):
        return None, from_ledger
    lines = tuple(
        Line(kind, cents, count=len(family_ids) if kind == Party.FAMILIES else 0)
        for kind, cents in totals.items()
        if cents
    )
    return Breakdown(sum(totals.values()), booking.currency, lines), from_ledger


def impact_receipt(session: Session, booking: Booking) -> ImpactReceipt:
    """Everything the impact receipt email says about ``booking``."""
    families, confirmed = hosting_families(session, booking.departure)
    breakdown, from_ledger = impact_breakdown(session, booking)
    return ImpactReceipt(
        families=tuple(family.name for family in families),
        confirmed_by_guide=confirmed,
        breakdown=breakdown,
        from_ledger=from_ledger,
    )

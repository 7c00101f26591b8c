"""Where a tourist's money goes: the split of a price, as lines a tourist can read.

A quote (the experience page, the booking form) and a booking (its page, its confirmation
email) are shared out with ``splits.split_payment``, the function the ledger postings use
for real payments, and by the rule the money is (or would be) shared by: the rule in force
now for a quote, the rule the booking was sold under for a booking. With no rule in force
there is no breakdown at all (None), never an invented one: the ledger then credits
everything to the association fund until someone decides.

**The processor's fee.** The ledger takes the card processor's fee off each card payment
before sharing it (``postings.post_payment``: the fee Stripe reports, 0 until it is known);
cash has no fee. A quote cannot know the fee, so:

- the money is planned as the payments the chosen payment method makes: card, one card
  payment of the total; deposit, a card payment of the deposit and a cash payment of the
  rest; on arrival, one cash payment. Each is split on its own, as the ledger will;
- a card payment's fee is *estimated* (``FeeEstimate``, from the settings
  ``CARD_FEE_BASIS_POINTS`` and ``CARD_FEE_FIXED_CENTS``, 2.9% + 30¢ by default, never
  more than the payment) and shown as its own "payment processing (estimated)" line, so the
  other lines show only money that reaches the community, the fund or the platform;
- for a booking, a card payment that succeeded uses the fee the processor reported; while
  it is unknown, the estimate (still marked estimated).

The lines always add up to the total, to the cent: each split is exact and the fee is a line.
Lines of 0 are left out. See docs/TRANSPARENCY.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Booking,
    BookingStatus,
    Experience,
    PaymentMethod,
    PaymentStatus,
    PriceCategory,
    SplitRule,
    Stop,
)
from ...money import format_money
from ..booking.pricing import online_due
from . import provider_shares, split_rules
from .splits import Member, Party, split_payment

#: A tourist-facing line that is not a party of the split: the card processor's fee.
PROCESSING = "processing"
#: The line of a booking's extras and homestay nights, credited whole to their providers.
PROVIDERS = "providers"

#: The order lines are shown in: the community first.
LINE_ORDER = (
    Party.FAMILIES.value,
    Party.GUIDES.value,
    Party.ASSOCIATION_FUND.value,
    Party.CONSERVATION_FUND.value,
    Party.PLATFORM.value,
    PROCESSING,
)


@dataclass(frozen=True)
class FeeEstimate:
    """The card processor's usual price: basis points of the payment plus a fixed amount."""

    basis_points: int = 290
    fixed_cents: int = 30

    @classmethod
    def from_config(cls, config: Mapping) -> FeeEstimate:
        return cls(
            int(config.get("CARD_FEE_BASIS_POINTS", cls.basis_points)),
            int(config.get("CARD_FEE_FIXED_CENTS", cls.fixed_cents)),
        )

    def fee(self, amount_cents: int) -> int:
        """The estimated fee on a card payment of ``amount_cents`` (rounded half up; 0 for
        nothing, never more than the payment)."""
        if amount_cents <= 0:
            return 0
        estimate = (amount_cents * self.basis_points + 5_000) // 10_000 + self.fixed_cents
        return min(estimate, amount_cents)


@dataclass(frozen=True)
class PlannedPayment:
    """One payment the money arrives in: its gross, the processor's fee, and whether that
    fee is an estimate."""

    gross_cents: int
    fee_cents: int = 0
    estimated: bool = False


@dataclass(frozen=True)
class Line:
    #: A ``Party`` value, or ``PROCESSING``.
    kind: str
    cents: int
    #: For the families' line: how many host families share it (0: not known).
    count: int = 0
    #: For the processing line: the fee is an estimate.
    estimated: bool = False


@dataclass(frozen=True)
class Breakdown:
    total_cents: int
    currency: str
    lines: tuple[Line, ...]

    def sentences(self) -> list[str]:
        """The lines in words, in the current locale: "$27.00 to 4 host families"."""
        return [describe(line, self.currency) for line in self.lines]


def describe(line: Line, currency: str) -> str:
    amount = format_money(line.cents, currency)
    if line.kind == Party.FAMILIES:
        if line.count:
            return ngettext(
                "%(amount)s to %(num)s host family",
                "%(amount)s to %(num)s host families",
                line.count,
                amount=amount,
            )
        return _("%(amount)s to the host families", amount=amount)
    if line.kind == Party.GUIDES:
        return _("%(amount)s to your guide(s)", amount=amount)
    if line.kind == Party.ASSOCIATION_FUND:
        return _("%(amount)s to the community fund", amount=amount)
    if line.kind == Party.CONSERVATION_FUND:
        return _("%(amount)s to the conservation fund", amount=amount)
    if line.kind == Party.PLATFORM:
        return _("%(amount)s platform commission", amount=amount)
    if line.kind == PROVIDERS:
        return _("%(amount)s to who provides your extras and homestay nights", amount=amount)
    if line.estimated:
        return _("%(amount)s payment processing (estimated)", amount=amount)
    return _("%(amount)s payment processing", amount=amount)


def compute_breakdown(
    payments: Iterable[PlannedPayment],
    participants: int,
    rule: SplitRule,
    families: Iterable[Member],
    currency: str = "USD",
) -> Breakdown:
    """Split each planned payment by ``rule`` with ``split_payment`` (as the ledger splits
    each real one) and add the parties up; the fees become the processing line."""
    payments = list(payments)
    families = list(families)
    dataclass_rule = split_rules.to_split_rule(rule)
    totals = dict.fromkeys(LINE_ORDER, 0)
    estimated = False
    total = sum(payment.gross_cents for payment in payments)
    before = 0
    for payment in payments:
        split = split_payment(
            payment.gross_cents,
            payment.fee_cents,
            participants,
            dataclass_rule,
            families=families,
            of_total=total,
            paid_before=before,
        )
        before += payment.gross_cents
        for portion in split.portions:
            totals[portion.party.value] += portion.cents
        totals[PROCESSING] += payment.fee_cents
        estimated = estimated or (payment.estimated and payment.fee_cents > 0)
    family_count = len({member.id for member in families})
    lines = tuple(
        Line(
            kind,
            cents,
            count=family_count if kind == Party.FAMILIES else 0,
            estimated=estimated if kind == PROCESSING else False,
        )
        for kind, cents in totals.items()
        if cents
    )
    return Breakdown(sum(p.gross_cents for p in payments), currency, lines)


def plan_payments(
    total_cents: int, method: str | None, deposit_percent: int, fees: FeeEstimate
) -> list[PlannedPayment]:
    """The payments a booking of ``total_cents`` paid by ``method`` arrives in."""
    online = online_due(total_cents, method or PaymentMethod.ON_ARRIVAL.value, deposit_percent)
    planned = []
    if online:
        planned.append(PlannedPayment(online, fees.fee(online), estimated=True))
    if total_cents - online or not planned:
        planned.append(PlannedPayment(total_cents - online))
    return planned


def _stops(session: Session, experience_id: int) -> list[Stop]:
    return list(
        session.scalars(
            select(Stop).where(Stop.experience_id == experience_id).order_by(Stop.position)
        )
    )


def quote(
    session: Session,
    experience: Experience,
    quantities: Mapping[int, int],
    at: datetime,
    method: str | None,
    fees: FeeEstimate,
) -> Breakdown | None:
    """The breakdown of tickets not booked yet: ``quantities`` per price category id, paid
    by ``method``, shared by the rule in force ``at``. None without a rule or tickets."""
    prices = {pc.id: pc.price_cents for pc in experience.price_categories if pc.is_active}
    wanted = {cid: int(qty) for cid, qty in quantities.items() if cid in prices and qty and qty > 0}
    participants = sum(wanted.values())
    rule = split_rules.rule_in_force(session, experience, at)
    if rule is None or participants == 0:
        return None
    total = sum(prices[cid] * qty for cid, qty in wanted.items())
    families = split_rules.family_members(rule, _stops(session, experience.id))
    planned = plan_payments(total, method, experience.deposit_percent, fees)
    return compute_breakdown(planned, participants, rule, families, experience.currency)


def default_ticket(experience: Experience) -> PriceCategory | None:
    """The ticket a page quotes when none is chosen: an adult's, else the first one."""
    active = [pc for pc in experience.price_categories if pc.is_active]
    return next((pc for pc in active if pc.code == "adult"), active[0] if active else None)


def quote_one_ticket(
    session: Session, experience: Experience, at: datetime, method: str | None, fees: FeeEstimate
) -> Breakdown | None:
    """The breakdown of one default ticket (``default_ticket``)."""
    ticket = default_ticket(experience)
    if ticket is None:
        return None
    return quote(session, experience, {ticket.id: 1}, at, method, fees)


def quote_tickets(
    session: Session,
    experience: Experience,
    quantities: Mapping[int, int | None],
    at: datetime,
    method: str | None,
    fees: FeeEstimate,
) -> tuple[Breakdown | None, bool]:
    """The breakdown of the tickets chosen on a booking form, or of one default ticket when
    none (or an impossible number) is chosen; the flag says it is the one-ticket quote."""
    chosen = {cid: qty for cid, qty in quantities.items() if qty}
    count = sum(qty for qty in chosen.values() if qty is not None)
    valid = all(isinstance(qty, int) and qty > 0 for qty in chosen.values())
    if chosen and valid and count <= experience.max_tickets_per_booking:
        return quote(session, experience, chosen, at, method, fees), False
    return quote_one_ticket(session, experience, at, method, fees), True


def booking_breakdown(session: Session, booking: Booking, fees: FeeEstimate) -> Breakdown | None:
    """The breakdown of a booking's total by the rule it was sold under (None if none was):
    the payments that succeeded as they were (with the processor's reported fee), what is
    still to pay online as the booking's method says, and the rest in cash."""
    rule = split_rules.rule_for_booking(session, booking)
    if rule is None or booking.participants == 0:
        return None
    planned = []
    paid_online = 0
    for payment in booking.payments:
        if payment.status != PaymentStatus.SUCCEEDED:
            continue
        if payment.provider == "stripe":
            paid_online += payment.amount_cents
            known = payment.fee_cents is not None
            fee = payment.fee_cents if known else fees.fee(payment.amount_cents)
            planned.append(PlannedPayment(payment.amount_cents, fee, estimated=not known))
        else:
            planned.append(PlannedPayment(payment.amount_cents))
    paid = sum(p.gross_cents for p in planned)
    online_left = 0
    if booking.status == BookingStatus.HELD:
        online_left = max(
            min(booking.online_due_cents - paid_online, booking.total_cents - paid), 0
        )
    if online_left:
        planned.append(PlannedPayment(online_left, fees.fee(online_left), estimated=True))
    rest = booking.total_cents - paid - online_left
    if rest > 0:
        planned.append(PlannedPayment(rest))
    if not planned:
        return None
    departure = booking.departure
    families = split_rules.family_members(rule, _stops(session, departure.experience_id))
    addons = booking.addons_cents
    if not addons:
        return compute_breakdown(planned, booking.participants, rule, families, booking.currency)
    # Extras and nights go whole to who provides them (``provider_shares``): the rule splits
    # what each payment brings for the tickets.
    tickets, before = [], 0
    for payment in planned:
        part = provider_shares.addons_paid(booking, before + payment.gross_cents)
        part -= provider_shares.addons_paid(booking, before)
        before += payment.gross_cents
        if payment.gross_cents - part > 0:
            tickets.append(replace(payment, gross_cents=payment.gross_cents - part))
    split = compute_breakdown(tickets, booking.participants, rule, families, booking.currency)
    lines = (*split.lines, Line(PROVIDERS, addons))
    return Breakdown(split.total_cents + addons, booking.currency, lines)

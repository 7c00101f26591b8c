"""What each party gets of a payment of a booking: the reseller's commission (if a reseller
sold it) and the beneficiaries' shares by the booking's split rule, as ledger lines. The
postings (``postings``, ``reseller_postings``, ``adjustments``) build their transactions
from these; see ``postings`` for the rules.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Booking, DepartureGuide, Family, Payment, PaymentStatus, Stop, User
from ...models.channels import ChannelBooking
from ...models.ledger import BENEFICIARY_KINDS, AccountKind, AccountState
from ...money import basis_points_of
from . import journal as ledger
from . import provider_shares, split_rules
from .splits import Member, Party, split_payment

PENDING = AccountState.PENDING

_PARTY_KINDS = {
    Party.FAMILIES: AccountKind.FAMILY,
    Party.GUIDES: AccountKind.GUIDE,
    Party.ASSOCIATION_FUND: AccountKind.ASSOCIATION_FUND,
    Party.CONSERVATION_FUND: AccountKind.CONSERVATION_FUND,
    Party.PLATFORM: AccountKind.PLATFORM,
}


def association_of(booking: Booking):
    """The association whose ledger a booking's money goes to."""
    return booking.departure.experience.association


def _share_account(session: Session, booking: Booking, party: Party, member_id, state):
    association = association_of(booking)
    kind = _PARTY_KINDS[party]
    if party == Party.FAMILIES and member_id is not None:
        return ledger.account(session, kind, family=session.get(Family, member_id), state=state)
    if party == Party.GUIDES and member_id is not None:
        return ledger.account(
            session, kind, association, user=session.get(User, member_id), state=state
        )
    return ledger.account(session, kind, association, state=state)


#: Accounts that hold a share of a payment and give it back, in proportion, on a refund: the
#: beneficiaries and the reseller's commission.
SHARE_KINDS = BENEFICIARY_KINDS | {AccountKind.RESELLER_COMMISSION}


def unit_commission(unit_cents: int, commission_bp: int, net_cents: int | None = None) -> int:
    """A reseller's part of one ticket of ``unit_cents``: its commission (basis points of
    the retail price, rounded to the cent) or, with a net rate, the retail price less the
    net it pays us (never below zero: a ticket sold under the net brings us its price)."""
    if net_cents is not None:
        return max(unit_cents - net_cents, 0)
    return basis_points_of(unit_cents, commission_bp)


def booking_commission(booking: Booking, commission_bp: int, net_cents: int | None = None) -> int:
    """A reseller's commission on a whole booking: per ticket (``unit_commission``), exactly
    as the OCTO answers price it (``net`` = retail less this)."""
    return sum(
        line.quantity * unit_commission(line.unit_price_cents, commission_bp, net_cents)
        for line in booking.lines
    )


def commission_lines(
    session: Session, booking: Booking, gross: int, fee: int, paid_before: int = 0
) -> list:
    """The reseller's commission on this payment of a channel booking, as (account, -cents);
    none for a booking sold on our own site.

    A booking paid in parts carries the commission in proportion to each part, floored
    cumulatively like fixed amounts, so the parts add up to the booking's commission
    exactly; never more than what is left of the payment after the processor's fee.
    """
    channel = session.scalar(select(ChannelBooking).where(ChannelBooking.booking_id == booking.id))
    if channel is None or (channel.commission_bp <= 0 and channel.net_cents is None):
        return []
    commission = booking_commission(booking, channel.commission_bp, channel.net_cents)
    total = booking.total_cents
    if total > 0:
        before = min(max(paid_before, 0), total)
        after = min(before + gross, total)
        commission = commission * after // total - commission * before // total
    account = ledger.account(session, AccountKind.RESELLER_COMMISSION, reseller=channel.reseller)
    return [(account, -min(commission, gross - fee))]


def share_lines(
    session: Session, booking: Booking, gross: int, fee: int, paid_before: int = 0
) -> list:
    """(pending account, -cents) for every beneficiary of ``gross - fee`` of ``booking``,
    the reseller's commission (if a reseller sold it) first; ``paid_before``: what earlier
    payments of the booking brought (a deposit), so fixed amounts per participant are owed
    once per booking."""
    commission = commission_lines(session, booking, gross, fee, paid_before)
    # Extras and homestay nights go whole to who provides them; the tickets are split.
    providers, addons, addons_before = provider_shares.provider_lines(
        session, booking, gross, paid_before
    )
    fee -= sum(cents for _, cents in commission)
    tickets = _beneficiary_lines(session, booking, gross - addons, fee, paid_before - addons_before)
    return commission + providers + tickets


def _beneficiary_lines(
    session: Session, booking: Booking, gross: int, fee: int, paid_before: int
) -> list:
    """``share_lines`` without the commission: ``fee`` includes it (it comes off first)."""
    rule = split_rules.rule_for_booking(session, booking)
    if rule is None:
        account = ledger.account(
            session, AccountKind.ASSOCIATION_FUND, association_of(booking), state=PENDING
        )
        return [(account, -(gross - fee))]
    departure = booking.departure
    guides = session.scalars(
        select(DepartureGuide.user_id)
        .where(DepartureGuide.departure_id == departure.id)
        .order_by(DepartureGuide.id)
    )
    stops = session.scalars(
        select(Stop).where(Stop.experience_id == departure.experience_id).order_by(Stop.position)
    )
    split = split_payment(
        gross,
        fee,
        booking.participants,
        split_rules.to_split_rule(rule),
        families=split_rules.family_members(rule, stops),
        guides=[Member(user_id) for user_id in guides],
        of_total=booking.tickets_cents,
        paid_before=paid_before,
    )
    return [
        (_share_account(session, booking, p.party, p.member_id, PENDING), -p.cents)
        for p in split.portions
    ]


def paid_before(session: Session, payment: Payment) -> int:
    """What the booking's earlier succeeded payments brought, before ``payment``."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
                Payment.booking_id == payment.booking_id,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.id < payment.id,
            )
        )
    )

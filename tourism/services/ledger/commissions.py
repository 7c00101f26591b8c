"""A reseller's commission on a booking it sold, and its part of each payment: the first
share taken off a channel booking's payment (``postings.share_lines``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Booking
from ...models.channels import ChannelBooking
from ...models.ledger import AccountKind
from ...money import basis_points_of
from . import journal as ledger


def booking_commission(booking: Booking, commission_bp: int) -> int:
    """A reseller's commission on a whole booking: per ticket, rounded to the cent, exactly
    as the OCTO answers price it (``net`` = retail less this)."""
    return sum(
        line.quantity * basis_points_of(line.unit_price_cents, commission_bp)
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
    if channel is None or channel.commission_bp <= 0:
        return []
    commission = booking_commission(booking, channel.commission_bp)
    total = booking.total_cents
    if total > 0:
        before = min(max(paid_before, 0), total)
        after = min(before + gross, total)
        commission = commission * after // total - commission * before // total
    account = ledger.account(session, AccountKind.RESELLER_COMMISSION, reseller=channel.reseller)
    return [(account, -min(commission, gross - fee))]

"""Holding seats on a private departure: one made for a group's quote (``groups.quotes``).

The public path (``lifecycle.hold_seats``) refuses private departures; this one is the only
way onto them. It takes the same lock and the same seat count (``lifecycle.claim_seats``),
so a private departure is never sold beyond its capacity either, and the booking it makes is
an ordinary booking: its payment, split and ledger are those of any booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ...errors import DomainError, NotFound
from ...models import Booking, BookingLine, BookingStatus, Departure
from ..ledger import split_rules
from . import bookable, lifecycle
from .pricing import online_due
from .references import new_manage_token, new_reference


@dataclass(frozen=True)
class PrivateContact:
    name: str
    email: str
    phone: str
    language: str
    special_needs: str = ""


def hold_private_seats(
    session: Session,
    departure: Departure,
    lines: list[tuple[int, int, int]],
    contact: PrivateContact,
    method: str,
    now: datetime,
    hold_until: datetime,
    cutoff: timedelta = lifecycle.DEFAULT_CUTOFF,
) -> Booking:
    """Hold seats on the private ``departure`` for ``lines`` (price category id, tickets,
    unit price in cents), held until ``hold_until``; raise and leave nothing when the
    departure is closed or its seats are taken."""
    if not departure.is_private:
        raise NotFound()
    bookable.check_open(departure, now, cutoff)
    experience = departure.experience
    booking = Booking(
        departure=departure,
        reference=new_reference(session, experience.association.code),
        manage_token=new_manage_token(),
        status=BookingStatus.HELD,
        hold_expires_at=hold_until,
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        # A group request asks no country; the booking records none.
        country="",
        language=contact.language,
        # The group's needs are in the request, which the association already read.
        special_needs="",
        currency=experience.currency,
        total_cents=0,
        created_at=now,
        payment_method=method,
    )
    booking.split_rule_id = split_rules.rule_id_in_force(session, experience.id, now)
    for category_id, quantity, unit_price in lines:
        booking.lines.append(
            BookingLine(
                price_category_id=category_id, quantity=quantity, unit_price_cents=unit_price
            )
        )
    booking.total_cents = sum(line.amount_cents for line in booking.lines)
    # Card: everything online; deposit: the experience's share; bank transfer: nothing.
    booking.online_due_cents = online_due(booking.total_cents, method, experience.deposit_percent)
    session.add(booking)
    session.flush()
    try:
        lifecycle.claim_seats(session, departure.id, booking.participants, now, cutoff)
    except DomainError:
        session.delete(booking)
        session.flush()
        raise
    return booking

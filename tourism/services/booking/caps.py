"""Caps on open unpaid bookings, so nobody can sit on a departure's seats.

An open unpaid booking is a hold not yet paid (until it expires) or a pay-on-arrival booking
for a departure still to come: both take seats without any money changing hands. One email
may have ``per_email`` of them at a time, one client address ``per_address`` (higher: a
hostel or a school shares one address). The address is stored only as a keyed hash
(``address_key``), never as the address itself.

The count runs before the departure is locked, so two simultaneous requests may both pass
at the cap's edge; the per-address rate limit on the booking form bounds that.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_ngettext as _ln
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from ...errors import DomainError
from ...models import Booking, BookingStatus, Departure, PaymentMethod


class TooManyOpenBookings(DomainError):
    status_code = 429

    def __init__(self, count: int) -> None:
        super().__init__(
            _ln(
                "You already have %(num)s unpaid booking waiting. Pay for or cancel it before "
                "booking again.",
                "You already have %(num)s unpaid bookings waiting. Pay for or cancel one of "
                "them before booking again.",
                count,
            )
        )


@dataclass(frozen=True)
class HoldCaps:
    per_email: int = 3
    per_address: int = 10

    @classmethod
    def from_config(cls, config) -> HoldCaps:
        return cls(config["OPEN_BOOKINGS_PER_EMAIL"], config["OPEN_BOOKINGS_PER_ADDRESS"])


def address_key(secret: str, address: str | None) -> str | None:
    """A keyed hash of a client address: comparable, not reversible without the key."""
    if not address:
        return None
    digest = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def _open_unpaid(now: datetime):
    return or_(
        and_(Booking.status == BookingStatus.HELD, Booking.hold_expires_at > now),
        and_(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.payment_method == PaymentMethod.ON_ARRIVAL.value,
            Departure.starts_at > now,
        ),
    )


def _open_count(condition, cap: str):
    """How many open unpaid bookings match ``condition``, counting no further than the
    ``cap`` parameter: an index finds the candidates, and the count never grows with
    someone's history."""
    rows = (
        select(Booking.id)
        .join(Departure, Booking.departure_id == Departure.id)
        .where(condition, _open_unpaid(bindparam("now")))
        .limit(bindparam(cap))
        .subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()


#: Both counts in one statement, built once (it runs on every hold). A ``held_from`` of None
#: matches nothing (``= NULL``).
_OPEN_COUNTS = select(
    _open_count(func.lower(Booking.contact_email) == bindparam("email"), "per_email"),
    _open_count(Booking.held_from == bindparam("held_from"), "per_address"),
)


def check(
    session: Session, email: str, held_from: str | None, now: datetime, caps: HoldCaps
) -> None:
    """Raise ``TooManyOpenBookings`` when this email or address is at its cap (one query)."""
    by_email, by_address = session.execute(
        _OPEN_COUNTS,
        {
            "email": email.lower(),
            "held_from": held_from,
            "now": now,
            "per_email": caps.per_email,
            "per_address": caps.per_address,
        },
    ).one()
    if by_email >= caps.per_email:
        raise TooManyOpenBookings(count=by_email)
    if by_address >= caps.per_address:
        raise TooManyOpenBookings(count=by_address)

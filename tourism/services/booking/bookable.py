"""Which departures can be booked, and what a booking of one needs to know about it.

A public booking is only for a departure of a published experience that is not a group's
private departure (``published_departure``), still scheduled and not yet closed
(``check_open``).

The booking form's POST reads the departure with ``bookable_departure``: one small Core
statement into frozen values (``BookableDeparture``) that the form, its quote and the hold
all use, instead of the departure, its experience, association and price categories as ORM
objects. Building and tracking those objects cost more than the statement; the page that
shows the form again after an error loads them (``published_departure``). The values are
read in the request's own transaction, so the prices a booking is written with are those
in the database when it is made, and the quote the visitor confirmed is checked against
the same prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, joinedload

from ...driver_statements import DriverStatement
from ...errors import DepartureCancelled, DepartureUnavailable, NotFound
from ...models import (
    Association,
    Departure,
    DepartureStatus,
    Experience,
    ExperienceStatus,
    PriceCategory,
)


class BookingClosed(DepartureUnavailable):
    default_message = _l("This departure has already left or closed for bookings.")


@dataclass(frozen=True, slots=True)
class TicketType:
    """An active price category of the experience, as it is in the database now."""

    id: int
    code: str
    price_cents: int
    position: int

    #: Only active categories are read; code written for ``PriceCategory`` filters on it.
    is_active = True


@dataclass(frozen=True, slots=True)
class BookableExperience:
    """What a booking needs of the departure's experience (and its association's code, the
    prefix of booking references)."""

    id: int
    association_id: int
    association_code: str
    currency: str
    max_tickets_per_booking: int
    deposit_percent: int
    #: ``Experience.payment_option_codes``.
    payment_option_codes: tuple[str, ...]
    #: The active price categories, in the experience's order.
    price_categories: tuple[TicketType, ...]


@dataclass(frozen=True, slots=True)
class BookableDeparture:
    """A departure of a published experience, not private, as a booking reads it: its
    state (``check_open``), its seats before live holds (``availability.seats_left_if_short``)
    and its experience."""

    id: int
    starts_at: datetime
    status: DepartureStatus
    capacity: int
    seats_confirmed: int
    experience: BookableExperience


_D, _E, _A, _P = (
    Departure.__table__,
    Experience.__table__,
    Association.__table__,
    PriceCategory.__table__,
)

#: Built once: one row per active price category (one with NULLs when there is none).
_READ_BOOKABLE = DriverStatement(
    select(
        _D.c.id,
        _D.c.starts_at,
        _D.c.status,
        _D.c.capacity,
        _D.c.seats_confirmed,
        _D.c.group_request_id,
        _E.c.id.label("experience_id"),
        _E.c.status.label("experience_status"),
        _E.c.association_id,
        _A.c.code.label("association_code"),
        _E.c.currency,
        _E.c.max_tickets_per_booking,
        _E.c.deposit_percent,
        _E.c.payment_options,
        _P.c.id.label("category_id"),
        _P.c.code.label("category_code"),
        _P.c.price_cents,
        _P.c.position,
    )
    .select_from(_D)
    .join(_E, _E.c.id == _D.c.experience_id)
    .join(_A, _A.c.id == _E.c.association_id)
    .outerjoin(_P, and_(_P.c.experience_id == _E.c.id, _P.c.is_active.is_(True)))
    .where(_D.c.id == bindparam("departure_id"))
    .order_by(_P.c.position, _P.c.id)
)


def _not_found() -> NotFound:
    return NotFound(_l("This departure does not exist."))


def bookable_departure(session: Session, departure_id: int) -> BookableDeparture:
    """The departure as a booking reads it, in one statement; ``NotFound`` as
    ``published_departure`` says."""
    rows = _READ_BOOKABLE.run(session, {"departure_id": departure_id})
    if not rows:
        raise _not_found()
    first = rows[0]
    if first.experience_status != ExperienceStatus.PUBLISHED or first.group_request_id:
        # A group's private departure is sold only through its quote (``groups.quotes``).
        raise _not_found()
    experience = BookableExperience(
        id=first.experience_id,
        association_id=first.association_id,
        association_code=first.association_code,
        currency=first.currency,
        max_tickets_per_booking=first.max_tickets_per_booking,
        deposit_percent=first.deposit_percent,
        payment_option_codes=tuple(code for code in first.payment_options.split(",") if code),
        price_categories=tuple(
            TicketType(row.category_id, row.category_code, row.price_cents, row.position)
            for row in rows
            if row.category_id is not None
        ),
    )
    return BookableDeparture(
        id=first.id,
        starts_at=first.starts_at,
        status=first.status,
        capacity=first.capacity,
        seats_confirmed=first.seats_confirmed,
        experience=experience,
    )


#: Built once, like the statements on this path: building them costs more than running them.
_WITH_EXPERIENCE = [
    joinedload(Departure.experience).options(
        joinedload(Experience.association), joinedload(Experience.price_categories)
    )
]


def published_departure(session: Session, departure_id: int) -> Departure:
    """A bookable departure with its experience, association and price categories loaded
    in one go (none of it read again if the session has it already); ``NotFound`` when the
    departure does not exist or its experience is not published."""
    departure = session.get(Departure, departure_id, options=_WITH_EXPERIENCE)
    if departure is None or departure.experience.status != ExperienceStatus.PUBLISHED:
        raise _not_found()
    if departure.is_private:
        # A group's private departure is sold only through its quote (``groups.quotes``).
        raise _not_found()
    return departure


def check_open(departure, now: datetime, cutoff: timedelta) -> None:
    """Refuse a departure that is cancelled or closed for bookings (``cutoff`` before it
    starts). ``departure``: anything with its ``status`` and ``starts_at``."""
    if departure.status == DepartureStatus.CANCELLED:
        raise DepartureCancelled()
    if departure.starts_at - cutoff <= now:
        raise BookingClosed()

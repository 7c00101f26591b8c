"""Host families hear of the homestay nights sold with a single experience booking
(``BookingNight``, the night before or after the activity), as they do of a route's
(``homestay_notices``): when the booking is confirmed (``HOMESTAY_BOOKED``, with the dietary
needs), when a confirmed booking is cancelled (``HOMESTAY_CANCELLED``, without them), and
when staff move a confirmed booking to another date (the cancelled notice for the old
nights, then the booked notice for the new ones). The day before, the family's one notice
of the night lists these guests beside a route's (``queue_homestay_tomorrow``).

Same texts, channel and privacy rules as a route's notices. The keys name the booking, so
they never meet a route booking's (``family:<id>:homestay:<route booking id>:<kind>``) or a
night's (``family:<id>:homestay:<date>``): ``family:<id>:homestay:booking:<booking
id>:<kind>``, and ``…:move:<n>`` for the booking's n-th date change (``n`` counted as the
tourist's date-change email counts it), so each move is told once, a replay never twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, selectinload

from ...models import Booking, BookingNight, Family, Homestay
from .homestay_notices import (
    HOMESTAY_BOOKED,
    HOMESTAY_CANCELLED,
    first_name,
    short_needs,
    tell_of_change,
)

#: What callers name the two notices by.
BOOKED, CANCELLED = HOMESTAY_BOOKED, HOMESTAY_CANCELLED
#: The loader option that reads bookings' nights with their homestays and families, for a
#: caller telling many bookings' families at once (no statement per booking).
HOSTS = selectinload(Booking.nights).joinedload(BookingNight.homestay).joinedload(Homestay.family)


@dataclass(frozen=True)
class Stay:
    """A booking's nights at one family's homes, as they were when read."""

    family: Family
    nights: tuple[date, ...]
    people: int


def stays_of(booking: Booking) -> list[Stay]:
    """The booking's homestay nights grouped by host family, by family id (nothing for a
    booking of tickets and extras alone)."""
    families: dict[int, Family] = {}
    nights: dict[int, list] = {}
    for night in booking.nights:
        family = night.homestay.family
        families[family.id] = family
        nights.setdefault(family.id, []).append(night)
    return [
        Stay(
            families[family_id],
            tuple(sorted(n.night for n in nights[family_id])),
            max(n.people for n in nights[family_id]),
        )
        for family_id in sorted(families)
    ]


def notice_key(family: Family, booking: Booking, kind: str, move: int = 0) -> str:
    """``family:<id>:homestay:booking:<booking id>:<kind>``, with ``:move:<n>`` for the
    notices of the booking's n-th date change."""
    key = f"family:{family.id}:homestay:booking:{booking.id}:{kind}"
    return f"{key}:move:{move}" if move else key


def queue_booking_homestays(
    session: Session,
    booking: Booking,
    kind: str,
    stays: list[Stay] | None = None,
    move: int = 0,
) -> int:
    """Tell each family hosting ``booking``'s nights (or the nights in ``stays``, as read
    before a move) that they are booked (``HOMESTAY_BOOKED``) or cancelled
    (``HOMESTAY_CANCELLED``); returns how many notices were newly queued. The caller calls
    it for a confirmed booking only. Only flushes."""
    if kind not in (HOMESTAY_BOOKED, HOMESTAY_CANCELLED):
        raise ValueError(f"unknown homestay notice {kind!r}")
    stays = stays_of(booking) if stays is None else stays
    name = first_name(booking.contact_name)
    queued = 0
    for stay in stays:
        family = stay.family
        if not family.is_active:
            continue
        guests = [(name, stay.people, list(stay.nights))]
        needs = [(name, short_needs(booking.special_needs))] if kind == HOMESTAY_BOOKED else []
        key = notice_key(family, booking, kind, move)
        queued += tell_of_change(session, family, key, kind, guests, needs)
    return queued


def queue_booking_moved(session: Session, booking: Booking, before: list[Stay], move: int) -> int:
    """A confirmed booking was moved to another date (its ``move``-th change): tell each
    family the old nights are cancelled and the new ones booked, unless the move left every
    night where it was (another time the same day). Returns how many notices were queued."""
    after = stays_of(booking)
    if [(s.family.id, s.nights) for s in before] == [(s.family.id, s.nights) for s in after]:
        return 0
    return queue_booking_homestays(
        session, booking, HOMESTAY_CANCELLED, before, move
    ) + queue_booking_homestays(session, booking, HOMESTAY_BOOKED, after, move)

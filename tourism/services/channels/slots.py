"""Departures as OCTO availability slots: vacancies counted as the website counts them,
status (available, limited, sold out, closed), the per-slot and the calendar answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ...models import (
    Departure,
    DepartureStatus,
    Experience,
    Reseller,
)
from ...timefmt import local
from ..booking import availability as seats
from ..booking.lifecycle import DEFAULT_CUTOFF
from .products import (
    Capabilities,
    active_units,
    line_price,
    local_text,
    price,
    sum_prices,
    utc_text,
)
from .resellers import commission_for, net_rate_for


def _status(departure: Departure, left: int, now: datetime) -> str:
    if departure.status != DepartureStatus.SCHEDULED or departure.starts_at - DEFAULT_CUTOFF <= now:
        return "CLOSED"
    if left <= 0:
        return "SOLD_OUT"
    if left * 2 < departure.capacity:
        return "LIMITED"
    return "AVAILABLE"


def slots(
    session: Session,
    experience: Experience,
    start: datetime,
    end: datetime,
    now: datetime,
    only_ids: list[int] | None = None,
) -> list[tuple[Departure, int, str]]:
    """Departures of ``experience`` in ``[start, end)`` (or those named) with seats left and
    their OCTO status."""
    found = seats.departures_between(session, experience.id, start, end, now)
    if only_ids is not None:
        found = [slot for slot in found if slot.departure.id in only_ids]
    return [(s.departure, s.seats_left, _status(s.departure, s.seats_left, now)) for s in found]


def availability(
    departure: Departure,
    left: int,
    status: str,
    experience: Experience,
    reseller: Reseller,
    caps: Capabilities,
    wanted: dict[str, int] | None,
) -> dict:
    tickets = sum(wanted.values()) if wanted else 0
    # Room for the units asked about, in one booking (at most ``maxUnits``).
    open_ = (
        status in ("AVAILABLE", "LIMITED")
        and tickets <= left
        and tickets <= experience.max_tickets_per_booking
    )
    data = {
        "id": str(departure.id),
        "localDateTimeStart": local_text(departure.starts_at),
        "localDateTimeEnd": local_text(departure.ends_at),
        "allDay": False,
        "available": open_,
        # A slot without room for the units asked about is sold out for this request.
        "status": status if open_ or status not in ("AVAILABLE", "LIMITED") else "SOLD_OUT",
        "vacancies": left,
        "capacity": departure.capacity,
        "maxUnits": min(experience.max_tickets_per_booking, left),
        "utcCutoffAt": utc_text(departure.starts_at - DEFAULT_CUTOFF),
        "openingHours": [],
    }
    if caps.pricing:
        units = active_units(experience)
        commission = commission_for(reseller, experience)
        net_rate = net_rate_for(reseller, experience)
        data["unitPricing"] = [
            {"unitId": code} | price(pc.price_cents, experience.currency, commission, net_rate)
            for code, pc in units.items()
        ]
        if wanted:
            data["pricing"] = sum_prices(
                (
                    line_price(
                        units[code].price_cents,
                        qty,
                        experience.currency,
                        commission,
                        net_rate,
                    )
                    for code, qty in wanted.items()
                ),
                experience.currency,
            )
    return data


def calendar(
    experience: Experience,
    found: list[tuple[Departure, int, str]],
    start: date,
    end: date,
    wanted: dict[str, int] | None,
) -> list[dict]:
    """One entry per local day from ``start`` to ``end``: the day's seats over its open
    departures; a day without any is ``CLOSED``."""
    tickets = sum(wanted.values()) if wanted else 0
    days: dict[date, list[tuple[Departure, int, str]]] = {}
    for departure, left, status in found:
        days.setdefault(local(departure.starts_at).date(), []).append((departure, left, status))
    entries = []
    day = start
    while day <= end:
        open_slots = [
            (d, left) for d, left, status in days.get(day, []) if status in ("AVAILABLE", "LIMITED")
        ]
        vacancies = sum(left for _, left in open_slots)
        capacity = sum(d.capacity for d, _ in open_slots)
        fits = tickets <= experience.max_tickets_per_booking and any(
            left >= max(tickets, 1) for _, left in open_slots
        )
        # The day's capacity counts its sold-out departures too (OCTO: the seats there are,
        # taken or not); only departures that are closed are left out.
        day_capacity = sum(d.capacity for d, _, status in days.get(day, []) if status != "CLOSED")
        if all(status == "CLOSED" for _, _, status in days.get(day, [])):
            status = "CLOSED"  # no departure, or none that can still be booked
        elif not fits:
            status = "SOLD_OUT"
        elif vacancies * 2 < capacity:
            status = "LIMITED"
        else:
            status = "AVAILABLE"
        entries.append(
            {
                "localDate": day.isoformat(),
                "available": fits,
                "status": status,
                "vacancies": vacancies,
                "capacity": day_capacity,
                "openingHours": [],
            }
        )
        day += timedelta(days=1)
    return entries

"""Turning weekly schedules into dated departures (python-dateutil's rrule, in local time)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule, weekday
from dateutil.rrule import weekdays as RRULE_WEEKDAYS  # noqa: N812
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...database import utcnow
from ...errors import InvalidRequest
from ...models import Departure, Schedule
from .assignments import AssignmentResult, apply_default_guides

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BY_CODE: dict[str, weekday] = dict(zip(WEEKDAY_CODES, RRULE_WEEKDAYS, strict=True))


def parse_weekdays(text: str) -> list[weekday]:
    codes = [code.strip().upper() for code in text.split(",") if code.strip()]
    if not codes or any(code not in _BY_CODE for code in codes):
        raise InvalidRequest()
    return [_BY_CODE[code] for code in codes]


def occurrences(schedule: Schedule, start: date, end: date, zone: ZoneInfo) -> list[datetime]:
    """Local start datetimes of ``schedule`` on days in ``[start, end]``, as aware UTC."""
    first = max(start, schedule.valid_from)
    last = min(end, schedule.valid_until) if schedule.valid_until else end
    if first > last:
        return []
    rule = rrule(
        WEEKLY,
        byweekday=parse_weekdays(schedule.weekdays),
        dtstart=datetime.combine(first, schedule.start_time),
        until=datetime.combine(last, time.max),
    )
    # The rule runs on naive local wall-clock times; attach the zone, then convert.
    return [moment.replace(tzinfo=zone).astimezone(ZoneInfo("UTC")) for moment in rule]


def generate_departures(
    session: Session,
    schedule: Schedule,
    start: date,
    end: date,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> list[Departure]:
    """Create the schedule's departures between two local dates; existing ones are kept.
    New departures get the schedule's default guides where each is free.

    Running it again over the same window creates nothing new, so it is safe to schedule.
    """
    return generate_with_guides(session, schedule, start, end, zone, now)[0]


def generate_with_guides(
    session: Session,
    schedule: Schedule,
    start: date,
    end: date,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> tuple[list[Departure], list[AssignmentResult]]:
    """``generate_departures``, also returning how each default guide fared on each new
    departure (assigned, or skipped and why: another departure at that time, time off)."""
    created = _create_departures(session, schedule, start, end, zone)
    results = apply_default_guides(session, schedule, created, now or utcnow())
    return created, results


def _create_departures(
    session: Session, schedule: Schedule, start: date, end: date, zone: ZoneInfo
) -> list[Departure]:
    wanted = occurrences(schedule, start, end, zone)
    if not wanted:
        return []
    existing = set(
        session.execute(
            select(Departure.starts_at).where(
                Departure.experience_id == schedule.experience_id,
                Departure.starts_at >= wanted[0],
                Departure.starts_at <= wanted[-1],
            )
        ).scalars()
    )
    created = []
    for starts_at in wanted:
        if starts_at in existing:
            continue
        departure = Departure(
            experience_id=schedule.experience_id,
            schedule=schedule,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=schedule.duration_minutes),
            capacity=schedule.capacity,
        )
        session.add(departure)
        created.append(departure)
    session.flush()
    return created

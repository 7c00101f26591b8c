"""Times are stored in UTC and shown in the association's zone (America/Guayaquil)."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date, format_datetime, format_time

from .database import utcnow


def display_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def local(moment: datetime) -> datetime:
    return moment.astimezone(display_zone())


def local_today() -> date:
    return local(utcnow()).date()


def local_to_utc(day: date, at: time, zone: ZoneInfo | None = None) -> datetime:
    from datetime import UTC

    zone = zone or display_zone()
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def fmt_datetime(moment: datetime, style: str = "medium") -> str:
    # Flask-Babel converts to BABEL_DEFAULT_TIMEZONE (America/Guayaquil) before formatting.
    return format_datetime(moment, style)


def fmt_date(moment: datetime | date, style: str = "medium") -> str:
    if isinstance(moment, datetime):
        moment = local(moment).date()
    return format_date(moment, style)


def fmt_time(moment: datetime, style: str = "short") -> str:
    return format_time(moment, style)


@lru_cache(maxsize=8)
def vtimezone(zone_name: str):
    """The iCalendar VTIMEZONE of a zone, built once: icalendar derives it by scanning the
    zone's whole history, which costs tens of milliseconds per calendar otherwise."""
    from icalendar import Timezone

    return Timezone.from_tzinfo(ZoneInfo(zone_name))

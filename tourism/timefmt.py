"""Times are stored in UTC and shown in the association's zone (America/Guayaquil)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_date, format_datetime, format_time


def display_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def local(moment: datetime) -> datetime:
    return moment.astimezone(display_zone())


def local_today() -> date:
    from .database import utcnow

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

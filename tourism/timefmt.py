"""Times are stored in UTC and shown in the association's zone (America/Guayaquil)."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import current_app
from flask_babel import format_date, format_datetime, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
    """A local date and time in the visitor's language. ``medium`` is the medium date with
    the short time ("5 jun 2026, 8:00"): nobody here needs the seconds Babel's medium time
    adds ("8:00:00")."""
    # Flask-Babel converts to BABEL_DEFAULT_TIMEZONE (America/Guayaquil) before formatting.
    if style == "medium":
        locale = get_locale()
        pattern = str(locale.datetime_formats["medium"]).format(
            locale.time_formats["short"].pattern, locale.date_formats["medium"].pattern
        )
        return format_datetime(moment, pattern)
    return format_datetime(moment, style)


def fmt_month(month: str, style: str = "long") -> str:
    """A ``YYYY-MM`` month in words in the visitor's language: "junio de 2026" / "June 2026"
    (``long``), "jun 2026" / "Jun 2026" (``short``). Anything else is shown as it is."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except (ValueError, AttributeError):
        return str(month)
    skeleton = "yMMMM" if style == "long" else "yMMM"
    return format_skeleton(skeleton, first, locale=get_locale())


def fmt_date(moment: datetime | date, style: str = "medium") -> str:
    if isinstance(moment, datetime):
        moment = local(moment).date()
    return format_date(moment, style)


def fmt_time(moment: datetime, style: str = "short") -> str:
    return format_time(moment, style)


#: Names of the zones the site may show times in; any other is named by its city.
ZONE_NAMES = {"America/Guayaquil": _l("Ecuador time")}


def utc_offset_text(moment: datetime, zone: ZoneInfo) -> str:
    """``UTC−5``, ``UTC+5:30``, ``UTC``: the zone's offset at ``moment``."""
    offset = moment.astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"  # a real minus sign
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(moment: datetime | None = None) -> str:
    """Which clock the site's times follow, for visitors who are elsewhere:
    "Ecuador time, UTC−5" ("hora de Ecuador, UTC−5")."""
    zone = display_zone()
    name = ZONE_NAMES.get(zone.key) or zone.key.rsplit("/", 1)[-1].replace("_", " ")
    return _("%(zone)s, %(offset)s", zone=name, offset=utc_offset_text(moment or utcnow(), zone))


def fmt_time_zoned(moment: datetime, style: str = "short") -> str:
    """A local time with its zone: "10:30 (Ecuador time, UTC−5)"."""
    return _("%(time)s (%(zone)s)", time=fmt_time(moment, style), zone=zone_label(moment))


def when(moment: datetime, zoned: bool = False, date_style: str = "full") -> str:
    """Local date and start time, as pages and emails show a departure: "Tuesday, December
    2, 2025 at 8:30", with the zone for visitors when ``zoned``."""
    time_text = fmt_time_zoned(moment) if zoned else fmt_time(moment)
    return _("%(date)s at %(time)s", date=fmt_date(moment, date_style), time=time_text)


@lru_cache(maxsize=8)
def vtimezone(zone_name: str):
    """The iCalendar VTIMEZONE of a zone, built once: icalendar derives it by scanning the
    zone's whole history, which costs tens of milliseconds per calendar otherwise."""
    from icalendar import Timezone

    return Timezone.from_tzinfo(ZoneInfo(zone_name))

"""The months a revenue report covers: parsing ``YYYY-MM`` ranges and bucketing UTC
timestamps into local months in SQL (see ``services.reports`` for why a ``CASE`` over the
month boundaries rather than a per-dialect date function)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy import case, literal

from ...errors import InvalidRequest

#: The associations' zone (``DISPLAY_TIMEZONE``); views pass the configured one.
DEFAULT_ZONE = ZoneInfo("America/Guayaquil")
#: The longest range one report may cover: three years of months.
MAX_MONTHS = 36
DEFAULT_MONTHS = 12

#: Years 2000 to 2999: nothing was sold before, and no month after overflows ``date``.
_MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")


class InvalidPeriod(InvalidRequest):
    default_message = _l("Choose the months as YYYY-MM, the first one not after the last.")


# Periods ------------------------------------------------------------------------------------


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole local months, ``first`` to ``last`` inclusive (both the 1st of their month)."""

    first: date
    last: date
    zone: ZoneInfo = DEFAULT_ZONE

    @property
    def months(self) -> list[str]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        return [_shift(self.first, i).strftime("%Y-%m") for i in range(count + 1)]

    def boundaries(self) -> list[datetime]:
        """The UTC instants at which each month starts, plus the end of the last one."""
        firsts = [_shift(self.first, i) for i in range(len(self.months) + 1)]
        return [datetime.combine(d, time(0), tzinfo=self.zone).astimezone(UTC) for d in firsts]


def default_period(today: date, zone: ZoneInfo = DEFAULT_ZONE) -> Period:
    """The last ``DEFAULT_MONTHS`` months, the current (local) one included."""
    this_month = today.replace(day=1)
    return Period(_shift(this_month, 1 - DEFAULT_MONTHS), this_month, zone)


def parse_period(
    first: str | None, last: str | None, today: date, zone: ZoneInfo = DEFAULT_ZONE
) -> Period:
    """The period asked for as ``YYYY-MM`` months; a missing end defaults to the default
    period's. Raises ``InvalidPeriod`` for malformed months, a start after the end, or more
    than ``MAX_MONTHS`` months."""
    default = default_period(today, zone)

    def month(text: str | None, fallback: date) -> date:
        text = (text or "").strip()
        if not text:
            return fallback
        found = _MONTH.fullmatch(text)
        shown = text if len(text) <= 20 else text[:20] + "…"  # said back, not echoed whole
        if not found or not 1 <= int(found["month"]) <= 12:
            raise InvalidPeriod(_l("%(value)s is not a month written as YYYY-MM.", value=shown))
        if found["year"][0] != "2":
            raise InvalidPeriod(_l("Choose months from the years 2000 to 2999."))
        return date(int(found["year"]), int(found["month"]), 1)

    period = Period(month(first, default.first), month(last, default.last), zone)
    if period.first > period.last:
        raise InvalidPeriod(_l("The first month comes after the last one."))
    if len(period.months) > MAX_MONTHS:
        raise InvalidPeriod(
            _ln(
                "A report covers at most %(num)s month.",
                "A report covers at most %(num)s months.",
                MAX_MONTHS,
            )
        )
    return period


def local_month(column, period: Period):
    """SQL: the ``YYYY-MM`` local month of a UTC timestamp ``column`` inside ``period``."""
    bounds = period.boundaries()
    whens = [(column < end, literal(m)) for m, end in zip(period.months, bounds[1:], strict=True)]
    return case(*whens, else_=literal(None))

"""Weekly schedules become departures at the right local time, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tourism.errors import InvalidRequest
from tourism.services.operations import recurrence as schedules

GYE = ZoneInfo("America/Guayaquil")


def test_departures_fall_on_the_weekdays_at_local_time(session, make):
    schedule = make.schedule(
        weekdays="TU,SA",
        start_time=time(8, 30),
        valid_from=date(2026, 12, 1),
        valid_until=date(2026, 12, 31),
    )
    created = schedules.generate_departures(
        session, schedule, date(2026, 12, 1), date(2026, 12, 14), GYE
    )
    starts = [d.starts_at for d in created]
    # 1 Dec 2026 is a Tuesday; 08:30 in Guayaquil (UTC-5) is 13:30 UTC.
    assert starts == [
        datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
        datetime(2026, 12, 5, 13, 30, tzinfo=UTC),
        datetime(2026, 12, 8, 13, 30, tzinfo=UTC),
        datetime(2026, 12, 12, 13, 30, tzinfo=UTC),
    ]
    assert all(d.capacity == schedule.capacity for d in created)
    assert all((d.ends_at - d.starts_at).seconds == schedule.duration_minutes * 60 for d in created)


def test_generation_is_idempotent_and_respects_validity(session, make):
    schedule = make.schedule(
        weekdays="MO,TU,WE,TH,FR,SA,SU",
        valid_from=date(2027, 1, 10),
        valid_until=date(2027, 1, 12),
    )
    first = schedules.generate_departures(
        session, schedule, date(2027, 1, 1), date(2027, 2, 1), GYE
    )
    again = schedules.generate_departures(
        session, schedule, date(2027, 1, 1), date(2027, 2, 1), GYE
    )
    assert len(first) == 3
    assert again == []


def test_late_evening_local_start_is_next_day_in_utc(session, make):
    schedule = make.schedule(
        weekdays="FR",
        start_time=time(20, 0),
        valid_from=date(2027, 3, 5),
        valid_until=date(2027, 3, 5),
    )
    [departure] = schedules.generate_departures(
        session, schedule, date(2027, 3, 1), date(2027, 3, 31), GYE
    )
    assert departure.starts_at == datetime(2027, 3, 6, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "XX", "MO,FUNDAY", "monday"])
def test_bad_weekdays_are_refused(text):
    with pytest.raises(InvalidRequest):
        schedules.parse_weekdays(text)

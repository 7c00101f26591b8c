"""The management list of coming departures: which days it covers."""

from __future__ import annotations

from datetime import UTC, datetime

from tourism.services.operations.schedules import upcoming_departures


def test_the_list_runs_to_the_end_of_the_last_local_day(session, make):
    # 06:00 in Guayaquil on 1 March 2027; the list covers 60 days, through 30 April.
    now = datetime(2027, 3, 1, 11, 0, tzinfo=UTC)
    experience = make.experience()
    last_morning = make.departure(experience, starts_at=datetime(2027, 4, 30, 13, 30, tzinfo=UTC))
    last_night = make.departure(experience, starts_at=datetime(2027, 5, 1, 4, 0, tzinfo=UTC))
    next_day = make.departure(experience, starts_at=datetime(2027, 5, 1, 13, 30, tzinfo=UTC))
    already_gone = make.departure(experience, starts_at=datetime(2027, 3, 1, 10, 0, tzinfo=UTC))
    session.commit()

    listed = [item.departure for item in upcoming_departures(session, experience, now)]

    assert last_morning in listed and last_night in listed
    assert next_day not in listed and already_gone not in listed

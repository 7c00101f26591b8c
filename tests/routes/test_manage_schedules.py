"""Schedules, departures and the operations board through the management pages: a preview
that writes nothing and matches what saving creates; capacity never below the seats taken;
cancelling a departure cancels, refunds and tells its bookings; the board's numbers."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.routes import test_manage_access as shared
from tests.routes.test_manage_access import EN, member
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    BookingStatus,
    Departure,
    DepartureGuide,
    DepartureStatus,
    GuideRole,
    Notification,
    Payment,
    PaymentStatus,
    Role,
    Schedule,
)
from tourism.services.operations import recurrence as schedules
from tourism.timefmt import display_zone, local, local_to_utc, local_today

#: Fixtures shared with the other management tests (found by pytest under these names).
app, kallari, make, staff, winak = (
    shared.app,
    shared.kallari,
    shared.make,
    shared.staff,
    shared.winak,
)


@pytest.fixture
def experience(make, kallari):
    return make.experience(kallari, duration_minutes=180)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def schedule_form(**changes) -> dict:
    today = local_today()
    data = {
        "weekdays": ["TU", "SA"],
        "start_time": "08:30",
        "duration_minutes": "180",
        "capacity": "12",
        "valid_from": (today + timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=120)).isoformat(),
        "window_from": today.isoformat(),
        "window_until": (today + timedelta(days=27)).isoformat(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- Schedules --------------------------------------------------------------------------------


def test_preview_writes_nothing_and_saving_creates_exactly_what_was_previewed(
    client, staff, experience
):
    url = f"/manage/experiences/{experience.id}/schedules/new"
    preview = client.post(url, data=schedule_form(preview="Preview"), headers=EN)
    assert preview.status_code == 200
    assert count(Schedule) == 0 and count(Departure) == 0
    html = preview.get_data(as_text=True)
    previewed = re.findall(r'<li><time datetime="([^"]+)"', html)
    assert 7 <= len(previewed) <= 9  # Tuesdays and Saturdays in four weeks
    assert f"Saving creates {len(previewed)} departures" in html

    saved = client.post(url, data=schedule_form(save="Save"))
    assert saved.status_code == 303
    schedule = db.session.scalars(select(Schedule)).one()
    assert (schedule.weekdays, schedule.start_time, schedule.capacity) == ("TU,SA", time(8, 30), 12)
    created = db.session.scalars(select(Departure).order_by(Departure.starts_at)).all()
    assert [d.starts_at.isoformat() for d in created] == previewed
    assert all(local(d.starts_at).time() == time(8, 30) for d in created)
    assert all(local(d.starts_at).strftime("%a") in ("Tue", "Sat") for d in created)
    assert all(d.capacity == 12 and d.schedule_id == schedule.id for d in created)


def test_preview_marks_departures_that_already_exist(client, staff, experience, make):
    today = local_today()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    make.departure(experience, starts_at=local_to_utc(tuesday, time(8, 30)))
    response = client.post(
        f"/manage/experiences/{experience.id}/schedules/new",
        data=schedule_form(weekdays=["TU"], preview="Preview"),
        headers=EN,
    )
    assert "already exists, kept as it is" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weekdays": None}, "This information is required."),
        ({"weekdays": ["MO", "XX"]}, "Choose an option from the list."),
        ({"start_time": "25:00"}, "Write a time like 08:30."),
        ({"capacity": "0"}, "Choose a number from 1 to 500."),
        ({"valid_until": "2000-01-01"}, "Choose a date within the next five years."),
        ({"window_from": "not a date"}, "Write a date like 2025-06-14."),
        ({"window_until": "9999-12-31"}, "Choose a date within the next five years."),
    ],
)
def test_bad_schedules_are_refused_and_nothing_is_written(
    client, staff, experience, changes, message
):
    response = client.post(
        f"/manage/experiences/{experience.id}/schedules/new",
        data=schedule_form(save="Save", **changes),
        headers=EN,
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(Schedule) == 0 and count(Departure) == 0


def test_a_window_longer_than_a_year_is_refused(client, staff, experience):
    today = local_today()
    response = client.post(
        f"/manage/experiences/{experience.id}/schedules/new",
        data=schedule_form(window_until=(today + timedelta(days=400)).isoformat(), save="Save"),
        headers=EN,
    )
    assert response.status_code == 400
    assert "at most 366 days" in response.get_data(as_text=True)
    assert count(Departure) == 0


def test_bulk_generation_fills_a_window_once(client, staff, experience, make):
    today = local_today()
    make.schedule(experience, weekdays="MO,TU,WE,TH,FR,SA,SU", valid_from=today)
    window = {
        "window_from": (today + timedelta(days=1)).isoformat(),
        "window_until": (today + timedelta(days=10)).isoformat(),
    }
    url = f"/manage/experiences/{experience.id}/departures/generate"
    assert client.post(url, data=window).status_code == 303
    assert count(Departure) == 10
    assert client.post(url, data=window).status_code == 303
    assert count(Departure) == 10


# --- One departure ---------------------------------------------------------------------------


@pytest.fixture
def departure(make, experience):
    day = local_today() + timedelta(days=6)
    return make.departure(experience, capacity=10, starts_at=local_to_utc(day, time(9)))


def departure_form(departure, **changes) -> dict:
    starts = local(departure.starts_at)
    data = {
        "capacity": str(departure.capacity),
        "day": starts.date().isoformat(),
        "start_time": starts.strftime("%H:%M"),
    }
    return data | changes


def test_a_departure_with_seconds_keeps_its_time_when_only_capacity_changes(
    client, staff, make, experience
):
    odd = make.departure(experience, starts_in=timedelta(days=3, seconds=17))
    make.booking(odd)
    before = odd.starts_at
    url = f"/manage/departures/{odd.id}/edit"
    assert client.post(url, data=departure_form(odd, capacity="7")).status_code == 303
    db.session.expire_all()
    assert (odd.capacity, odd.starts_at) == (7, before)


def test_capacity_can_never_go_below_the_seats_taken(client, staff, departure, make):
    make.booking(departure, quantities={"adult": 3})
    make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    url = f"/manage/departures/{departure.id}/edit"
    response = client.post(url, data=departure_form(departure, capacity="4"), headers=EN)
    assert response.status_code == 409
    assert "5 seats are already booked or being paid for" in response.get_data(as_text=True)
    db.session.expire_all()
    assert departure.capacity == 10
    assert client.post(url, data=departure_form(departure, capacity="5")).status_code == 303
    db.session.expire_all()
    assert departure.capacity == 5


def test_an_expired_hold_does_not_block_lowering_capacity(client, staff, departure, make):
    make.booking(
        departure,
        quantities={"adult": 4},
        status=BookingStatus.HELD,
        hold_expires_at=utcnow() - timedelta(minutes=1),
    )
    url = f"/manage/departures/{departure.id}/edit"
    assert client.post(url, data=departure_form(departure, capacity="1")).status_code == 303


def test_moving_a_departure_without_bookings(client, staff, departure):
    old_length = departure.ends_at - departure.starts_at
    url = f"/manage/departures/{departure.id}/edit"
    response = client.post(url, data=departure_form(departure, start_time="15:45"))
    assert response.status_code == 303
    db.session.expire_all()
    assert local(departure.starts_at).strftime("%H:%M") == "15:45"
    assert departure.ends_at - departure.starts_at == old_length


def test_a_departure_with_bookings_keeps_its_time(client, staff, departure, make):
    make.booking(departure)
    before = departure.starts_at
    response = client.post(
        f"/manage/departures/{departure.id}/edit",
        data=departure_form(departure, start_time="15:45"),
        headers=EN,
    )
    assert response.status_code == 409
    assert "its time cannot change" in response.get_data(as_text=True)
    db.session.expire_all()
    assert departure.starts_at == before


def test_moving_onto_another_departure_is_a_conflict(client, staff, departure, make, experience):
    other = make.departure(experience, starts_at=departure.starts_at + timedelta(hours=3))
    response = client.post(
        f"/manage/departures/{departure.id}/edit",
        data=departure_form(departure, start_time=local(other.starts_at).strftime("%H:%M")),
        headers=EN,
    )
    assert response.status_code == 409
    assert "already has a departure at that time" in response.get_data(as_text=True)


# --- Cancelling a departure ---------------------------------------------------------------------


def test_cancelling_a_departure_cancels_refunds_and_tells_every_booking(
    client, app, staff, departure, make
):
    booking = make.booking(departure, quantities={"adult": 2}, payment_method="on_arrival")
    other = make.booking(departure, quantities={"child": 1}, payment_method="on_arrival")
    page = client.get(f"/manage/departures/{departure.id}/cancel", headers=EN)
    assert "2 confirmed bookings will be cancelled" in page.get_data(as_text=True)

    response = client.post(
        f"/manage/departures/{departure.id}/cancel", data={"reason": "Río Napo crecido"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert departure.status == DepartureStatus.CANCELLED
    assert departure.cancel_reason == "Río Napo crecido"
    assert booking.status == other.status == BookingStatus.CANCELLED
    assert booking.due_on_arrival_cents == 0
    sent = db.session.scalars(
        select(Notification).where(Notification.kind == "departure_cancelled")
    ).all()
    assert {n.booking_id for n in sent} == {booking.id, other.id}
    assert all(n.sent_at is not None for n in sent)  # emailed after the commit
    assert len(list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))) == 2


def test_cancelling_needs_a_reason_and_cannot_happen_twice(client, staff, departure, make):
    booking = make.booking(departure)
    url = f"/manage/departures/{departure.id}/cancel"
    response = client.post(url, data={"reason": "   "}, headers=EN)
    assert response.status_code == 400
    db.session.expire_all()
    assert departure.status == DepartureStatus.SCHEDULED
    assert booking.status == BookingStatus.CONFIRMED
    assert client.post(url, data={"reason": "Tormenta"}).status_code == 303
    again = client.post(url, data={"reason": "Tormenta"}, headers=EN)
    assert again.status_code == 409
    assert "already cancelled" in again.get_data(as_text=True)


def test_a_past_departure_cannot_be_cancelled(client, staff, experience, make):
    past = make.departure(experience, starts_in=timedelta(hours=-2))
    response = client.post(f"/manage/departures/{past.id}/cancel", data={"reason": "Tarde"})
    assert response.status_code == 409
    db.session.expire_all()
    assert past.status == DepartureStatus.SCHEDULED


# --- Operations board ----------------------------------------------------------------------------


@pytest.fixture
def busy_day(make, kallari, experience):
    """Tomorrow 09:00 local: 3 sold (one booking half paid online), 2 held, 1 expired hold,
    1 cancelled; a lead guide. Plus a departure of another association the same day."""
    day = local_today() + timedelta(days=1)
    departure = make.departure(experience, capacity=10, starts_at=local_to_utc(day, time(9)))
    cash = make.booking(departure, quantities={"adult": 2}, payment_method="on_arrival")
    deposit = make.booking(departure, quantities={"child": 1}, payment_method="deposit")
    db.session.add(
        Payment(
            booking=deposit,
            provider="stripe",
            provider_ref="pi_test_deposit",
            amount_cents=1000,
            status=PaymentStatus.SUCCEEDED,
        )
    )
    make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    make.booking(
        departure,
        quantities={"adult": 1},
        status=BookingStatus.HELD,
        hold_expires_at=utcnow() - timedelta(minutes=5),
    )
    make.booking(departure, quantities={"adult": 1}, status=BookingStatus.CANCELLED)
    guide = member(make, kallari, Role.GUIDE, name="Luis Shiguango")
    db.session.add(DepartureGuide(departure=departure, user=guide, role=GuideRole.LEAD))
    other = make.experience(make.association(name="Otra"))
    make.departure(other, starts_at=local_to_utc(day, time(10)))
    db.session.flush()
    return {"day": day, "departure": departure, "due": cash.total_cents + 2500 - 1000}


def test_the_board_shows_sold_held_free_guides_and_cash_due(client, staff, busy_day):
    response = client.get(f"/manage/operations?day={busy_day['day'].isoformat()}", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    cells = re.findall(r'<td class="number" data-label="[^"]*">([^<]*)</td>', html)
    assert cells[:4] == ["3 / 10", "2", "5", "$105.00"]
    assert busy_day["due"] == 10500
    assert "Luis Shiguango (lead)" in html
    assert "Otra" not in html and html.count('data-label="Sold">3 / 10</td>') == 1


def test_the_week_view_includes_the_whole_week(client, staff, busy_day, make, experience):
    day = busy_day["day"]
    monday = day - timedelta(days=day.weekday())
    make.departure(experience, starts_at=local_to_utc(monday + timedelta(days=6), time(16)))
    make.departure(experience, starts_at=local_to_utc(monday + timedelta(days=7), time(16)))
    html = client.get(f"/manage/operations?day={day.isoformat()}&view=week", headers=EN).get_data(
        as_text=True
    )
    assert html.count("/ 10</td>") == 2  # Thursday and Sunday; the next Monday is not shown


@pytest.mark.parametrize(
    "query",
    ["day=2025-13-45", "day=yesterday", "day=99999-01-01", "day=0001-01-01", "view=month"],
)
def test_bad_board_dates_are_a_clear_400(client, staff, query):
    response = client.get(f"/manage/operations?{query}", headers=EN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        "Write a date like" in html
        or "within the next five years" in html
        or ("Choose an option from the list." in html)
    )


def test_schedules_service_preview_matches_generation(session, experience):
    """The same rule drives both: a saved schedule generates what ``occurrences`` listed."""
    today = local_today()
    schedule = Schedule(
        experience_id=experience.id,
        weekdays="MO,TH",
        start_time=time(7),
        duration_minutes=60,
        capacity=5,
        valid_from=today,
    )
    listed = schedules.occurrences(schedule, today, today + timedelta(days=30), display_zone())
    session.add(schedule)
    created = schedules.generate_departures(
        session, schedule, today, today + timedelta(days=30), display_zone()
    )
    assert [d.starts_at for d in created] == listed

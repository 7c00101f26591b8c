"""The guide pages: schedule, time off, calendar feed, manifest, check-in, cash, stops, sync."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from tests.factories import Factories
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    Booking,
    DepartureGuide,
    GuideTimeOff,
    Payment,
    PaymentStatus,
    Role,
    StopVisit,
)
from tourism.services.access.accounts import start_session

EN = {"Accept-Language": "en"}


def login(client, session, user) -> None:
    """Plant the Flask-Login session a real sign-in creates (with the "strong" protection
    identifier of this client)."""
    token = start_session(user)
    session.commit()
    app = client.application
    with app.test_request_context(environ_base=client.environ_base):
        identifier = app.login_manager._session_identifier_generator()
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
        s["_id"] = identifier


@pytest.fixture
def trip(make):
    """A departure starting within the hour, its guide, staff, a stop and two parties."""
    association = make.association()
    experience = make.experience(association, prices={"adult": 4500, "child": 2500})
    stop = make.stop(experience, family=make.family(association, name="Familia Grefa"))
    departure = make.departure(
        experience, starts_at=utcnow().replace(microsecond=0) + timedelta(minutes=30)
    )
    guide = make.guide(association)
    make.assign(departure, guide)
    ana = make.booking(
        departure,
        {"adult": 2, "child": 1},
        contact_name="Ana Quispe",
        contact_phone="+593 99 123-4567",
        special_needs="Vegetarian; one wheelchair user",
        language="en",
    )
    ben = make.booking(departure, {"adult": 1}, contact_name="Ben Shiki")
    ben.payments.append(
        Payment(provider="stripe", amount_cents=4500, status=PaymentStatus.SUCCEEDED)
    )
    return dict(
        association=association,
        experience=experience,
        departure=departure,
        stop=stop,
        guide=guide,
        staff=make.user(password="", memberships=[(association, Role.STAFF)]),
        ana=ana,
        ben=ben,
    )


def manifest_url(trip) -> str:
    return f"/guide/departures/{trip['departure'].id}"


def booking_url(trip, who: str, action: str) -> str:
    return f"{manifest_url(trip)}/bookings/{trip[who].id}/{action}"


def test_anonymous_visitors_are_sent_to_sign_in(make_app):
    app = make_app()
    if "auth.login" not in app.view_functions:  # the sign-in page is built elsewhere
        app.add_url_rule("/login", "auth.login", lambda: "sign in")
    with app.app_context():
        client = app.test_client()
        for url in ("/guide/", "/guide/time-off", "/guide/calendar", "/guide/departures/1"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].split("?")[0].endswith("/login")
        assert client.post("/guide/sync", json={"actions": []}).status_code == 302


def test_my_schedule_shows_what_is_ahead(client, session, trip):
    login(client, session, trip["guide"])
    html = client.get("/guide/", headers=EN).get_data(as_text=True)
    assert "Test route" in html
    assert "4 people (2 bookings)" in html
    assert "English, Spanish" in html or "Spanish, English" in html
    assert "$115.00" in html  # Ana's total; Ben paid online
    assert "Tena square" in html


def test_a_guide_of_another_association_finds_nothing(client, session, make, trip):
    stranger = make.guide(make.association())
    login(client, session, stranger)
    assert client.get(manifest_url(trip)).status_code == 404
    assert client.get(manifest_url(trip) + "/scan").status_code == 404
    assert client.post(booking_url(trip, "ana", "check-in")).status_code == 404
    assert session.get(Booking, trip["ana"].id).checked_in_at is None


def test_a_guide_of_the_association_not_on_the_departure_finds_nothing(client, session, make, trip):
    login(client, session, make.guide(trip["association"]))
    assert client.get(manifest_url(trip)).status_code == 404


def test_manifest_shows_needs_phone_money_and_offline_data(client, session, trip):
    login(client, session, trip["guide"])
    response = client.get(manifest_url(trip), headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Vegetarian; one wheelchair user" in html
    assert 'href="tel:+593991234567"' in html
    assert "2 × Adult, 1 × Child" in html
    assert "$115.00" in html  # due on arrival for Ana
    assert "Familia Grefa" in html
    assert 'name="csrf_token"' in html
    data = re.search(
        r'<script type="application/json" id="manifest-data">(.*?)</script>', html, re.S
    ).group(1)
    parsed = json.loads(data)
    assert {b["reference"] for b in parsed["bookings"]} == {
        trip["ana"].reference,
        trip["ben"].reference,
    }
    assert re.search(r'src="/static/js/guide-offline\.[0-9a-f]{12}\.js"', html)


def test_check_in_by_tapping_the_name_then_undo(client, session, trip):
    login(client, session, trip["guide"])
    response = client.post(booking_url(trip, "ana", "check-in"))
    assert response.status_code == 303
    assert session.get(Booking, trip["ana"].id).checked_in_at is not None
    again = client.post(booking_url(trip, "ana", "check-in"))  # a double tap
    assert again.status_code == 303
    html = client.get(manifest_url(trip), headers=EN).get_data(as_text=True)
    assert "Checked in: 3 of 4" in html and "Undo check-in" in html
    assert client.post(booking_url(trip, "ana", "undo-check-in")).status_code == 303
    assert session.get(Booking, trip["ana"].id).checked_in_at is None
    # Nothing left to undo, nor to mark twice: the page says so rather than "undone".
    for action, said in (
        ("undo-check-in", "Ana Quispe was not checked in: there was nothing to undo."),
        ("undo-no-show", "Ana Quispe was not marked as not come: there was nothing to undo."),
        ("no-show", "Ana Quispe is marked as not come."),
        ("no-show", "Ana Quispe was already marked as not come."),
    ):
        assert client.post(booking_url(trip, "ana", action), headers=EN).status_code == 303
        page = client.get(manifest_url(trip), headers=EN).get_data(as_text=True)
        assert said in page, action


def test_no_show_then_the_error_when_checking_in_is_shown(client, session, trip):
    login(client, session, trip["guide"])
    assert client.post(booking_url(trip, "ben", "no-show")).status_code == 303
    assert session.get(Booking, trip["ben"].id).no_show_at is not None
    client.post(booking_url(trip, "ana", "check-in"))
    refused = client.post(booking_url(trip, "ana", "no-show"), headers=EN)
    assert refused.status_code == 409
    assert "Undo the check-in first" in refused.get_data(as_text=True)


def test_check_in_by_reference(client, session, trip):
    login(client, session, trip["guide"])
    scan = f"{manifest_url(trip)}/scan"
    assert client.get(scan).status_code == 200
    typed = " " + trip["ana"].reference.lower() + " "
    response = client.post(scan, data={"reference": typed}, headers=EN)
    assert response.status_code == 303
    assert session.get(Booking, trip["ana"].id).checked_in_at is not None
    page = client.get(scan, headers=EN).get_data(as_text=True)
    assert "Ana Quispe (3 people) is checked in." in page
    assert "Collect $115.00 in cash." in page
    unknown = client.post(scan, data={"reference": "NOP-222222"}, headers=EN)
    assert unknown.status_code == 404
    assert "There is no booking NOP-222222 on this departure." in unknown.get_data(as_text=True)
    assert client.post(scan, data={"reference": ""}).status_code == 400


def test_cash_form_records_once_and_refuses_more_than_due(client, session, trip):
    login(client, session, trip["guide"])
    url = booking_url(trip, "ana", "cash")
    form = {"amount": "100,50", "client_ref": "form-1"}
    assert client.post(url, data=form).status_code == 303
    assert client.post(url, data=form).status_code == 303  # sent twice
    payments = session.scalars(select(Payment).where(Payment.provider == "cash")).all()
    assert [(p.amount_cents, p.collected_by_id) for p in payments] == [(10050, trip["guide"].id)]
    # The same form again with another amount (the back button keeps its id): nothing is
    # recorded, and the guide is told so instead of "recorded".
    again = client.post(url, data={"amount": "2", "client_ref": "form-1"}, headers=EN)
    assert again.status_code == 303
    page = client.get(manifest_url(trip), headers=EN).get_data(as_text=True)
    assert "This form was already sent: $100.50 was recorded then, and nothing now." in page
    assert "Cash received is recorded." not in page
    too_much = client.post(url, data={"amount": "15", "client_ref": "form-2"}, headers=EN)
    assert too_much.status_code == 409
    assert "Only $14.50 is still due" in too_much.get_data(as_text=True)
    bad = client.post(url, data={"amount": "abc"}, headers=EN)
    assert bad.status_code == 400
    assert "Write an amount like 25 or 25.50." in bad.get_data(as_text=True)
    assert session.scalar(select(func.count(Payment.id)).where(Payment.provider == "cash")) == 1


def test_confirm_a_stop_visited(client, session, trip):
    login(client, session, trip["guide"])
    url = f"{manifest_url(trip)}/stops/{trip['stop'].id}/visited"
    assert client.post(url).status_code == 303
    assert client.post(url).status_code == 303
    assert session.scalar(select(func.count(StopVisit.id))) == 1
    assert "Visited, confirmed at" in client.get(manifest_url(trip), headers=EN).get_data(
        as_text=True
    )


def test_sync_applies_offline_actions_once(client, session, trip):
    login(client, session, trip["guide"])
    at = utcnow().isoformat()
    d = trip["departure"].id
    actions = [
        {
            "id": "u1",
            "type": "check_in",
            "departure_id": d,
            "booking_reference": trip["ana"].reference,
            "at": at,
        },
        {
            "id": "u2",
            "type": "cash",
            "departure_id": d,
            "booking_reference": trip["ana"].reference,
            "amount_cents": 2000,
            "at": at,
        },
        {
            "id": "u3",
            "type": "stop_visited",
            "departure_id": d,
            "stop_id": trip["stop"].id,
            "at": at,
        },
        {"id": "u4", "type": "check_in", "departure_id": d, "booking_reference": "NOP-2", "at": at},
    ]
    first = client.post("/guide/sync", json={"actions": actions}, headers=EN)
    assert first.status_code == 200
    assert [(r["id"], r["status"]) for r in first.get_json()["results"]] == [
        ("u1", "applied"),
        ("u2", "applied"),
        ("u3", "applied"),
        ("u4", "error"),
    ]
    second = client.post("/guide/sync", json={"actions": actions}, headers=EN)
    assert [r["status"] for r in second.get_json()["results"]] == [
        "unchanged",
        "unchanged",
        "unchanged",
        "error",
    ]
    assert session.scalar(select(func.count(Payment.id)).where(Payment.provider == "cash")) == 1
    assert client.post("/guide/sync", data="nonsense").status_code == 400
    assert client.post("/guide/sync", json={"actions": [{}] * 201}).status_code == 400


def test_posts_need_a_csrf_token_when_enabled(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make = Factories(db.session)
        association = make.association()
        departure = make.departure(
            make.experience(association), starts_at=utcnow() + timedelta(minutes=10)
        )
        guide = make.guide(association)
        make.assign(departure, guide)
        booking = make.booking(departure)
        client = app.test_client()
        login(client, db.session, guide)
        base = f"/guide/departures/{departure.id}"
        refused = client.post(f"{base}/bookings/{booking.id}/check-in", headers=EN)
        assert refused.status_code == 400
        assert "form has expired" in refused.get_data(as_text=True)
        action = {
            "id": "c1",
            "type": "check_in",
            "departure_id": departure.id,
            "booking_reference": booking.reference,
            "at": utcnow().isoformat(),
        }
        assert client.post("/guide/sync", json={"actions": [action]}).status_code == 400
        assert db.session.get(Booking, booking.id).checked_in_at is None

        page = client.get(base).get_data(as_text=True)
        token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
        synced = client.post(
            "/guide/sync", json={"actions": [action]}, headers={"X-CSRFToken": token}
        )
        assert synced.status_code == 200 and synced.get_json()["results"][0]["ok"] is True
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert (
            client.post(
                f"{base}/bookings/{booking.id}/undo-check-in", data={"csrf_token": form_token}
            ).status_code
            == 303
        )


def test_calendar_feed_address_created_revoked_and_served(client, session, make, trip):
    guide = trip["guide"]
    login(client, session, guide)
    page = client.get("/guide/calendar", headers=EN).get_data(as_text=True)
    assert "Create my calendar address" in page
    membership = guide.memberships[0]
    url = f"/guide/calendar/{membership.id}/token"
    assert client.post(url).status_code == 303
    token = session.get(type(membership), membership.id).ical_token
    page = client.get("/guide/calendar", headers=EN).get_data(as_text=True)
    assert f"/guide/calendar/{token}.ics" in page and "Revoke this address" in page

    anonymous = make_client(client)
    feed = anonymous.get(f"/guide/calendar/{token}.ics")
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    events = list(Calendar.from_ical(feed.data).walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [f"departure-{trip['departure'].id}@chakraroutes"]
    assert str(events[0]["url"]).endswith(manifest_url(trip))

    assert client.post(url).status_code == 303  # revoke: a new address
    assert anonymous.get(f"/guide/calendar/{token}.ics").status_code == 404
    new_token = session.get(type(membership), membership.id).ical_token
    assert anonymous.get(f"/guide/calendar/{new_token}.ics").status_code == 200
    assert anonymous.get("/guide/calendar/not-a-token.ics").status_code == 404


def make_client(client):
    return client.application.test_client()


def test_someone_elses_calendar_token_cannot_be_rotated(client, session, make, trip):
    other = make.guide(trip["association"])
    login(client, session, trip["guide"])
    response = client.post(f"/guide/calendar/{other.memberships[0].id}/token")
    assert response.status_code == 404


def test_time_off_added_listed_with_conflicts_and_removed(client, session, trip):
    from tourism.timefmt import local_today

    login(client, session, trip["guide"])
    today = local_today()
    response = client.post(
        "/guide/time-off",
        data={
            "association_id": str(trip["association"].id),
            "first_day": today.isoformat(),
            "last_day": (today + timedelta(days=1)).isoformat(),
            "note": "Minga",
        },
        headers=EN,
    )
    assert response.status_code == 303
    page = client.get("/guide/time-off", headers=EN).get_data(as_text=True)
    assert "Your time off is saved." in page
    assert "tell the staff so they can find another guide" in page
    assert "Minga" in page
    time_off = session.scalars(select(GuideTimeOff)).one()
    assert time_off.ends_at - time_off.starts_at == timedelta(days=2)
    # Listed by its days, first to last (not up to midnight after the last one).
    from tourism.timefmt import fmt_date

    with client.application.test_request_context(headers=EN):
        first, last = fmt_date(today, "full"), fmt_date(today + timedelta(days=1), "full")
    assert f"From {first} to {last}" in page, page[page.find("periods-heading") :][:600]
    # The same days again: still one period.
    client.post(
        "/guide/time-off",
        data={
            "association_id": str(trip["association"].id),
            "first_day": today.isoformat(),
            "last_day": (today + timedelta(days=1)).isoformat(),
        },
        headers=EN,
    )
    assert session.scalar(select(func.count(GuideTimeOff.id))) == 1
    backwards = client.post(
        "/guide/time-off",
        data={
            "association_id": str(trip["association"].id),
            "first_day": (today + timedelta(days=3)).isoformat(),
            "last_day": (today + timedelta(days=2)).isoformat(),
        },
        headers=EN,
    )
    assert backwards.status_code == 400
    assert "The last day cannot be before the first day." in backwards.get_data(as_text=True)
    # The last day of the calendar has no day after it: refused, not a server error.
    endless = client.post(
        "/guide/time-off",
        data={
            "association_id": str(trip["association"].id),
            "first_day": today.isoformat(),
            "last_day": "9999-12-31",
        },
        headers=EN,
    )
    assert endless.status_code == 400
    assert "last at most a year" in endless.get_data(as_text=True)
    # Nor does a statement's period that runs to it.
    for url in ("/guide/statement", f"/guide/statement/{trip['association'].id}/statement.csv"):
        for odd in ("9999-12-31", "0001-01-01", "2026-02-30"):
            answer = client.get(url, query_string={"until": odd, "from": odd}, headers=EN)
            assert answer.status_code == 200, (url, odd)
    assert client.post(f"/guide/time-off/{time_off.id}/remove").status_code == 303
    assert session.scalar(select(func.count(GuideTimeOff.id))) == 0


def test_staff_assign_guides_and_see_clear_errors(client, session, make, trip):
    login(client, session, trip["staff"])
    page = client.get(manifest_url(trip), headers=EN).get_data(as_text=True)
    assert "Assign a guide" in page
    second = make.guide(trip["association"], name="Rosa Tapuy")
    url = f"{manifest_url(trip)}/guides"
    refused = client.post(url, data={"user_id": str(second.id), "role": "lead"}, headers=EN)
    assert refused.status_code == 409
    assert "already has a lead guide" in refused.get_data(as_text=True)
    ok = client.post(url, data={"user_id": str(second.id), "role": "assistant"})
    assert ok.status_code == 303
    roles = session.execute(
        select(DepartureGuide.user_id, DepartureGuide.role).where(
            DepartureGuide.departure_id == trip["departure"].id
        )
    ).all()
    assert sorted((u, r.value) for u, r in roles) == sorted(
        [(trip["guide"].id, "lead"), (second.id, "assistant")]
    )
    remove = client.post(f"{url}/{trip['guide'].id}/remove")
    assert remove.status_code == 303


def test_guides_cannot_assign(client, session, make, trip):
    login(client, session, trip["guide"])
    other = make.guide(trip["association"])
    url = f"{manifest_url(trip)}/guides"
    assert client.post(url, data={"user_id": str(other.id), "role": "assistant"}).status_code == 404
    assert "Assign a guide" not in client.get(manifest_url(trip), headers=EN).get_data(as_text=True)


def test_service_worker_is_served_for_the_guide_pages(client):
    response = client.get("/guide/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/guide/"
    assert "caches" in response.get_data(as_text=True)


def test_manifest_says_what_to_prepare_per_extra(client, session, trip, make):
    """The extras the parties chose, counted per extra over the confirmed parties, and each
    party's extras and homestay nights; a cancelled party's are not prepared."""
    from tourism.models import BookingExtra, BookingNight, BookingStatus, NightSide

    association = trip["association"]
    cook = make.family(association, name="Familia Tapuy")
    lunch = make.route_extra(association, price=700, family=cook, name_en="Chakra lunch")
    box = make.route_extra(association, price=1200, name_en="Chocolate box")
    homestay = make.homestay(cook, name="Casa Tapuy")
    ana, ben = trip["ana"], trip["ben"]
    ana.extras = [
        BookingExtra(extra=lunch, quantity=3, unit_price_cents=700),
        BookingExtra(extra=box, quantity=1, unit_price_cents=1200),
    ]
    ana.nights = [
        BookingNight(
            homestay=homestay,
            night=trip["departure"].starts_at.date(),
            side=NightSide.AFTER,
            people=3,
            unit_price_cents=2500,
        )
    ]
    ben.extras = [BookingExtra(extra=lunch, quantity=1, unit_price_cents=700)]
    gone = make.booking(trip["departure"], {"adult": 4}, status=BookingStatus.CANCELLED)
    gone.extras = [BookingExtra(extra=lunch, quantity=4, unit_price_cents=700)]
    session.commit()
    login(client, session, trip["guide"])
    html = client.get(manifest_url(trip), headers=EN).get_data(as_text=True)
    prepare = html[html.index("What to prepare") : html.index('id="stops"')]
    assert "4 × Chakra lunch (Familia Tapuy)" in prepare
    assert "1 × Chocolate box" in prepare
    assert "3 × Chakra lunch, 1 × Chocolate box; night of" in html
    assert "at Casa Tapuy" in html

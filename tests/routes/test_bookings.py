"""Booking through the pages: the happy path, and every kind of bad input.

Bad input must get a clear message in the visitor's language, the right status code, and
must write nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tourism.models import Booking, BookingStatus, DepartureStatus, ExperienceStatus

ES = {"Accept-Language": "es"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def departure(make):
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    return make.departure(experience, capacity=6)


def form_for(departure, **changes) -> dict:
    adult, child = departure.experience.price_categories
    data = {
        f"qty_{adult.id}": "2",
        f"qty_{child.id}": "1",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "+593 99 123 4567",
        "country": "EC",
        "language": "es",
        "special_needs": "Vegetariana",
        "special_needs_consent": "y",
        "payment_method": "on_arrival",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def bookings(session) -> int:
    return session.scalar(select(func.count(Booking.id)))


def test_booking_form_shows_tickets_and_seats(client, departure):
    page = client.get(f"/departures/{departure.id}/book", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Adult" in html and "Child" in html
    assert "$45.00" in html
    assert "6 seats left" in html


def test_book_then_manage_then_cancel(client, session, departure):
    response = client.post(f"/departures/{departure.id}/book", data=form_for(departure))
    assert response.status_code == 303
    booking = session.scalars(select(Booking)).one()
    # The page after says so by its address: the booking writes no session cookie.
    assert response.headers["Location"].endswith(f"/bookings/{booking.manage_token}?booked=1")
    assert "Set-Cookie" not in response.headers
    thanks = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Your booking is confirmed. Keep this page" in thanks
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment_method == "on_arrival"
    assert booking.total_cents == 2 * 4500 + 2500
    assert booking.participants == 3

    manage = client.get(f"/bookings/{booking.manage_token}", headers=EN)
    html = manage.get_data(as_text=True)
    assert manage.status_code == 200
    assert booking.reference in html
    assert "Your booking is confirmed. Keep this page" not in html  # only just after
    assert "$115.00" in html
    # The page after paying, reached with nothing paid online, does not claim a payment.
    processing = client.get(f"/bookings/{booking.manage_token}/processing", headers=EN)
    assert processing.status_code == 303
    after = client.get(processing.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Payment received" not in after
    assert "Vegetariana" in html

    assert client.get(f"/bookings/{booking.manage_token}/cancel").status_code == 200
    cancelled = client.post(f"/bookings/{booking.manage_token}/cancel")
    assert cancelled.status_code == 303
    session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    page = client.get(f"/departures/{departure.id}/book", headers=EN).get_data(as_text=True)
    assert "6 seats left" in page


@pytest.mark.parametrize(
    ("changes", "english"),
    [
        ({"qty_ADULT": "0", "qty_CHILD": "0"}, "Choose at least one ticket"),
        ({"qty_ADULT": "0", "qty_CHILD": "2"}, "Children come with an adult"),
        ({"qty_ADULT": "-1"}, "between 0 and 10"),
        ({"qty_ADULT": "abc"}, "Not a valid integer"),
        ({"qty_ADULT": "11"}, "between 0 and 10"),
        ({"qty_ADULT": "8", "qty_CHILD": "3"}, "at most 10 tickets"),
        ({"qty_ADULT": "9" * 40}, "between 0 and 10"),
        ({"email": "ana-at-example"}, "valid email"),
        ({"email": None}, "This field is required"),
        ({"name": "A" * 121}, "Field cannot be longer than 120 characters"),
        ({"name": "   "}, "This field is required"),
        ({"phone": "call me maybe"}, "phone number"),
        ({"country": "Atlantis"}, "Not a valid choice"),
        ({"language": "fr"}, "Not a valid choice"),
        ({"payment_method": "bitcoin"}, "Not a valid choice"),
        ({"special_needs": "x" * 5000}, "Field cannot be longer than 1000 characters"),
        ({"name": "Ana\x00Quispe"}, "not valid"),
        ({"name": "\u202eAna Quispe"}, "without special characters"),
        ({"special_needs": "\x00"}, "not valid"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(client, session, departure, changes, english):
    adult, child = departure.experience.price_categories
    renamed = {
        key.replace("ADULT", str(adult.id)).replace("CHILD", str(child.id)): value
        for key, value in changes.items()
    }
    response = client.post(
        f"/departures/{departure.id}/book", data=form_for(departure, **renamed), headers=EN
    )
    assert response.status_code == 400
    assert english in response.get_data(as_text=True)
    assert bookings(session) == 0


def test_bad_input_message_is_in_spanish_by_default(client, session, departure):
    adult, child = departure.experience.price_categories
    data = form_for(departure, **{f"qty_{adult.id}": "0", f"qty_{child.id}": "0"})
    response = client.post(f"/departures/{departure.id}/book", data=data)
    assert response.status_code == 400
    assert "Elige al menos una entrada" in response.get_data(as_text=True)


def test_unknown_departure_is_404(client, session):
    assert client.get("/departures/999999/book").status_code == 404
    assert client.post("/departures/999999/book", data={}).status_code == 404
    assert client.get("/departures/abc/book").status_code == 404
    assert client.get("/departures/99999999999999999999/book").status_code == 404
    assert client.get("/departures/-1/book").status_code == 404
    assert bookings(session) == 0


def test_draft_experience_cannot_be_booked(client, session, make):
    draft = make.experience(status=ExperienceStatus.DRAFT)
    departure = make.departure(draft)
    assert client.get(f"/departures/{departure.id}/book").status_code == 404


def test_sold_out_is_409_with_a_clear_message(client, session, make):
    departure = make.departure(capacity=3)
    make.booking(departure, quantities={"adult": 2})
    response = client.post(f"/departures/{departure.id}/book", data=form_for(departure), headers=EN)
    assert response.status_code == 409
    assert "only 1 seat is left" in response.get_data(as_text=True)
    assert bookings(session) == 1


def test_cancelled_departure_is_409(client, session, make):
    departure = make.departure(status=DepartureStatus.CANCELLED, cancel_reason="Río crecido")
    response = client.post(f"/departures/{departure.id}/book", data=form_for(departure), headers=EN)
    assert response.status_code == 409
    assert "cancelled" in response.get_data(as_text=True)
    assert bookings(session) == 0


def test_past_departure_is_409(client, session, make):
    departure = make.departure(starts_in=timedelta(hours=-2))
    form_page = client.get(f"/departures/{departure.id}/book", headers=EN)
    assert "closed" in form_page.get_data(as_text=True)
    response = client.post(f"/departures/{departure.id}/book", data=form_for(departure), headers=EN)
    assert response.status_code == 409
    assert bookings(session) == 0


@pytest.mark.parametrize(
    ("token", "status"),
    [("nope", 404), ("x" * 43, 404), ("A" * 300, 404), ("..%2F..%2Fetc", 404), ("%00", 400)],
)
def test_wrong_manage_token_is_refused(client, make, token, status):
    make.booking()
    assert client.get(f"/bookings/{token}").status_code == status
    assert client.post(f"/bookings/{token}/cancel").status_code == status


def test_cancelling_twice_is_409_and_changes_nothing(client, session, make):
    booking = make.booking()
    assert client.post(f"/bookings/{booking.manage_token}/cancel").status_code == 303
    again = client.post(f"/bookings/{booking.manage_token}/cancel", headers=EN)
    assert again.status_code == 409
    assert "can no longer be cancelled" in again.get_data(as_text=True)


def test_forms_need_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from tests.factories import Factories
        from tourism.extensions import db

        departure = Factories(db.session).departure()
        data = form_for(departure)
        client = app.test_client()
        response = client.post(f"/departures/{departure.id}/book", data=data, headers=EN)
        assert response.status_code == 400
        assert "form has expired" in response.get_data(as_text=True)
        assert bookings(db.session) == 0


def test_the_token_the_form_shows_books(make_app):
    """The form's CSRF token is signed only when the page shows it: the token on the page,
    and on the page shown again after a mistake, is one the booking accepts."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from tests.factories import Factories
        from tourism.extensions import db

        departure = Factories(db.session).departure()
        client = app.test_client()
        url = f"/departures/{departure.id}/book"

        def token_on(page) -> str:
            found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
            assert found, page.text[:500]
            return found.group(1)

        token = token_on(client.get(url, headers=EN))
        mistake = client.post(url, data=form_for(departure, email="bad", csrf_token=token))
        assert mistake.status_code == 400
        again = token_on(mistake)
        booked = client.post(url, data=form_for(departure, csrf_token=again), headers=EN)
        assert booked.status_code == 303, booked.text[:500]
        assert bookings(db.session) == 1


def test_booking_posts_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, BOOKING_RATE_LIMIT="3 per minute")
    with app.app_context():
        from tests.factories import Factories
        from tourism.extensions import db

        departure = Factories(db.session).departure(capacity=50)
        data = form_for(departure, **{"email": "bad"})
        client = app.test_client()
        codes = [
            client.post(f"/departures/{departure.id}/book", data=data, headers=EN).status_code
            for _ in range(4)
        ]
        assert codes == [400, 400, 400, 429]
        limited = client.post(f"/departures/{departure.id}/book", data=data, headers=EN)
        assert "Too many requests" in limited.get_data(as_text=True)


def test_rate_limits_count_each_visitor_behind_the_proxy(make_app):
    app = make_app(RATELIMIT_ENABLED=True, BOOKING_RATE_LIMIT="1 per minute", PROXY_FIX_X_FOR=1)
    with app.app_context():
        from tests.factories import Factories
        from tourism.extensions import db

        departure = Factories(db.session).departure(capacity=50)
        data = form_for(departure, email="bad")
        client = app.test_client()
        url = f"/departures/{departure.id}/book"

        def post(address):
            return client.post(url, data=data, headers={"X-Forwarded-For": address}).status_code

        assert [post("203.0.113.1"), post("203.0.113.2"), post("203.0.113.1")] == [400, 400, 429]


def test_the_forms_own_messages_follow_each_visitors_language(client, session, departure):
    # WTForms' catalog is read once per language and kept: each request still gets its own.
    data = form_for(departure, country="Atlantis")
    for headers, expected in ((None, "Opción inválida"), (EN, "Not a valid choice")) * 2:
        response = client.post(f"/departures/{departure.id}/book", data=data, headers=headers)
        assert response.status_code == 400
        assert expected in response.get_data(as_text=True)
    assert bookings(session) == 0

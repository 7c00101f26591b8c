"""The same booking form sent twice (a double click, a slow connection, the page sent once
more) makes one booking: the second sending leads to the booking the first made and says so.
A different email, or a form without its key, books as before."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.routes.test_booking_addons import shop  # noqa: F401  (a fixture)
from tests.routes.test_bookings import EN, ES, bookings, form_for
from tests.routes.test_itineraries import route  # noqa: F401  (a fixture)
from tourism.models import Booking, BookingStatus

NOTICE_EN = "This booking form had already been sent, so no second booking was made"
NOTICE_ES = "Este formulario de reserva ya se había enviado"


def key_on(page) -> str:
    found = re.search(r'name="submission" type="hidden" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.fixture
def departure(make):
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    return make.departure(experience, capacity=6)


def test_each_form_page_has_its_own_key(client, departure):
    url = f"/departures/{departure.id}/book"
    first, second = key_on(client.get(url)), key_on(client.get(url))
    assert first != second
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first)


def test_the_same_form_sent_twice_makes_one_booking(client, session, departure):
    url = f"/departures/{departure.id}/book"
    data = form_for(departure, submission=key_on(client.get(url)))
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert bookings(session) == 1
    booking = session.scalars(select(Booking)).one()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.participants == 3  # the seats were taken once
    assert booking.departure.seats_confirmed == 3
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].endswith(f"/bookings/{booking.manage_token}?booked=1")
    assert again.headers["Location"].endswith(f"/bookings/{booking.manage_token}?booked=1&again=1")
    page = client.get(again.headers["Location"], headers=EN).text
    assert NOTICE_EN in page
    assert "Your booking is confirmed" in page
    assert NOTICE_ES in client.get(again.headers["Location"], headers=ES).text
    # Only the repeat says so.
    assert NOTICE_EN not in client.get(first.headers["Location"], headers=EN).text


def test_a_held_booking_sent_again_leads_to_its_payment(client, session, departure):
    """A booking still waiting for its card payment: the repeat leads to that payment."""
    url = f"/departures/{departure.id}/book"
    data = form_for(departure, submission=key_on(client.get(url)))
    client.post(url, data=data)
    booking = session.scalars(select(Booking)).one()
    # The booking as if it were still waiting for its card payment.
    booking.status = BookingStatus.HELD
    booking.confirmed_at = None
    booking.hold_expires_at = booking.created_at.replace(year=booking.created_at.year + 1)
    departure.seats_confirmed = 0
    session.commit()
    again = client.post(url, data=data)
    assert bookings(session) == 1
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/bookings/{booking.manage_token}/pay?again=1")


def test_a_form_with_extras_sent_twice_makes_one_booking(client, session, shop):  # noqa: F811
    departure = shop["departure"]
    url = f"/departures/{departure.id}/book"
    data = form_for(departure, submission=key_on(client.get(url))) | {
        f"extra_{shop['lunch'].id}": "2"
    }
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert bookings(session) == 1
    booking = session.scalars(select(Booking)).one()
    assert [(e.extra_id, e.quantity) for e in booking.extras] == [(shop["lunch"].id, 2)]
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"].endswith(f"/bookings/{booking.manage_token}?booked=1&again=1")


def test_the_same_key_with_another_email_books_again(client, session, departure):
    url = f"/departures/{departure.id}/book"
    key = key_on(client.get(url))
    client.post(url, data=form_for(departure, submission=key))
    other = client.post(url, data=form_for(departure, submission=key, email="rosa@example.org"))
    assert other.status_code == 303 and "again" not in other.headers["Location"]
    stored = session.scalars(select(Booking).order_by(Booking.id)).all()
    assert [b.contact_email for b in stored] == ["ana@example.org", "rosa@example.org"]
    assert [b.submission_key for b in stored] == [key, None]


@pytest.mark.parametrize("key", [None, "", "x" * 200, "../../etc/passwd", "ñandú-ñandú-ñandú-ñañ"])
def test_a_form_without_a_key_of_ours_books_as_before(client, session, departure, key):
    """An old page, a script, or a key that is not one we draw: each sending books (this is
    also the control: without the key, the same form sent twice makes two bookings)."""
    url = f"/departures/{departure.id}/book"
    data = form_for(departure, submission=key)
    responses = [client.post(url, data=data, headers=EN) for _ in range(2)]
    assert [r.status_code for r in responses] == [303, 303]
    assert bookings(session) == 2
    assert session.scalars(select(Booking.submission_key)).all() == [None, None]


# A route across communities: the same rule for its own form --------------------------------


def test_a_route_form_sent_twice_makes_one_route_booking(client, route):  # noqa: F811
    from tests.routes.test_itineraries import counts
    from tests.routes.test_itineraries import form_for as route_form
    from tourism.extensions import db
    from tourism.models import RouteBooking

    url = f"/routes/{route.slug}/book"
    data = route_form(route, submission=key_on(client.get(url)))
    first = client.post(url, data=data, headers=EN)
    again = client.post(url, data=data, headers=EN)
    route_bookings, leg_bookings = counts()
    assert route_bookings == 1
    assert leg_bookings == len([leg for leg in route.legs if leg.experience is not None])
    booked = db.session.scalars(select(RouteBooking)).one()
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert again.headers["Location"].endswith(f"/route-bookings/{booked.manage_token}")
    page = client.get(again.headers["Location"], headers=EN).text
    assert "This booking form had already been sent: here is the booking it made." in page
    # Another email with the same page's key books, without the key.
    other = client.post(
        url, data=route_form(route, submission=data["submission"], email="rosa@example.org")
    )
    assert other.status_code == 303 and other.headers["Location"] != first.headers["Location"]
    stored = db.session.scalars(select(RouteBooking).order_by(RouteBooking.id)).all()
    assert [rb.submission_key for rb in stored] == [data["submission"], None]

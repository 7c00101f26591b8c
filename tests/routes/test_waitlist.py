"""The waiting list as visitors meet it: the link on a sold-out departure, joining (bad input
explained in the visitor's language, right status, nothing written), and the offer page
(take the seats, give them back, too late)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingStatus,
    DepartureStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from tourism.services.booking import lifecycle, waitlist

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def sold_out(make):
    departure = make.departure(capacity=2, starts_in=timedelta(days=4))
    make.booking(departure, quantities={"adult": 2})
    db.session.commit()
    return departure


def form(**changes) -> dict:
    data = {
        "people": "2",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "+593 99 123 4567",
        "country": "EC",
        "language": "en",
    }
    return data | changes


def entries() -> int:
    return db.session.scalar(select(func.count(WaitlistEntry.id)))


def test_sold_out_departure_links_to_its_waiting_list(client, sold_out):
    slug = sold_out.experience.slug
    html = client.get(f"/experiences/{slug}", headers=EN).get_data(as_text=True)
    assert f"/departures/{sold_out.id}/waitlist" in html
    html = client.get(f"/departures/{sold_out.id}/book", headers=ES).get_data(as_text=True)
    assert "Apuntarme a la lista de espera" in html


def test_joining_the_waiting_list(client, sold_out):
    page = client.get(f"/departures/{sold_out.id}/waitlist", headers=ES)
    assert page.status_code == 200 and "Personas en tu grupo" in page.get_data(as_text=True)
    response = client.post(f"/departures/{sold_out.id}/waitlist", data=form(), headers=EN)
    assert response.status_code == 200
    assert "You are first in line." in response.get_data(as_text=True)
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert (entry.people, entry.language, entry.status) == (2, "en", WaitlistStatus.WAITING)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"people": "0"}, "Indica un número de personas de 1 a 10."),
        ({"people": "muchos"}, "Personas en tu grupo: No es un valor entero válido"),
        ({"people": "9" * 400}, "Indica un número de personas de 1 a 10."),
        ({"email": "no-es-correo"}, "correo"),
        ({"phone": "abc"}, "teléfono"),
        ({"language": "xx"}, "Idioma para los mensajes: "),
        ({"name": ""}, "Nombre completo: Este campo es obligatorio"),
    ],
)
def test_bad_input_is_explained_in_spanish_and_nothing_is_written(
    client, sold_out, changes, message
):
    response = client.post(f"/departures/{sold_out.id}/waitlist", data=form(**changes), headers=ES)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert entries() == 0


def test_joining_with_seats_free_or_twice_is_a_conflict(client, make, sold_out):
    free = make.departure(sold_out.experience, capacity=5, starts_in=timedelta(days=6))
    db.session.commit()
    response = client.post(f"/departures/{free.id}/waitlist", data=form(), headers=ES)
    assert response.status_code == 409
    assert "resérvalas directamente" in response.get_data(as_text=True)
    assert client.post(f"/departures/{sold_out.id}/waitlist", data=form()).status_code == 200
    again = client.post(f"/departures/{sold_out.id}/waitlist", data=form(), headers=ES)
    assert again.status_code == 409
    assert "ya está en la lista de espera" in again.get_data(as_text=True)
    assert entries() == 1


def test_unknown_departure_is_404(client):
    assert client.get("/departures/999999/waitlist").status_code == 404
    assert client.post("/departures/999999/waitlist", data=form()).status_code == 404


def _offered(client, sold_out) -> str:
    """Join, free two seats, run the offers: the token of the offer's link."""
    client.post(f"/departures/{sold_out.id}/waitlist", data=form(), headers=EN)
    with write_transactions():
        booking = db.session.scalars(select(Booking)).first()
        lifecycle.cancel_booking(db.session, booking, utcnow())
        db.session.commit()
    waitlist.offer_waitlist(db.session, utcnow(), timedelta(hours=2), ["es", "en"])
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert entry.status == WaitlistStatus.OFFERED
    return entry.booking.manage_token


def test_taking_the_offered_seats(client, sold_out):
    token = _offered(client, sold_out)
    page = client.get(f"/waitlist/{token}", headers=ES)
    assert page.status_code == 200
    assert "Quedarme con las plazas" in page.get_data(as_text=True)
    bad = client.post(f"/waitlist/{token}", data={"payment_method": "card"}, headers=ES)
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.scalars(select(WaitlistEntry)).one().status == WaitlistStatus.OFFERED
    response = client.post(f"/waitlist/{token}", data={"payment_method": "on_arrival"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/bookings/{token}?booked=1")
    thanks = client.get(response.headers["Location"], headers=ES).get_data(as_text=True)
    assert "Tu reserva está confirmada" in thanks
    db.session.expire_all()
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert entry.status == WaitlistStatus.ACCEPTED
    assert entry.booking.status == BookingStatus.CONFIRMED
    # Sent again (a double click, the back button): led to the same booking, not told that
    # the seats went to the next person.
    again = client.post(f"/waitlist/{token}", data={"payment_method": "on_arrival"})
    assert again.status_code == 303
    assert again.headers["Location"].endswith(f"/bookings/{token}?booked=1")
    # Giving them back now is done by cancelling the booking, and the page says so.
    back = client.post(f"/waitlist/{token}", data={"decline": "1"}, headers=ES)
    assert back.status_code == 409
    assert "Ya te quedaste con estas plazas" in back.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(WaitlistEntry)).one().booking.status == (
        BookingStatus.CONFIRMED
    )


@pytest.mark.parametrize("closed", ["cancelled", "departed"])
def test_a_closed_departures_waiting_list_says_so_and_offers_no_form(client, make, closed):
    if closed == "cancelled":
        departure = make.departure(capacity=2, starts_in=timedelta(days=4))
        departure.status = DepartureStatus.CANCELLED
    else:
        departure = make.departure(capacity=2, starts_in=-timedelta(hours=1))
    db.session.commit()
    page = client.get(f"/departures/{departure.id}/waitlist", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<div class="alert" role="alert">' in html
    assert "Join the waiting list" not in html and "seats left" not in html


def test_giving_the_seats_back(client, sold_out):
    token = _offered(client, sold_out)
    response = client.post(f"/waitlist/{token}", data={"decline": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert entry.status == WaitlistStatus.LAPSED
    assert entry.booking.status == BookingStatus.CANCELLED
    again = client.post(f"/waitlist/{token}", data={"decline": "1"}, headers=ES)
    assert again.status_code == 409
    assert "Esta oferta ya no está abierta" in again.get_data(as_text=True)


def test_an_offer_taken_too_late_is_a_conflict_and_changes_nothing(client, sold_out):
    token = _offered(client, sold_out)
    with write_transactions():
        booking = db.session.scalars(select(Booking).where(Booking.manage_token == token)).one()
        booking.hold_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.post(f"/waitlist/{token}", data={"payment_method": "on_arrival"})
    assert response.status_code == 409
    db.session.expire_all()
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert entry.status == WaitlistStatus.OFFERED
    assert entry.booking.status == BookingStatus.HELD


def test_a_booking_link_that_is_no_offer_is_404(client, make):
    booking = make.booking()
    db.session.commit()
    assert client.get(f"/waitlist/{booking.manage_token}").status_code == 404
    assert client.get("/waitlist/short").status_code == 404

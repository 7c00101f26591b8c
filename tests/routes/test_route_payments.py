"""Paying a route by card through the pages (the emulator stands in for Stripe), a leg
cancelled by its community shown on the private page and moved to another date, and the
tourist cancelling with the route's refund."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import Factories
from tests.stripe_emulator import confirm_card_setup
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import BookingStatus, Departure, RouteBooking, RoutePayment
from tourism.services.payments import refunds
from tourism.timefmt import local

ES = {"Accept-Language": "es"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context():
        yield app


@pytest.fixture
def route(pay_app):
    route = Factories(db.session).route()
    db.session.commit()
    return route


def form_for(route, method="card") -> dict:
    first = db.session.scalars(
        select(Departure).where(Departure.experience_id == route.legs[0].experience_id)
    ).one()
    return {
        "start_date": local(first.starts_at).date().isoformat(),
        "people": "2",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "+593 99 123 4567",
        "country": "EC",
        "language": "es",
        "payment_method": method,
    }


def paid(client, route, gateway, tmp_path) -> RouteBooking:
    response = client.post(f"/routes/{route.slug}/book", data=form_for(route))
    assert response.status_code == 303 and response.headers["Location"].endswith("/pay")
    rb = db.session.scalars(select(RouteBooking)).one()
    assert rb.status == BookingStatus.HELD
    page = client.get(f"/route-bookings/{rb.manage_token}/pay", headers=ES)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and gateway.js_url in html
    payment = db.session.scalars(select(RoutePayment)).one()
    assert payment.provider_ref in html and payment.amount_cents == rb.total_cents
    # Coming back from the card page proves nothing.
    pending = client.get(f"/route-bookings/{rb.manage_token}/processing", headers=EN)
    assert pending.status_code == 200 and "Payment processing" in pending.get_data(as_text=True)
    gateway.confirm_intent(payment.provider_ref, "pm_card_visa")  # what Stripe.js does
    done = client.get(f"/route-bookings/{rb.manage_token}/processing")
    assert done.status_code == 303 and done.headers["Location"].endswith(rb.manage_token)
    db.session.expire_all()
    rb = db.session.get(RouteBooking, rb.id)
    assert rb.status == BookingStatus.CONFIRMED
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # the route's confirmation
    return rb


def test_the_form_offers_card_when_every_leg_does_and_not_without_stripe(pay_app, route, make_app):
    html = pay_app.test_client().get(f"/routes/{route.slug}/book", headers=EN)
    assert 'value="card"' in html.get_data(as_text=True)
    route.legs[0].experience.payment_options = "on_arrival"
    db.session.commit()
    html = pay_app.test_client().get(f"/routes/{route.slug}/book", headers=EN)
    assert 'value="card"' not in html.get_data(as_text=True)
    refused = pay_app.test_client().post(f"/routes/{route.slug}/book", data=form_for(route))
    assert refused.status_code == 400
    assert db.session.scalars(select(RouteBooking)).first() is None


def test_a_route_paid_by_card_is_confirmed_only_from_stripe(pay_app, route, gateway, tmp_path):
    client = pay_app.test_client()
    rb = paid(client, route, gateway, tmp_path)
    page = client.get(f"/route-bookings/{rb.manage_token}", headers=EN).get_data(as_text=True)
    assert "Paid online" in page and "Pay by card" not in page
    assert "Cancelling now refunds" in page


def test_a_leg_cancelled_by_its_community_shows_and_moves(pay_app, route, gateway, tmp_path):
    client = pay_app.test_client()
    rb = paid(client, route, gateway, tmp_path)
    second = rb.legs[1].booking
    later = Factories(db.session).departure(
        second.departure.experience,
        capacity=4,
        starts_at=second.departure.starts_at + timedelta(hours=8),
    )
    db.session.commit()
    with write_transactions():
        refunds.cancel_departure(db.session, second.departure, "Río crecido", gateway, utcnow())
        db.session.commit()
    page = client.get(f"/route-bookings/{rb.manage_token}", headers=ES).get_data(as_text=True)
    assert "Cancelada por la comunidad" in page and "Río crecido" in page
    # The total is what the route costs now: the parts still standing, which add up to it.
    english = client.get(f"/route-bookings/{rb.manage_token}", headers=EN).get_data(as_text=True)
    total = re.search(r'colspan="2">Total</th><td>\$([0-9,.]+)</td>', english).group(1)
    db.session.expire_all()
    rb = db.session.get(RouteBooking, rb.id)
    standing = rb.total_cents - rb.legs[1].booking.total_cents
    assert total == f"{standing / 100:,.2f}", (total, standing)
    assert "El resto de tu ruta se mantiene." in page
    assert f'value="{later.id}"' in page
    moved = client.post(
        f"/route-bookings/{rb.manage_token}/legs/{rb.legs[1].id}/move",
        data={"departure": str(later.id)},
    )
    assert moved.status_code == 303
    db.session.expire_all()
    rb = db.session.get(RouteBooking, rb.id)
    assert [bl.booking.departure_id for bl in rb.legs][-1] == later.id
    again = client.post(
        f"/route-bookings/{rb.manage_token}/legs/{rb.legs[1].id}/move",
        data={"departure": str(later.id)},
        headers=EN,
    )
    assert again.status_code == 409
    assert "cannot be moved" in again.get_data(as_text=True)


def test_the_tourist_cancels_and_is_refunded(pay_app, route, gateway, tmp_path):
    client = pay_app.test_client()
    rb = paid(client, route, gateway, tmp_path)
    response = client.post(f"/route-bookings/{rb.manage_token}/cancel", headers=EN)
    assert response.status_code == 303
    page = client.get(f"/route-bookings/{rb.manage_token}", headers=EN).get_data(as_text=True)
    assert "refunding" in page
    db.session.expire_all()
    assert db.session.get(RouteBooking, rb.id).status == BookingStatus.CANCELLED


def test_a_route_whose_hold_lapsed_is_not_charged(pay_app, route, gateway, stripe_settings):
    """Paid after its time was up (the sweep not run yet), a route was charged and then
    refunded in full: its legs' seats may be gone. The card is not charged at all."""
    client = pay_app.test_client()
    response = client.post(f"/routes/{route.slug}/book", data=form_for(route))
    rb = db.session.scalars(select(RouteBooking)).one()
    page = client.get(f"/route-bookings/{rb.manage_token}/pay").get_data(as_text=True)
    secret = re.search(r'data-setup-client-secret="([^"]+)"', page).group(1)
    setup = confirm_card_setup(stripe_settings["STRIPE_API_BASE"], "pk_test_chakra", secret)
    rb.hold_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    answer = client.post(f"/route-bookings/{rb.manage_token}/pay", data={"setup_intent": setup})
    assert answer.status_code == 409 and answer.is_json
    payment = db.session.scalars(select(RoutePayment)).one()
    assert gateway.retrieve_intent(payment.provider_ref).status != "succeeded"
    assert response.status_code == 303


def test_the_processing_page_of_a_route_nobody_paid_says_so(pay_app, route):
    client = pay_app.test_client()
    client.post(f"/routes/{route.slug}/book", data=form_for(route))
    rb = db.session.scalars(select(RouteBooking)).one()
    client.get(f"/route-bookings/{rb.manage_token}/pay")
    html = client.get(f"/route-bookings/{rb.manage_token}/processing", headers=EN).get_data(
        as_text=True
    )
    assert "Nothing has been paid yet" in html and 'http-equiv="refresh"' not in html
    assert "You do not need to pay again" not in html

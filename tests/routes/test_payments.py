"""The payment pages: choosing how to pay, the card page, the processing page, cancelling."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.factories import Factories
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Payment

EN = {"Accept-Language": "en"}


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context():
        yield app


@pytest.fixture
def departure(pay_app):
    make = Factories(db.session)
    experience = make.experience(payment_options="card,deposit,on_arrival", deposit_percent=30)
    return make.departure(experience, capacity=8)


def form_for(departure, method, adults: int = 2):
    adult = departure.experience.price_categories[0]
    return {
        f"qty_{adult.id}": str(adults),
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "+593 99 123 4567",
        "country": "EC",
        "language": "en",
        "payment_method": method,
    }


def test_form_offers_the_experiences_payment_options(pay_app, departure):
    html = (
        pay_app.test_client()
        .get(f"/departures/{departure.id}/book", headers=EN)
        .get_data(as_text=True)
    )
    for value in ("card", "deposit", "on_arrival"):
        assert f'value="{value}"' in html
    assert "30% deposit" in html


def test_without_stripe_only_pay_on_arrival_and_it_says_so(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        make = Factories(db.session)
        departure = make.departure(make.experience(payment_options="card,on_arrival"))
        client = app.test_client()
        html = client.get(f"/departures/{departure.id}/book", headers=EN).get_data(as_text=True)
        assert 'value="card"' not in html and 'value="on_arrival"' in html
        assert "Online payment is not available" in html
        refused = client.post(f"/departures/{departure.id}/book", data=form_for(departure, "card"))
        assert refused.status_code == 400


def test_card_booking_is_held_until_stripe_confirms_it(pay_app, departure, gateway, tmp_path):
    client = pay_app.test_client()
    response = client.post(f"/departures/{departure.id}/book", data=form_for(departure, "card"))
    assert response.status_code == 303 and response.headers["Location"].endswith("/pay")
    booking = db.session.scalars(select(Booking)).one()
    assert booking.status == BookingStatus.HELD and booking.online_due_cents == 9000

    page = client.get(f"/bookings/{booking.manage_token}/pay", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert gateway.js_url in html and "pk_test_chakra" in html
    payment = db.session.scalars(select(Payment)).one()
    assert payment.provider_ref in html  # the client secret starts with the intent id

    # Coming back from the card page proves nothing: still processing.
    pending = client.get(f"/bookings/{booking.manage_token}/processing", headers=EN)
    assert pending.status_code == 200 and "Payment processing" in pending.get_data(as_text=True)
    assert db.session.get(Booking, booking.id).status == BookingStatus.HELD

    gateway.confirm_intent(payment.provider_ref, "pm_card_visa")  # what Stripe.js does
    done = client.get(f"/bookings/{booking.manage_token}/processing")
    assert done.status_code == 303 and done.headers["Location"].endswith(booking.manage_token)
    assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_deposit_then_cancel_gets_the_policy_refund(pay_app, departure, gateway):
    client = pay_app.test_client()
    client.post(f"/departures/{departure.id}/book", data=form_for(departure, "deposit"))
    booking = db.session.scalars(select(Booking)).one()
    client.get(f"/bookings/{booking.manage_token}/pay")
    payment = db.session.scalars(select(Payment)).one()
    assert payment.amount_cents == 2700
    gateway.confirm_intent(payment.provider_ref, "pm_card_visa")
    client.get(f"/bookings/{booking.manage_token}/processing")
    manage = client.get(f"/bookings/{booking.manage_token}", headers=EN).get_data(as_text=True)
    assert "$27.00" in manage and "$63.00" in manage  # paid online, due on arrival

    confirm_page = client.get(f"/bookings/{booking.manage_token}/cancel", headers=EN)
    assert "100% back" in confirm_page.get_data(as_text=True)
    cancelled = client.post(f"/bookings/{booking.manage_token}/cancel", headers=EN)
    assert cancelled.status_code == 303
    assert (
        gateway.retrieve_charge(db.session.get(Payment, payment.id).charge_ref).amount_refunded
        == 2700
    )
    assert db.session.get(Booking, booking.id).status == BookingStatus.CANCELLED


def test_pay_page_for_an_expired_hold_says_so(pay_app, departure):
    make = Factories(db.session)
    booking = make.booking(departure, status=BookingStatus.HELD)
    booking.payment_method = "card"
    booking.online_due_cents = booking.total_cents
    booking.hold_expires_at = utcnow().replace(year=2020)
    response = pay_app.test_client().get(f"/bookings/{booking.manage_token}/pay", headers=EN)
    assert response.status_code == 409
    assert "released" in response.get_data(as_text=True)


def test_card_post_with_a_forged_setup_intent_is_refused(pay_app, departure):
    client = pay_app.test_client()
    client.post(f"/departures/{departure.id}/book", data=form_for(departure, "card"))
    booking = db.session.scalars(select(Booking)).one()
    client.get(f"/bookings/{booking.manage_token}/pay")
    for forged in ("", "pi_123", "seti_doesnotexist", "x" * 500):
        response = client.post(
            f"/bookings/{booking.manage_token}/pay", data={"setup_intent": forged}
        )
        assert response.status_code in (400, 409), forged
        assert response.get_json()["error"]
    assert db.session.get(Booking, booking.id).status == BookingStatus.HELD


def test_worker_delivery_leaves_emails_queued_for_the_command(make_app, tmp_path):
    outbox = tmp_path / "outbox"
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox), MAIL_DELIVERY="worker")
    with app.app_context():
        departure = Factories(db.session).departure(capacity=8)
        response = app.test_client().post(
            f"/departures/{departure.id}/book", data=form_for(departure, "on_arrival")
        )
        assert response.status_code == 303
        assert not list(outbox.glob("*.eml"))  # the request did not wait for mail
        result = app.test_cli_runner().invoke(args=["send-emails"])
        assert result.exit_code == 0, result.output
        assert len(list(outbox.glob("*.eml"))) == 1


def test_a_card_booking_sent_twice_is_paid_once(pay_app, departure, gateway):
    """The same form page sent twice: one held booking, and the second sending lands on its
    card payment, which says no second booking was made (tests/routes/test_booking_sent_twice)."""
    client = pay_app.test_client()
    url = f"/departures/{departure.id}/book"
    page = client.get(url, headers=EN).get_data(as_text=True)
    key = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)[1]
    data = form_for(departure, "card") | {"submission": key}
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    booking = db.session.scalars(select(Booking)).one()
    assert first.headers["Location"].endswith(f"/bookings/{booking.manage_token}/pay")
    assert again.headers["Location"].endswith(f"/bookings/{booking.manage_token}/pay?again=1")
    paying = client.get(again.headers["Location"], headers=EN)
    assert paying.status_code == 200
    html = paying.get_data(as_text=True)
    assert "This booking form had already been sent, so no second booking was made" in html
    assert gateway.js_url in html
    assert len(db.session.scalars(select(Payment)).all()) == 1


@pytest.mark.parametrize("path", ["/bookings/{token}/pay", "/route-bookings/{token}/pay"])
def test_a_card_post_to_an_unknown_link_is_not_found_as_json(pay_app, path):
    """A link that names no booking (mistyped, or a stranger's guess) is refused with the
    script's JSON and a 404, and Stripe is not asked for a new card set-up."""
    token = "x" * 43
    response = pay_app.test_client().post(
        path.format(token=token), data={"setup_intent": "seti_unknown"}
    )
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] and "setup_client_secret" not in body

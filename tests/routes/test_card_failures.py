"""Every way a card payment can fail ends on a clear page in the visitor's language, and the
card form's POST always answers JSON its script understands."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import Factories
from tests.stripe_emulator import confirm_card_setup, free_port
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Payment, PaymentStatus
from tourism.services.booking import lifecycle as booking_service
from tourism.services.booking.pricing import online_due
from tourism.services.payments import intents
from tourism.services.payments.stripe_gateway import PaymentDeclined, StripeGateway

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def pay_app(make_app, stripe_settings, tmp_path):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "out"), **stripe_settings)
    with app.app_context():
        yield app


@pytest.fixture
def booking(pay_app) -> Booking:
    make = Factories(db.session)
    departure = make.departure(capacity=2, starts_in=timedelta(days=5))
    booking = make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    booking.payment_method = "card"
    booking.online_due_cents = online_due(booking.total_cents, "card", 30)
    db.session.commit()
    return booking


def fresh(booking_id: int) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


def card_page(client, token, headers=EN):
    return client.get(f"/bookings/{token}/pay", headers=headers)


def setup_secret(html: str) -> str:
    return re.search(r'data-setup-client-secret="([^"]+)"', html).group(1)


def test_a_processor_refusal_when_opening_the_payment_ends_on_a_clear_page(
    pay_app, booking, monkeypatch
):
    def refuse(self, *args, **kwargs):
        raise PaymentDeclined("Amount must be at least $0.50 usd")

    monkeypatch.setattr(StripeGateway, "create_intent", refuse)
    held_until = booking.hold_expires_at
    response = card_page(pay_app.test_client(), booking.manage_token, ES)
    html = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "El procesador de pagos rechazó este pago" in html
    assert "No se te cobró" in html
    assert fresh(booking.id).hold_expires_at == held_until  # not extended by the failure


def test_stripe_down_on_the_card_page_says_so(make_app, stripe_settings, tmp_path):
    down = dict(stripe_settings, STRIPE_API_BASE=f"http://127.0.0.1:{free_port()}")
    app = make_app(STRIPE_MAX_RETRIES=0, **down)
    with app.app_context():
        make = Factories(db.session)
        held = make.booking(make.departure(), status=BookingStatus.HELD)
        held.payment_method, held.online_due_cents = "card", held.total_cents
        db.session.commit()
        response = app.test_client().get(f"/bookings/{held.manage_token}/pay", headers=EN)
        assert response.status_code == 503
        assert "We cannot reach the payment processor" in response.get_data(as_text=True)


def test_paying_after_the_expiry_sweep_says_the_hold_ended(pay_app, booking):
    client = pay_app.test_client()
    assert card_page(client, booking.manage_token).status_code == 200
    with write_transactions():
        booking_service.expire_holds(db.session, booking.hold_expires_at + timedelta(minutes=1))
        db.session.commit()
    assert fresh(booking.id).status == BookingStatus.EXPIRED
    page = card_page(client, booking.manage_token)
    assert page.status_code == 409
    assert "Your seats are no longer held" in page.get_data(as_text=True)
    assert "nothing left to pay" not in page.get_data(as_text=True)
    post = client.post(f"/bookings/{booking.manage_token}/pay", data={"setup_intent": "seti_x"})
    assert post.status_code == 409 and post.is_json
    assert post.json["next"].endswith("/processing")
    processing = client.get(post.json["next"], headers=EN)
    assert "Your seats are no longer held" in processing.get_data(as_text=True)


def test_a_failure_after_the_card_was_charged_answers_json_and_the_payment_still_lands(
    pay_app, booking, stripe_settings, monkeypatch
):
    client = pay_app.test_client()
    secret = setup_secret(card_page(client, booking.manage_token).get_data(as_text=True))
    setup = confirm_card_setup(stripe_settings["STRIPE_API_BASE"], "pk_test_chakra", secret)

    def crash(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(intents, "apply_intent", crash)
    response = client.post(f"/bookings/{booking.manage_token}/pay", data={"setup_intent": setup})
    assert response.is_json and response.status_code == 202
    assert response.json["next"].endswith("/processing") and response.json["error"]
    monkeypatch.undo()
    done = client.get(response.json["next"])
    assert done.status_code == 303  # the processing page asked Stripe: paid, confirmed
    assert fresh(booking.id).status == BookingStatus.CONFIRMED


def test_a_late_payment_refunded_automatically_ends_on_a_page_that_says_so(
    pay_app, booking, gateway
):
    client = pay_app.test_client()
    card_page(client, booking.manage_token)
    intent_id = db.session.scalars(select(Payment.provider_ref)).one()
    # The hold lapses, the sweep frees the seats, someone else takes them, then Stripe pays.
    with write_transactions():
        booking_service.expire_holds(db.session, booking.hold_expires_at + timedelta(minutes=1))
        Factories(db.session).booking(fresh(booking.id).departure, quantities={"adult": 2})
        db.session.commit()
    gateway.confirm_intent(intent_id, "pm_card_visa")
    page = client.get(f"/bookings/{booking.manage_token}/processing", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Your payment arrived too late" in html and "$90.00" in html
    assert 'http-equiv="refresh"' not in html  # no more "waiting for the bank"
    payment = db.session.scalars(select(Payment)).one()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.refunded_cents == 9000
    assert gateway.retrieve_charge(payment.charge_ref).amount_refunded == 9000


def test_a_mismatched_payment_ends_on_a_page_in_spanish(pay_app, booking, gateway):
    intent = gateway.create_intent(
        100,
        "usd",
        metadata={"booking_id": str(booking.id), "booking_reference": booking.reference},
        idempotency_key="foreign-" + uuid.uuid4().hex,
    )
    gateway.confirm_intent(intent.id, "pm_card_visa")
    client = pay_app.test_client()
    assert client.post("/webhooks/stripe").status_code in (400, 401)  # unsigned: refused
    with write_transactions():
        intents.apply_intent(db.session, gateway.retrieve_intent(intent.id), gateway, utcnow())
        db.session.commit()
    html = client.get(f"/bookings/{booking.manage_token}/processing", headers=ES).get_data(
        as_text=True
    )
    assert "Tu pago no fue aceptado" in html
    assert fresh(booking.id).status == BookingStatus.HELD


@pytest.mark.parametrize(("polls", "refreshes"), [(0, True), (39, True), (40, False), (999, False)])
def test_the_processing_page_stops_polling(pay_app, booking, polls, refreshes, monkeypatch):
    client = pay_app.test_client()
    card_page(client, booking.manage_token)
    # A card payment under way at the bank (3-D Secure, a slow bank): the emulator charges
    # at once, so Stripe's answer is made to say so.
    real = intents.pending_intents
    monkeypatch.setattr(
        intents,
        "pending_intents",
        lambda *a: [dataclasses.replace(i, status="processing") for i in real(*a)],
    )
    html = client.get(
        f"/bookings/{booking.manage_token}/processing?polls={polls}", headers=EN
    ).get_data(as_text=True)
    assert ('http-equiv="refresh"' in html) is refreshes
    if not refreshes:
        assert "We will email you" in html


def test_the_processing_page_of_a_booking_nobody_paid_says_so(pay_app, booking):
    """Opened before any card was tried: nothing is on its way, so the page neither waits
    for the bank nor tells the visitor not to pay again."""
    client = pay_app.test_client()
    card_page(client, booking.manage_token)
    html = client.get(f"/bookings/{booking.manage_token}/processing", headers=EN).get_data(
        as_text=True
    )
    assert "Nothing has been paid yet" in html and 'http-equiv="refresh"' not in html
    assert "You do not need to pay again" not in html
    assert f"/bookings/{booking.manage_token}/pay" in html


def test_the_second_of_two_tabs_paying_is_told_the_booking_is_paid(
    pay_app, booking, stripe_settings
):
    """Two tabs, one card page each: the first pays; the second's charge meets an intent
    paid already. It was told its card was declined (and offered another card)."""
    client = pay_app.test_client()
    base = stripe_settings["STRIPE_API_BASE"]
    first = setup_secret(card_page(client, booking.manage_token).get_data(as_text=True))
    second = setup_secret(card_page(client, booking.manage_token).get_data(as_text=True))
    url = f"/bookings/{booking.manage_token}/pay"
    paid = client.post(
        url, data={"setup_intent": confirm_card_setup(base, "pk_test_chakra", first)}
    )
    assert paid.status_code == 200 and fresh(booking.id).status == BookingStatus.CONFIRMED
    late = client.post(
        url, data={"setup_intent": confirm_card_setup(base, "pk_test_chakra", second)}
    )
    assert late.status_code in (200, 409), late.json
    assert "declined" not in (late.json.get("error") or "")
    assert late.json["next"].endswith("/processing")
    charged = db.session.scalars(
        select(Payment).where(
            Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED
        )
    ).all()
    assert len(charged) == 1

"""WhatsApp/SMS through the site: the booking form's opt-in (E.164, a clear error in the
visitor's language), delivery right after the booking's commit, and the providers' signed
callbacks (statuses, STOP, inbound text), each applied once."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import event, func, select

from tests.messaging_fake import (
    AUTH_TOKEN,
    whatsapp_callback,
    whatsapp_signature,
)
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    Booking,
    InboundMessage,
    MessageCallback,
    PhoneMessage,
    PhoneOptOut,
)
from tourism.services.messages import sms_gateway

PUBLIC_URL = "http://localhost"
PHONE = "+593991234567"


@pytest.fixture
def app(make_app, messaging_fake, tmp_path):
    app = make_app(
        **messaging_fake.config(),
        PUBLIC_URL=PUBLIC_URL,
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    with app.app_context():
        yield app


@pytest.fixture
def departure(make):
    return make.departure(make.experience(prices={"adult": 4500}), capacity=6)


def booking_form(departure, **changes) -> dict:
    (adult,) = departure.experience.price_categories
    data = {
        f"qty_{adult.id}": "2",
        "name": "Ana Quispe",
        "email": "ana@example.org",
        "phone": "099 123 4567",
        "country": "EC",
        "language": "en",
        "payment_method": "on_arrival",
        "messages_opt_in": "y",
        "message_channel": "whatsapp",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_opting_in_on_the_form_records_the_number_and_sends_the_confirmation(
    client, departure, messaging_fake
):
    response = client.post(f"/departures/{departure.id}/book", data=booking_form(departure))
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert booking.message_phone == PHONE  # normalised to E.164
    assert booking.message_opt_in_at is not None and booking.message_channel == "whatsapp"
    # Delivered right after the booking's commit, within the request.
    (sent,) = messaging_fake.state.sent_on("whatsapp")
    assert sent["template"] == "booking_confirmed" and sent["to"] == PHONE
    assert db.session.scalar(select(PhoneMessage.status)) == "sent"


def test_the_phone_message_reads_the_departure_once(client, departure, messaging_fake):
    """The hold reads its departure as plain values; the phone message, which needs the ORM
    departure and experience, reads them with one statement, not one lazy load after
    another."""
    url, data = f"/departures/{departure.id}/book", booking_form(departure)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.post(url, data=data).status_code == 303
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    # Up to the message's row (its delivery, after the commit, reads what it needs afresh).
    queued = next(n for n, s in enumerate(statements) if s.startswith("INSERT INTO phone_messages"))
    departure_reads = [s for s in statements[:queued] if s.startswith("SELECT departures.id")]
    assert len(departure_reads) == 2, departure_reads  # the hold's, the phone message's
    assert not any(s.startswith("SELECT experiences.") for s in statements[:queued])


def test_without_the_box_ticked_no_number_is_kept_for_messages(client, departure, messaging_fake):
    response = client.post(
        f"/departures/{departure.id}/book", data=booking_form(departure, messages_opt_in=None)
    )
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert (booking.message_phone, booking.message_opt_in_at) == (None, None)
    assert messaging_fake.state.sent == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "This phone number is not valid for WhatsApp or SMS"),
        ("es", "Este número de teléfono no sirve para WhatsApp ni SMS"),
    ],
)
@pytest.mark.parametrize(
    "phone",
    [
        "+593 12 345",
        "+593 2 234 5678",  # a Quito landline: no WhatsApp, no text messages
        "+1 800 555 0199",  # toll-free
    ],
)
def test_an_invalid_number_with_the_opt_in_is_a_clear_400_and_nothing_is_booked(
    client, departure, messaging_fake, language, expected, phone
):
    response = client.post(
        f"/departures/{departure.id}/book",
        data=booking_form(departure, phone=phone),
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def _sent_message(client, departure) -> PhoneMessage:
    client.post(f"/departures/{departure.id}/book", data=booking_form(departure))
    return db.session.scalar(select(PhoneMessage))


def _post_whatsapp(client, body: bytes, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    headers["X-Hub-Signature-256"] = signature or whatsapp_signature(body)
    return client.post("/webhooks/whatsapp", data=body, headers=headers)


def test_a_signed_whatsapp_status_is_applied_once(client, departure, messaging_fake):
    message = _sent_message(client, departure)
    body = whatsapp_callback(statuses=[(message.provider_id, "delivered")])
    assert _post_whatsapp(client, body).status_code == 200
    assert _post_whatsapp(client, body).status_code == 200  # a redelivery
    db.session.expire_all()
    assert db.session.get(PhoneMessage, message.id).status == "delivered"
    assert db.session.scalar(select(func.count(MessageCallback.id))) == 1


def test_a_wrong_or_missing_signature_changes_nothing(client, departure, messaging_fake):
    message = _sent_message(client, departure)
    body = whatsapp_callback(statuses=[(message.provider_id, "read")])
    forged = whatsapp_signature(body, "not-the-secret")
    assert _post_whatsapp(client, body, forged).status_code == 400
    response = client.post(
        "/webhooks/whatsapp", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(PhoneMessage, message.id).status == "sent"
    assert db.session.scalar(select(func.count(MessageCallback.id))) == 0


def test_a_failed_whatsapp_status_falls_back_to_sms_at_once(client, departure, messaging_fake):
    message = _sent_message(client, departure)
    body = whatsapp_callback(statuses=[(message.provider_id, "failed")])
    assert _post_whatsapp(client, body).status_code == 200
    (sms,) = messaging_fake.state.sent_on("sms")
    assert sms["body"] == message.body


def test_inbound_whatsapp_stop_opts_out_and_other_text_reaches_the_booking(
    client, departure, messaging_fake
):
    _sent_message(client, departure)
    booking = db.session.scalar(select(Booking))
    body = whatsapp_callback(messages=[("wamid.in1", PHONE, "What should I wear?")])
    assert _post_whatsapp(client, body).status_code == 200
    inbound = db.session.scalar(select(InboundMessage))
    assert (inbound.booking_id, inbound.body) == (booking.id, "What should I wear?")
    body = whatsapp_callback(messages=[("wamid.in2", PHONE, "BAJA")])
    assert _post_whatsapp(client, body).status_code == 200
    assert db.session.get(PhoneOptOut, PHONE) is not None


def test_meta_checks_the_callback_url_with_our_token(client):
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158"}
    response = client.get("/webhooks/whatsapp?" + urlencode(query))
    assert (response.status_code, response.get_data(as_text=True)) == (200, "1158")
    query["hub.verify_token"] = "guess"
    assert client.get("/webhooks/whatsapp?" + urlencode(query)).status_code == 403


def _post_sms(client, path: str, form: dict, token: str = AUTH_TOKEN):
    signature = sms_gateway.signature(token, PUBLIC_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def test_sms_statuses_and_stop_are_verified_with_the_twilio_signature(
    client, departure, messaging_fake
):
    client.post(
        f"/departures/{departure.id}/book",
        data=booking_form(departure, message_channel="sms"),
    )
    message = db.session.scalar(select(PhoneMessage))
    assert message.channel == "sms" and message.status == "sent"
    form = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    assert _post_sms(client, "/webhooks/sms/status", form, token="wrong").status_code == 400
    assert _post_sms(client, "/webhooks/sms/status", form).status_code == 200
    assert _post_sms(client, "/webhooks/sms/status", form).status_code == 200
    db.session.expire_all()
    assert db.session.get(PhoneMessage, message.id).status == "delivered"
    stop = {"MessageSid": "SMin1", "From": PHONE, "To": "+593990000000", "Body": "STOP"}
    response = _post_sms(client, "/webhooks/sms/inbound", stop)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert db.session.get(PhoneOptOut, PHONE).channel == "sms"


def test_callbacks_are_refused_when_the_channel_is_not_configured(app, client):
    app.config.update(WHATSAPP_ACCESS_TOKEN="", SMS_AUTH_TOKEN="")
    body = whatsapp_callback(statuses=[("wamid.x", "read")])
    assert _post_whatsapp(client, body).status_code == 404
    assert _post_sms(client, "/webhooks/sms/status", {"MessageSid": "SM1"}).status_code == 400


def test_messages_are_only_written_by_an_opted_in_booking(client, departure, messaging_fake):
    # A queued message for a number that later opted out is never sent.
    db.session.add(PhoneOptOut(phone=PHONE, channel="whatsapp", opted_out_at=utcnow()))
    db.session.commit()
    client.post(f"/departures/{departure.id}/book", data=booking_form(departure))
    assert db.session.scalar(select(func.count(PhoneMessage.id))) == 0
    assert messaging_fake.state.sent == []


def test_the_visitor_sees_their_opt_in_and_the_state_of_their_messages(
    client, departure, messaging_fake
):
    response = client.post(f"/departures/{departure.id}/book", data=booking_form(departure))
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert "you asked for short messages about this booking by WhatsApp" in html
    assert "Confirmation (WhatsApp): sent" in html


def test_a_body_nested_too_deep_is_a_bad_request(client):
    body = b"[" * 100_000 + b"]" * 100_000
    response = _post_whatsapp(client, body)
    assert response.status_code == 400


def test_a_status_that_outruns_our_send_is_applied_when_it_comes_again(
    client, departure, messaging_fake
):
    """The provider's callback can reach us before our send's commit has the message's id:
    that first delivery changes nothing, and is not taken for a duplicate afterwards."""
    message = _sent_message(client, departure)
    early = whatsapp_callback(statuses=[("wamid.not-yet", "delivered")])
    assert _post_whatsapp(client, early).status_code == 200
    db.session.expire_all()
    db.session.get(PhoneMessage, message.id).provider_id = "wamid.not-yet"
    db.session.commit()
    assert _post_whatsapp(client, early).status_code == 200  # the provider's redelivery
    db.session.expire_all()
    assert db.session.get(PhoneMessage, message.id).status == "delivered"


def test_inbound_text_with_nul_or_nothing_visible(client, departure, messaging_fake):
    _sent_message(client, departure)
    nul = whatsapp_callback(messages=[("wamid.n1", PHONE, "hola\x00mundo")])
    assert _post_whatsapp(client, nul).status_code == 200
    blank = whatsapp_callback(messages=[("wamid.n2", PHONE, "\u200b  ")])
    assert _post_whatsapp(client, blank).status_code == 200
    assert db.session.scalars(select(InboundMessage.body)).all() == ["holamundo"]

"""A way back from STOP (START/ALTA through the signed callbacks, or the booking's page), and
how families and guides choose their notices (WhatsApp, SMS or email) on their records."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import Factories
from tests.messaging_fake import whatsapp_callback
from tests.routes.test_manage_access import EN, login, member
from tests.routes.test_messaging import (
    PHONE,
    _post_sms,
    _post_whatsapp,
    booking_form,
)
from tourism.extensions import db
from tourism.models import Booking, Family, Membership, PhoneOptOut, Role
from tourism.services.messages import outbox

ES = {"Accept-Language": "es"}


@pytest.fixture
def app(make_app, messaging_fake, tmp_path):
    app = make_app(
        **messaging_fake.config(),
        PUBLIC_URL="http://localhost",
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def departure(make):
    return make.departure(make.experience(prices={"adult": 4500}), capacity=6)


def book(client, departure, **changes) -> Booking:
    form = booking_form(departure, **changes)
    response = client.post(f"/departures/{departure.id}/book", data=form)
    assert response.status_code == 303
    return db.session.scalar(select(Booking).order_by(Booking.id.desc()))


def remind(booking) -> None:
    """Queue the booking's reminder as the daily job would, and commit."""
    outbox.queue(db.session, db.session.get(Booking, booking.id), "reminder")
    db.session.commit()


# START / ALTA --------------------------------------------------------------------------------


def test_start_on_whatsapp_lifts_a_stop_with_its_time_and_the_reply_confirms(
    client, departure, messaging_fake
):
    booking = book(client, departure)
    assert _post_whatsapp(client, whatsapp_callback(messages=[("wamid.s", PHONE, "STOP")]))
    messaging_fake.state.window_open.add(PHONE.lstrip("+"))  # they just wrote to us
    body = whatsapp_callback(messages=[("wamid.go", PHONE, "Start")])
    assert _post_whatsapp(client, body).status_code == 200
    assert _post_whatsapp(client, body).status_code == 200  # a redelivery: nothing more
    db.session.expire_all()
    opt_out = db.session.get(PhoneOptOut, PHONE)
    assert opt_out.opted_in_at is not None and opt_out.opted_in_at >= opt_out.opted_out_at
    confirmations = [
        m
        for m in messaging_fake.state.sent
        if m.get("body", "").startswith("Chakra Routes: you will get our messages again.")
    ]
    assert len(confirmations) == 1 and "template" not in confirmations[0]
    assert confirmations[0]["to"] == PHONE
    # Messages flow again: the reminder is queued and sent.
    remind(booking)
    from tourism.services.messages import dispatch

    assert dispatch.deliver_pending(db.session, dispatch.current_gateways()) == 1
    assert messaging_fake.state.sent[-1]["template"] == "booking_reminder"


def test_alta_by_sms_opts_back_in_and_a_new_stop_stops_again(client, departure, messaging_fake):
    book(client, departure, message_channel="sms", language="es")
    stop = {"MessageSid": "SMin1", "From": PHONE, "To": "+593990000000", "Body": "BAJA"}
    assert _post_sms(client, "/webhooks/sms/inbound", stop).status_code == 200
    alta = {"MessageSid": "SMin2", "From": PHONE, "To": "+593990000000", "Body": "Alta."}
    assert _post_sms(client, "/webhooks/sms/inbound", alta, token="wrong").status_code == 400
    db.session.expire_all()
    assert db.session.get(PhoneOptOut, PHONE).opted_in_at is None  # unsigned: nothing
    assert _post_sms(client, "/webhooks/sms/inbound", alta).status_code == 200
    db.session.expire_all()
    assert db.session.get(PhoneOptOut, PHONE).opted_in_at is not None
    assert messaging_fake.state.sent_on("sms")[-1]["body"] == (
        "Chakra Routes: volverás a recibir nuestros mensajes. Escribe BAJA o STOP para dejar "
        "de recibirlos."
    )
    stop["MessageSid"] = "SMin3"
    assert _post_sms(client, "/webhooks/sms/inbound", stop).status_code == 200
    db.session.expire_all()
    assert db.session.get(PhoneOptOut, PHONE).opted_in_at is None


def test_start_from_a_number_that_never_stopped_is_kept_as_text(client, departure, messaging_fake):
    booking = book(client, departure)
    sent = len(messaging_fake.state.sent)
    assert _post_whatsapp(client, whatsapp_callback(messages=[("wamid.x", PHONE, "START")]))
    assert db.session.get(PhoneOptOut, PHONE) is None
    assert len(messaging_fake.state.sent) == sent
    from tourism.models import InboundMessage

    assert db.session.scalar(select(InboundMessage.booking_id)) == booking.id


# The booking's page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (EN, "Only the phone that wrote STOP can ask for messages again"),
        (ES, "Solo el teléfono que escribió STOP puede volver a pedir mensajes"),
    ],
)
def test_a_stop_is_lifted_only_by_the_phone_that_wrote_it(
    client, departure, messaging_fake, headers, expected
):
    """Anyone may type any number on the booking form: whoever holds the booking's page may
    not hold the phone, and lifting its STOP from the page let them message it again, as
    often as it said STOP."""
    booking = book(client, departure)
    _post_whatsapp(client, whatsapp_callback(messages=[("wamid.s", PHONE, "STOP")]))
    page = client.get(f"/bookings/{booking.manage_token}", headers=EN).get_data(as_text=True)
    assert "this number wrote STOP" in page and "write START or ALTA from that phone" in page
    assert "Send me the messages again" not in page
    response = client.post(f"/bookings/{booking.manage_token}/messages/resume", headers=headers)
    assert response.status_code == 409
    assert expected in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PhoneOptOut, PHONE).opted_in_at is None
    # The phone itself says START: messages come again.
    _post_whatsapp(client, whatsapp_callback(messages=[("wamid.a", PHONE, "START")]))
    db.session.expire_all()
    assert db.session.get(PhoneOptOut, PHONE).opted_in_at is not None


def test_resuming_needs_a_booking_that_asked_for_messages_and_a_real_link(
    client, departure, messaging_fake
):
    booking = book(client, departure, messages_opt_in=None)
    response = client.post(f"/bookings/{booking.manage_token}/messages/resume", headers=EN)
    assert response.status_code == 400
    assert "did not ask for WhatsApp or SMS messages" in response.get_data(as_text=True)
    assert client.post("/bookings/" + "x" * 40 + "/messages/resume").status_code == 404
    # Nothing stopped: nothing to do, back to the page.
    opted = book(client, departure)
    assert client.post(f"/bookings/{opted.manage_token}/messages/resume").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(PhoneOptOut)) == 0


# Families and guides choose their channel -------------------------------------------------


@pytest.fixture
def kallari(make):
    return make.association(name="Kallari")


@pytest.fixture
def staff(make, client, kallari):
    user = member(make, kallari, Role.STAFF)
    login(client, user)
    return user


def family_form(**changes) -> dict:
    form = {
        "name": "Familia Tapuy",
        "contact_phone": "0991234567",
        "is_active": "y",
        "message_channel": "email",
        "email": "tapuy@example.org",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_a_family_chooses_email_on_its_record_and_its_address_is_checked(client, staff, kallari):
    new = f"/manage/associations/{kallari.id}/families/new"
    page = client.get(new, headers=EN).get_data(as_text=True)
    assert 'name="email"' in page and '<option value="email">Email</option>' in page
    refused = client.post(new, data=family_form(email="not an address"), headers=EN)
    assert refused.status_code == 400
    assert db.session.scalar(select(Family.id)) is None
    refused = client.post(new, data=family_form(email=""), headers=ES)
    assert refused.status_code == 400
    assert "Para enviar los avisos de la familia por correo" in refused.get_data(as_text=True)
    assert client.post(new, data=family_form()).status_code == 303
    family = db.session.scalar(select(Family))
    assert (family.email, family.message_channel, family.message_phone) == (
        "tapuy@example.org",
        "email",
        None,
    )
    edit = client.get(f"/manage/families/{family.id}/edit").get_data(as_text=True)
    assert 'value="tapuy@example.org"' in edit
    # WhatsApp with consent keeps the address for the email fallback.
    changed = family_form(message_channel="whatsapp", message_consent="y")
    assert client.post(f"/manage/families/{family.id}/edit", data=changed).status_code == 303
    db.session.expire_all()
    assert (family.message_channel, family.message_phone, family.email) == (
        "whatsapp",
        PHONE,
        "tapuy@example.org",
    )


def test_a_guide_chooses_email_for_notices(client, staff, kallari, make):
    guide = member(make, kallari, Role.GUIDE)
    membership = db.session.scalars(select(Membership).where(Membership.user_id == guide.id)).one()
    form = {"phone": "+593 98 111 2222", "message_channel": "email"}
    assert client.post(f"/manage/guides/{membership.id}/edit", data=form).status_code == 303
    db.session.expire_all()
    assert (guide.message_channel, guide.message_consent_at) == ("email", None)
    form["message_channel"] = "pigeon"
    assert client.post(f"/manage/guides/{membership.id}/edit", data=form).status_code == 400

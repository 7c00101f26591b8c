"""The association's WhatsApp/SMS pages: the message log (its own association only), a
booking's conversation with the reply box (24 h window), and consent on family records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import Factories
from tests.routes.test_manage_access import EN, login, member
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Family, InboundMessage, PhoneMessage, Role
from tourism.services.messages import conversations

PHONE = "+593991234567"
ES = {"Accept-Language": "es"}


@pytest.fixture
def app(make_app, messaging_fake, tmp_path):
    app = make_app(
        **messaging_fake.config(),
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        PUBLIC_URL="https://chakra.example",
    )
    with app.app_context():
        yield app


@pytest.fixture
def make(app):
    return Factories(db.session)


@pytest.fixture
def kallari(make):
    return make.association(name="Kallari")


@pytest.fixture
def staff(make, client, kallari):
    user = member(make, kallari, Role.STAFF)
    login(client, user)
    return user


def _booking_that_wrote(make, kallari, minutes_ago=5):
    booking = make.booking(
        make.departure(make.experience(kallari)),
        message_opt_in_at=utcnow(),
        message_phone=PHONE,
        message_channel="whatsapp",
    )
    db.session.add(
        InboundMessage(
            channel="whatsapp",
            sender=PHONE,
            body="¿Hay parqueadero?",
            booking_id=booking.id,
            association_id=kallari.id,
            received_at=utcnow() - timedelta(minutes=minutes_ago),
        )
    )
    db.session.commit()
    return booking


def test_the_log_shows_the_associations_messages_with_masked_numbers(client, staff, kallari, make):
    booking = _booking_that_wrote(make, kallari)
    other = make.association(name="Wiñak")
    _booking_that_wrote(make, other)
    html = client.get(f"/manage/associations/{kallari.id}/messages", headers=EN).get_data(
        as_text=True
    )
    assert "¿Hay parqueadero?" in html and booking.reference in html
    assert "+593•••••4567" in html and PHONE not in html
    assert client.get(f"/manage/associations/{other.id}/messages").status_code == 404


def test_staff_reply_inside_the_window_goes_out_as_whatsapp_text(
    client, staff, kallari, make, messaging_fake
):
    booking = _booking_that_wrote(make, kallari)
    messaging_fake.state.window_open.add(PHONE.lstrip("+"))
    page = client.get(f"/manage/bookings/{booking.id}/messages", headers=ES)
    assert page.status_code == 200 and "Enviar respuesta" in page.get_data(as_text=True)
    response = client.post(
        f"/manage/bookings/{booking.id}/messages", data={"body": "Sí, junto a la plaza."}
    )
    assert response.status_code == 303
    (sent,) = messaging_fake.state.sent_on("whatsapp")
    assert sent["body"] == "Sí, junto a la plaza."
    assert db.session.scalar(select(PhoneMessage.status)) == "sent"


def test_a_reply_after_the_window_is_refused_in_the_staff_language(
    client, staff, kallari, make, messaging_fake
):
    booking = _booking_that_wrote(make, kallari, minutes_ago=25 * 60)
    response = client.post(
        f"/manage/bookings/{booking.id}/messages", data={"body": "Hola"}, headers=ES
    )
    assert response.status_code == 409
    assert "WhatsApp solo acepta una respuesta dentro de las 24 horas" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(PhoneMessage.id)) is None
    assert messaging_fake.state.sent == []


def test_family_consent_needs_a_valid_number_and_is_recorded_with_its_time(client, staff, kallari):
    form = {
        "name": "Familia Tapuy",
        "contact_phone": "099 000 111",
        "message_consent": "y",
        "message_channel": "sms",
        "is_active": "y",
    }
    refused = client.post(f"/manage/associations/{kallari.id}/families/new", data=form, headers=EN)
    assert refused.status_code == 400
    assert "not valid for WhatsApp or SMS" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Family.id)) is None
    form["contact_phone"] = "0991234567"
    created = client.post(f"/manage/associations/{kallari.id}/families/new", data=form)
    assert created.status_code == 303
    family = db.session.scalar(select(Family))
    assert (family.message_phone, family.message_channel) == (PHONE, "sms")
    assert family.message_consent_at is not None
    form.pop("message_consent")
    assert client.post(f"/manage/families/{family.id}/edit", data=form).status_code == 303
    db.session.expire_all()
    assert (family.message_phone, family.message_consent_at) == (None, None)


def test_the_reply_window_is_24_hours(app, make, kallari):
    booking = _booking_that_wrote(make, kallari, minutes_ago=23 * 60)
    assert conversations.can_reply(db.session, booking, utcnow())
    assert not conversations.can_reply(db.session, booking, utcnow() + timedelta(hours=2))


def test_a_reply_that_whatsapp_and_sms_refuse_goes_to_the_visitor_by_email(
    client, staff, kallari, make, messaging_fake
):
    from tourism.models import Notification

    booking = _booking_that_wrote(make, kallari)
    messaging_fake.state.window_open.add(PHONE.lstrip("+"))
    messaging_fake.state.fail_next("whatsapp", "reject")
    messaging_fake.state.fail_next("sms", "reject")
    response = client.post(
        f"/manage/bookings/{booking.id}/messages", data={"body": "Sí, junto a la plaza."}
    )
    assert response.status_code == 303
    db.session.expire_all()
    statuses = db.session.execute(select(PhoneMessage.channel, PhoneMessage.status)).all()
    assert sorted(statuses) == [("sms", "failed"), ("whatsapp", "failed")]
    (email,) = db.session.scalars(
        select(Notification).where(Notification.recipient == booking.contact_email)
    ).all()
    assert json.loads(email.context) == {"body": "Sí, junto a la plaza.", "kind": "reply"}


def test_the_log_shows_a_confirmation_without_the_visitors_private_link(
    client, staff, kallari, make
):
    """With the link, whoever reads the log could open the booking as the visitor (cancel
    it, say)."""
    booking = _booking_that_wrote(make, kallari)
    link = f"https://chakra.example/bookings/{booking.manage_token}"
    db.session.add(
        PhoneMessage(
            key=f"confirmed:{booking.id}",
            kind="confirmed",
            channel="whatsapp",
            recipient=PHONE,
            body=f"Your booking {booking.reference} is confirmed: {link}",
            association_id=kallari.id,
            booking_id=booking.id,
            created_at=utcnow(),
        )
    )
    db.session.commit()
    html = client.get(f"/manage/associations/{kallari.id}/messages", headers=EN).get_data(
        as_text=True
    )
    assert f"Your booking {booking.reference} is confirmed" in html
    assert booking.manage_token not in html

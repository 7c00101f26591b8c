"""What booking emails carry beyond the visit: a QR code a phone camera reads (a standard QR
code, decoded here with zxing-cpp), a link that adds the visit to a calendar, times with their
zone, and who sells the visit with the terms of sale and the privacy notice."""

from __future__ import annotations

import email
import email.policy
import io

import pytest
import segno

from tests.services.messages.qr import decode_qr_png
from tourism.services.messages import booking_files
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import get_mailer

PUBLIC_URL = "https://chakra.example"


@pytest.fixture
def outbox(app, tmp_path):
    folder = tmp_path / "outbox"
    app.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(folder), PUBLIC_URL=PUBLIC_URL)
    return folder


@pytest.fixture
def booking(make):
    association = make.association(
        slug="kallari",
        name="Kallari",
        legal_name="Asociación Kallari (demo)",
        tax_id="9900000001001",
        address="Dirección de demostración, Tena, Napo, Ecuador",
        contact_phone="+593 99 000 0001",
        contact_email="kallari.demo@example.org",
        identity_is_demo=True,
    )
    departure = make.departure(make.experience(association))
    return make.booking(departure, quantities={"adult": 1}, language="en")


def sent(session, app, outbox, booking, kind="confirmed", **context):
    notifications.queue(session, booking, kind, **context)
    session.commit()
    notifications.deliver_pending(session, get_mailer(app.config))
    session.commit()
    [path] = sorted(outbox.glob("*.eml"))
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_the_emailed_qr_code_reads_back_as_the_reference(app, session, outbox, booking):
    message = sent(session, app, outbox, booking)
    [png] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert decode_qr_png(png.get_content()) == booking.reference
    html = message.get_body(preferencelist=("html",)).get_content()
    side = booking_files.qr_side(booking.reference)
    assert f'width="{side}" height="{side}"' in html  # shown at its own size: sharp


def test_a_micro_qr_code_is_not_taken_for_one_a_phone_reads():
    """The negative control: what segno makes for a short reference when allowed to (a Micro
    QR code, 15×15 modules, one finder square) does not pass the check above."""
    micro = segno.make("KAL-7F3K9Q", error="m")
    assert micro.is_micro
    out = io.BytesIO()
    micro.save(out, kind="png", scale=8, border=4)
    assert decode_qr_png(out.getvalue()) is None
    assert not booking_files.qr_code("KAL-7F3K9Q").is_micro


def test_the_confirmation_links_to_the_calendar_and_says_the_zone(app, session, outbox, booking):
    message = sent(session, app, outbox, booking)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    calendar = f"{PUBLIC_URL}/bookings/{booking.manage_token}/calendar.ics"
    assert f'href="{calendar}"' in html and calendar in text
    for body in (text, html):
        assert "Add to my calendar" in body
        assert "(Ecuador time, UTC−5)" in body


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        ("confirmed", {}),
        ("reminder", {}),
        ("cancelled", {"refund_cents": 0}),
        ("departure_cancelled", {"reason": "Río crecido", "refund_cents": 0}),
        ("impact", {}),
    ],
)
def test_every_booking_email_says_who_sells_and_links_the_terms_and_privacy(
    app, session, outbox, booking, kind, context
):
    message = sent(session, app, outbox, booking, kind, **context)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "Who sells this visit" in body
        assert "Asociación Kallari (demo)" in body
        assert "RUC 9900000001001" in body
        assert "Dirección de demostración, Tena" in body
        assert "kallari.demo@example.org" in body
        assert "https://wa.me/593990000001" in body
        assert "Demo details" in body
        assert f"{PUBLIC_URL}/associations/kallari/terms?lang=en" in body
        assert f"{PUBLIC_URL}/privacy?lang=en" in body

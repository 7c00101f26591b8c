"""The booking's private page: the QR code and "add to calendar" (not only in the email),
what was paid, refunded and kept, times with their zone, and who sells the visit."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from tests.services.messages.qr import decode_qr_svg
from tourism.database import utcnow
from tourism.models import BookingStatus, Payment, PaymentStatus, Refund, RefundStatus
from tourism.services.booking.statement import money_summary

EN = {"Accept-Language": "en"}
ES = {"Accept-Language": "es"}


@pytest.fixture
def seller(make):
    return make.association(
        name="Kallari",
        legal_name="Asociación Kallari (demo)",
        tax_id="9900000001001",
        address="Dirección de demostración, Tena, Napo, Ecuador",
        contact_phone="+593 99 000 0001",
        contact_email="kallari.demo@example.org",
        identity_is_demo=True,
    )


@pytest.fixture
def booking(make, seller):
    experience = make.experience(seller)
    return make.booking(make.departure(experience), quantities={"adult": 2})


def test_a_confirmed_booking_shows_its_qr_code_and_a_calendar_link(client, booking):
    html = client.get(f"/bookings/{booking.manage_token}", headers=EN).get_data(as_text=True)
    svg = re.search(r'<div class="qr__code" role="img" aria-label="([^"]+)">(<svg.*?</svg>)', html)
    assert svg and booking.reference in svg[1]
    assert decode_qr_svg(svg[2]) == booking.reference  # a standard QR code, readable
    link = f"/bookings/{booking.manage_token}/calendar.ics"
    assert f'href="{link}"' in html and "Add to my calendar" in html


def test_the_calendar_link_gives_the_visit_and_a_cancelled_booking_removes_it(
    client, session, booking
):
    response = client.get(f"/bookings/{booking.manage_token}/calendar.ics", headers=EN)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert booking.reference in str(event["DESCRIPTION"])
    assert event["STATUS"] == "CONFIRMED"
    booking.status = BookingStatus.CANCELLED
    session.commit()
    cancelled = client.get(f"/bookings/{booking.manage_token}/calendar.ics")
    assert Calendar.from_ical(cancelled.data)["METHOD"] == "CANCEL"
    assert client.get("/bookings/not-a-real-token-at-all-xxxxxxxx/calendar.ics").status_code == 404


def test_no_qr_code_before_the_booking_is_confirmed(client, make):
    held = make.booking(status=BookingStatus.HELD)
    html = client.get(f"/bookings/{held.manage_token}", headers=EN).get_data(as_text=True)
    assert "qr__code" not in html and "calendar.ics" not in html


def _paid_and_half_refunded(session, booking):
    """$115.00 paid by card, the tourist cancelled within the 50% tier."""
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = utcnow()
    payment = Payment(
        booking=booking,
        provider="stripe",
        provider_ref="pi_half",
        charge_ref="ch_half",
        amount_cents=11500,
        status=PaymentStatus.SUCCEEDED,
        succeeded_at=utcnow(),
    )
    session.add(payment)
    session.flush()
    session.add(
        Refund(
            payment_id=payment.id,
            provider_ref="re_half",
            amount_cents=5750,
            reason="tourist_cancelled",
            status=RefundStatus.SUCCEEDED,
        )
    )
    session.commit()


def test_after_a_half_refund_the_page_says_paid_refunded_and_kept(client, session, booking):
    _paid_and_half_refunded(session, booking)
    html = client.get(f"/bookings/{booking.manage_token}", headers=EN).get_data(as_text=True)
    facts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert facts["Paid online by card"] == "$115.00"
    assert facts["Refunded to your card (50% under the cancellation policy)"] == "$57.50"
    assert facts["Kept under the cancellation policy (50%)"] == "$57.50"
    # Never the net amount under the gross label (the page used to say "Paid online $57.50").
    assert "<dt>Paid online</dt>" not in html


def test_money_summary_of_a_refund_by_the_association_is_not_the_policys(session, booking):
    _paid_and_half_refunded(session, booking)
    booking.cancel_reason = "Río crecido"
    summary = money_summary(booking)
    assert summary.policy_refund_percent is None and not summary.kept_by_policy
    assert (summary.paid_online_cents, summary.refunded_cents) == (11500, 5750)


def test_times_a_visitor_abroad_reads_say_their_zone(client, make):
    held = make.booking(status=BookingStatus.HELD)
    english = client.get(f"/bookings/{held.manage_token}", headers=EN).get_data(as_text=True)
    assert re.search(r"held until \d{1,2}:\d{2}\s?[AP]M \(Ecuador time, UTC−5\)", english)
    assert re.search(r"at \d{1,2}:\d{2}\s?[AP]M \(Ecuador time, UTC−5\)</time>", english)
    spanish = client.get(f"/bookings/{held.manage_token}", headers=ES).get_data(as_text=True)
    assert "(hora de Ecuador, UTC−5)" in spanish


def test_booking_pages_say_who_sells_and_how_to_reach_them(client, booking):
    for path in (f"/bookings/{booking.manage_token}", f"/bookings/{booking.manage_token}/cancel"):
        html = client.get(path, headers=EN).get_data(as_text=True)
        assert "Who sells this visit" in html, path
        assert "Asociación Kallari (demo)" in html
        assert "RUC 9900000001001" in html
        assert "Dirección de demostración, Tena" in html
        assert 'href="tel:+593990000001"' in html
        assert 'href="https://wa.me/593990000001"' in html
        assert 'href="mailto:kallari.demo@example.org"' in html
        assert "Demo details: not the association’s real registration or contact." in html
        assert f'href="/associations/{booking.departure.experience.association.slug}/terms"' in html
        assert 'href="/privacy"' in html

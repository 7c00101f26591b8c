"""The tourist's whole journey, on a phone, in Spanish: finds the Kallari Cacao Route in the
catalog, picks a date, books two adults and a child, pays by card through the emulator's
Stripe.js, sees the confirmation and where the money goes, then cancels through the private
link within the free window and is refunded in full."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import listed_departures
from tests.browser.test_payment_journey import GOOD_CARD, MANAGE_URL, Tourist
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import BookingStatus, Departure

pytestmark = pytest.mark.browser

MONEY = re.compile(r"\$(\d{1,3}(?:\.\d{3})*),(\d{2})")


def cents(text: str) -> int:
    whole, fraction = MONEY.search(text).groups()
    return int(whole.replace(".", "")) * 100 + int(fraction)


def far_enough(server, departure_ids: list[int]) -> list[int]:
    """Departures more than three days away: cancelling them is free (48 h tier)."""
    with server.app.app_context():
        later = utcnow() + timedelta(days=3)
        return [i for i in departure_ids if db.session.get(Departure, i).starts_at > later]


def test_a_spanish_phone_books_pays_sees_the_split_and_cancels(browser, payment_server, shoot):
    tourist = Tourist(browser, payment_server)
    tourist.context.close()
    tourist.context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="es-EC", java_script_enabled=True
    )
    page = tourist.page = tourist.context.new_page()
    try:
        page.goto(payment_server.url + "/")
        assert page.locator("html").get_attribute("lang") == "es"
        page.locator("a[href$='/experiences/kallari-cacao-route']").first.click()
        page.wait_for_load_state()
        assert "A dónde va tu dinero" in page.locator("main").inner_text()
        shoot(page, "1-experience")

        listed = listed_departures(page)
        departure_id = payment_server.claim_departure(far_enough(payment_server, listed), 3)
        page.locator(f"a[href$='/departures/{departure_id}/book']").first.click()
        page.wait_for_load_state()
        adult, child = page.locator("input[name^=qty_]").all()[:2]
        adult.fill("2")
        child.fill("1")
        page.fill("input[name=name]", "Rosa Tanguila")
        page.fill("input[name=email]", "rosa@example.org")
        page.fill("input[name=phone]", "+593 98 765 4321")
        page.select_option("select[name=country]", "EC")
        page.check("input[name=payment_method][value=card]")
        shoot(page, "2-form")
        page.locator("form[method=post] button.button--primary[type=submit]").click()

        total = 2 * 4500 + 2500
        page.wait_for_url(re.compile(r"/pay$"))
        assert cents(page.locator("h1").inner_text()) == total
        tourist.fill_card(GOOD_CARD)
        shoot(page, "3-card")
        tourist.pay()
        tourist.wait_for_manage_page()
        token = page.url.rsplit("/", 1)[1]

        body = page.locator("main").inner_text()
        assert page.locator(".status--confirmed").count() == 1, body
        assert "A dónde va tu dinero" in body
        lines = page.locator(".breakdown li").all_inner_texts()
        assert lines and sum(cents(line) for line in lines) == total, lines
        assert any("familias anfitrionas" in line for line in lines), lines
        shoot(page, "4-confirmed")

        page.locator("a[href$='/cancel']").click()
        page.locator("form[method=post] button.button--danger[type=submit]").click()
        page.wait_for_url(MANAGE_URL)
        shoot(page, "5-cancelled")
        booking = payment_server.booking(token)
        assert booking.status == BookingStatus.CANCELLED
        assert booking.paid_online_cents == 0  # refunded in full: the free window
        assert "se reembolsarán $115,00 a tu tarjeta" in page.locator("body").inner_text()
    finally:
        tourist.context.close()

"""A tourist on a slow connection clicks "Reserve" twice, in real headless Chromium against a
live server: the button says the booking is being sent, the second click sends nothing, and
one booking is made. (Sending the same form twice to the server, as a page without its
script can, makes one booking too: tests/routes/test_booking_sent_twice.py and
tests/reliability/test_sent_twice_race.py.)"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import listed_departures, with_seats
from tourism import faults

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
EMAIL = "twice@example.org"


def _bookings_for(app, email: str) -> int:
    from tourism.extensions import db
    from tourism.models import Booking

    with app.app_context():
        return db.session.scalar(
            select(func.count(Booking.id)).where(func.lower(Booking.contact_email) == email)
        )


def _watch_sending_button(page) -> list[str]:
    """What the form's button shows while the page waits ("disabled label busy", one line per
    change), as the page itself sees it: a page whose navigation is under way cannot be
    inspected from outside."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text))
    page.evaluate(
        """() => {
            const button = document.querySelector("[data-sending]");
            new MutationObserver(() => console.log(
                `${button.disabled} ${button.textContent} ${button.form.ariaBusy}`
            )).observe(button, {attributes: true, childList: true});
        }"""
    )
    return seen


def test_reserve_clicked_twice_sends_once_and_books_once(live_site, browser, shoot, monkeypatch):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    sent = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    try:
        page.goto(live_site.url + "/experiences/kallari-cacao-route")
        departure_id = with_seats(live_site.app, listed_departures(page), seats=2)
        page.goto(f"{live_site.url}/departures/{departure_id}/book")
        page.locator("input[name^=qty_]").first.fill("2")
        page.fill("input[name=name]", "Ana Quispe")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=phone]", "+593 99 123 4567")
        page.select_option("select[name=country]", "EC")
        page.check("input[name=payment_method][value=on_arrival]")
        # The site is slow to answer: the booking waits inside its transaction (the live
        # server runs in this process and reads this at each booking).
        monkeypatch.setenv(faults.ENVIRONMENT_VARIABLE, "booking.held:2")
        seen = _watch_sending_button(page)
        reserve = page.locator("form[method=post] button.button--primary[type=submit]")
        reserve.dblclick(no_wait_after=True)
        page.wait_for_url(re.compile(r"/bookings/[A-Za-z0-9_-]{40,}\?booked=1$"), timeout=15_000)
        assert page.locator("main p.flash[role=status]").count() == 1  # "confirmed", no repeat
        shoot(page, "booked")
        assert "true Reservando… true" in seen, seen
    finally:
        monkeypatch.delenv(faults.ENVIRONMENT_VARIABLE, raising=False)
        context.close()
    assert len(sent) == 1, [request.url for request in sent]
    assert _bookings_for(live_site.app, EMAIL) == 1


def test_record_payouts_clicked_twice_sends_once_and_pays_once(
    live_site, browser, shoot, monkeypatch
):
    """The treasurer pays part of a family's balance on a slow connection and clicks twice:
    one sending, one payout (the rest of the balance would have allowed a second)."""
    from tests.browser.test_treasurer_journey import sign_in
    from tourism.extensions import db
    from tourism.models import Payout

    def payouts() -> int:
        with live_site.app.app_context():
            return db.session.scalar(select(func.count(Payout.id)))

    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    sent = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    try:
        sign_in(page, live_site.url, "tesoreria@kallari.demo")
        page.goto(live_site.url + "/manage/")
        page.goto(live_site.url + page.locator("a[href$='/treasury']").first.get_attribute("href"))
        row = page.locator("tbody tr", has=page.locator("input[name=pay]:not([disabled])")).first
        row.locator("input[name=pay]").check()
        row.locator("input[name^=amount-]").fill("1,00")  # part of what is available
        page.select_option("select[name=method]", "cash")
        before, sent[:] = payouts(), []
        monkeypatch.setenv(faults.ENVIRONMENT_VARIABLE, "payouts.recorded:2")
        seen = _watch_sending_button(page)
        page.get_by_role("button", name="Registrar pagos").dblclick(no_wait_after=True)
        page.wait_for_url(re.compile(r"/payouts/[0-9a-f]{32}/sheet$"), timeout=15_000)
        flashes = page.locator(".flash-region p.flash")
        assert flashes.count() == 1 and "Se registró 1 pago." in flashes.inner_text()
        shoot(page, "payout-sheet")
        assert "true Registrando… true" in seen, seen
    finally:
        monkeypatch.delenv(faults.ENVIRONMENT_VARIABLE, raising=False)
        context.close()
    assert len(sent) == 1, [request.url for request in sent]
    assert payouts() == before + 1

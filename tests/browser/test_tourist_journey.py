"""A tourist on a phone finds the Cacao Route, books it with a lunch and a night with a host
family, and cancels — with JavaScript off and on, in real headless Chromium against a live
server."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import listed_departures, with_seats

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_tourist_books_and_cancels(live_site, browser, shoot, javascript):
    live_server = live_site.url
    context = browser.new_context(viewport=PHONE, locale="es-EC", java_script_enabled=javascript)
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.locator("a[href$='/experiences/kallari-cacao-route']").count() >= 1
        shoot(page, "1-catalog")

        page.locator("details.filters > summary").click()  # the filters come folded
        page.select_option("select[name=province]", "zamora_chinchipe")
        page.locator("form[method=get] button[type=submit]").click()
        page.wait_for_load_state()  # the click starts the navigation; its page must be whole
        assert page.locator("a[href$='/experiences/asopromas-kujenito-chocolate']").count() >= 1
        assert page.locator("a[href$='/experiences/kallari-cacao-route']").count() == 0

        page.goto(live_server + "/experiences/kallari-cacao-route")
        assert page.locator("ol li").count() >= 3  # the itinerary's stops
        shoot(page, "2-experience")
        departure_id = with_seats(live_site.app, listed_departures(page), seats=3)
        page.locator(f"a[href$='/departures/{departure_id}/book']").first.click()
        page.wait_for_load_state()

        adult, child = page.locator("input[name^=qty_]").all()[:2]
        adult.fill("2")
        child.fill("1")
        # Extras and a night with a host family: the script's total must be the server's
        # (with scripts on, a different total would stop the booking for a review).
        page.locator("input[name^=extra_]").first.fill("3")
        page.select_option("select[name=night_after]", index=1)
        page.fill("input[name=name]", "Ana Quispe")
        page.fill("input[name=email]", "ana@example.org")
        page.fill("input[name=phone]", "+593 99 123 4567")
        page.select_option("select[name=country]", "EC")
        page.fill("textarea[name=special_needs]", "Vegetariana")
        page.check("input[name=special_needs_consent]")  # it may be health data
        shoot(page, "3-form")
        page.locator("form[method=post] button.button--primary[type=submit]").click()
        if not javascript:
            # No script kept the total current: the page shows it, and asks again.
            page.wait_for_load_state()
            assert page.locator("#quote-review").count() == 1
            page.locator("form[method=post] button.button--primary[type=submit]").click()

        page.wait_for_url(re.compile(r"/bookings/[A-Za-z0-9_-]{40,}\?booked=1$"))
        assert page.locator("main p.flash[role=status]").count() == 1  # "confirmed"
        body = page.locator("main").inner_text()
        assert re.search(r"\bKAL-[2-9A-Z]{6}\b", body), body
        assert "Vegetariana" in body
        assert "Almuerzo de chakra" in body and "Noche en" in body
        shoot(page, "4-confirmed")

        page.locator("a[href$='/cancel']").click()
        page.locator("form[method=post] button.button--danger[type=submit]").click()
        page.wait_for_url(re.compile(r"/bookings/[A-Za-z0-9_-]{40,}$"))
        assert page.locator("a[href$='/cancel']").count() == 0
        shoot(page, "5-cancelled")
    finally:
        context.close()

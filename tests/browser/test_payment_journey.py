"""A tourist books the Kallari Cacao Route and pays by card — in headless Chromium with
JavaScript on, against a live server whose Stripe (API and Stripe.js) is the local emulator.

localstripe's Stripe.js renders a fake card element: plain inputs with the placeholders
``number``, ``exp_month``, ``exp_year``, ``cvc`` and ``postal_code`` inside ``#card-element``.
Its test cards: 4242… succeeds; 4000000000000002 is declined when the card is set up in the
browser (``_attaching_is_declined``); 4000000000000341 sets up fine and is declined when our
server charges it (``_charging_is_declined``).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import listed_departures
from tourism.models import BookingStatus, PaymentStatus

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
REFERENCE = re.compile(r"\bKAL-[2-9A-Z]{6}\b")
PAY_URL = re.compile(r"/bookings/(?P<token>[A-Za-z0-9_-]{40,})/pay$")
MANAGE_URL = re.compile(r"/bookings/[A-Za-z0-9_-]{40,}(\?booked=1)?$")

GOOD_CARD = "4242424242424242"
DECLINED_AT_SETUP = "4000000000000002"
DECLINED_AT_CHARGE = "4000000000000341"


class Tourist:
    """A browser tab with JavaScript on, recording what the page's scripts say."""

    def __init__(self, browser, server) -> None:
        self.server = server
        self.context = browser.new_context(viewport=PHONE, locale="en-US", java_script_enabled=True)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on(
            "console", lambda message: self.console.append(f"{message.type}: {message.text}")
        )
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        self.page.on(
            "response",
            lambda response: (
                response.status >= 400
                and self.console.append(f"http {response.status}: {response.url}")
            ),
        )

    def book(self, method: str = "card") -> str:
        """Book two adults on a Cacao Route departure listed on its page that has room (and
        that no other test used); returns the booking's manage token."""
        page = self.page
        page.goto(self.server.url + "/experiences/kallari-cacao-route")
        listed = listed_departures(page)
        departure_id = self.server.claim_departure(listed, seats=2)
        page.locator(f"a[href$='/departures/{departure_id}/book']").first.click()
        page.wait_for_load_state()
        page.locator("input[name^=qty_]").first.fill("2")
        page.fill("input[name=name]", "Ana Quispe")
        page.fill("input[name=email]", "ana@example.org")
        page.fill("input[name=phone]", "+593 99 123 4567")
        page.select_option("select[name=country]", "EC")
        page.check(f"input[name=payment_method][value={method}]")
        page.locator("form[method=post] button.button--primary[type=submit]").click()
        page.wait_for_url(PAY_URL)
        return PAY_URL.search(page.url).group("token")

    def fill_card(self, number: str) -> None:
        card = self.page.locator("#card-element")
        expect(card.locator("input[placeholder=number]")).to_be_visible()
        for placeholder, value in (
            ("number", number),
            ("exp_month", "12"),
            ("exp_year", "30"),
            ("cvc", "123"),
            ("postal_code", "12345"),
        ):
            card.locator(f"input[placeholder={placeholder}]").fill(value)

    def pay(self) -> None:
        self.page.locator("#pay-button").click()

    def wait_for_manage_page(self, timeout_ms: int = 20_000) -> None:
        try:
            self.page.wait_for_url(MANAGE_URL, timeout=timeout_ms)
        except PlaywrightTimeout:
            pytest.fail(
                f"no manage page after paying; at {self.page.url}; card errors: "
                f"{self.card_errors()!r}; console: {self.console}"
            )

    def card_errors(self) -> str:
        errors = self.page.locator("#card-errors")
        return errors.inner_text() if errors.count() else ""

    def expect_card_error(self, pattern: re.Pattern) -> str:
        try:
            expect(self.page.locator("#card-errors")).to_have_text(pattern, timeout=15_000)
        except AssertionError:
            pytest.fail(f"card errors: {self.card_errors()!r}; console: {self.console}")
        return self.card_errors()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tourist(browser, payment_server):
    tourist = Tourist(browser, payment_server)
    yield tourist
    tourist.close()


def _assert_confirmed_and_paid(tourist: Tourist, token: str) -> str:
    body = tourist.page.locator("main").inner_text()
    match = REFERENCE.search(body)
    assert match, body
    assert tourist.page.locator(".status--confirmed").count() == 1, body
    booking = tourist.server.booking(token)
    assert booking.reference == match.group(0)
    assert booking.status == BookingStatus.CONFIRMED
    succeeded = [p for p in booking.payments if p.status == PaymentStatus.SUCCEEDED]
    assert len(succeeded) == 1 and succeeded[0].charge_ref.startswith("ch_")
    assert booking.paid_online_cents == booking.total_cents == 2 * 4500
    assert len(tourist.server.emails_about(booking.reference)) == 1
    return booking.reference


def _assert_still_held(tourist: Tourist, token: str) -> None:
    booking = tourist.server.booking(token)
    assert booking.status == BookingStatus.HELD
    assert [p.status for p in booking.payments if p.status == PaymentStatus.SUCCEEDED] == []
    assert tourist.server.emails_about(booking.reference) == []


def test_tourist_pays_by_card_and_sees_the_confirmed_booking(tourist, shoot):
    page = tourist.page
    token = tourist.book()
    expect(page.locator("h1")).to_contain_text("$90.00")
    shoot(page, "1-pay-page")

    tourist.fill_card(GOOD_CARD)
    shoot(page, "2-card-filled")
    tourist.pay()
    tourist.wait_for_manage_page()

    shoot(page, "3-confirmed")
    _assert_confirmed_and_paid(tourist, token)
    assert "log: localstripe: Stripe().confirmCardSetup()" in tourist.console
    # No script error, no failed request of the page (Chromium's own /favicon.ico request
    # is not the page's: it only shows as a bare "Failed to load resource" console line).
    problems = [
        line
        for line in tourist.console
        if line.startswith(("error", "pageerror", "http"))
        and not line.startswith("error: Failed to load resource")
    ]
    assert problems == [], tourist.console
    # Coming back to the payment page of a paid booking just shows the booking.
    page.goto(f"{tourist.server.url}/bookings/{token}/pay")
    page.wait_for_url(MANAGE_URL)


def test_a_card_declined_in_the_browser_shows_an_error_and_another_card_works(tourist, shoot):
    token = tourist.book()

    tourist.fill_card(DECLINED_AT_SETUP)
    tourist.pay()
    message = tourist.expect_card_error(re.compile("declined", re.IGNORECASE))

    shoot(tourist.page, "1-declined")
    assert PAY_URL.search(tourist.page.url), tourist.page.url
    assert tourist.page.locator("#pay-button").is_enabled()
    assert message == "Your card was declined."  # Stripe.js's own message
    _assert_still_held(tourist, token)

    tourist.fill_card(GOOD_CARD)
    tourist.pay()
    tourist.wait_for_manage_page()
    shoot(tourist.page, "2-confirmed")
    _assert_confirmed_and_paid(tourist, token)


def test_a_card_declined_when_charged_shows_an_error_and_keeps_the_hold(tourist, shoot):
    token = tourist.book()

    tourist.fill_card(DECLINED_AT_CHARGE)
    tourist.pay()
    message = tourist.expect_card_error(re.compile("declined", re.IGNORECASE))

    shoot(tourist.page, "1-declined")
    assert message == "The card was declined. Please try another card."  # our server's
    assert PAY_URL.search(tourist.page.url), tourist.page.url
    _assert_still_held(tourist, token)

    # Reloading the page (a fresh card form) and paying with a good card works.
    tourist.page.reload()
    tourist.fill_card(GOOD_CARD)
    tourist.pay()
    tourist.wait_for_manage_page()
    shoot(tourist.page, "2-confirmed-after-reload")
    _assert_confirmed_and_paid(tourist, token)


def test_after_a_charge_decline_another_card_on_the_same_page_works(tourist, shoot):
    token = tourist.book()
    tourist.fill_card(DECLINED_AT_CHARGE)
    tourist.pay()
    tourist.expect_card_error(re.compile("declined", re.IGNORECASE))

    tourist.fill_card(GOOD_CARD)
    tourist.pay()
    # Either the confirmed booking, or the pay button enabled again after an error.
    expect(tourist.page.locator(".status--confirmed, #pay-button:enabled")).to_be_visible(
        timeout=20_000
    )
    shoot(tourist.page, "retry-same-page")
    if not MANAGE_URL.search(tourist.page.url):
        pytest.fail(f"card errors: {tourist.card_errors()!r}; console: {tourist.console}")
    _assert_confirmed_and_paid(tourist, token)

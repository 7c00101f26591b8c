"""What only a browser shows about the tourist's pages, on a phone: the whole journey at 360
CSS pixels with screenshots, the total kept current by its script (and checked again where
no script runs), the catalog's folded filters, equal radio buttons, no stray warning sign on
the card page, Stripe.js in the page's language, and emails that fit a 320-pixel screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import listed_departures, with_seats
from tourism.services.messages import rendering

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 780}
PHONE = {"width": 390, "height": 844}
MANAGE_URL = re.compile(r"/bookings/[A-Za-z0-9_-]{40,}(\?booked=1)?$")
PAY_URL = re.compile(r"/bookings/[A-Za-z0-9_-]{40,}/pay$")
MONEY = re.compile(r"\$(\d{1,3}(?:[.,]\d{3})*)[.,](\d{2})")


def cents(text: str) -> int:
    whole, fraction = MONEY.search(text).groups()
    return int(re.sub(r"[.,]", "", whole)) * 100 + int(fraction)


def no_sideways_scrolling(page, width: int) -> None:
    page.wait_for_load_state()  # a page a click opened may still be loading
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url}: {scroll}px wide at {width}px"


def quote(page) -> dict[str, int]:
    return {
        name: cents(page.locator(f"[data-quote-{name}]").text_content())
        for name in ("total", "now", "arrival")
    }


def fill_details(page, needs: str = "") -> None:
    page.fill("input[name=name]", "Rosa Tanguila")
    page.fill("input[name=email]", "rosa@example.org")
    page.fill("input[name=phone]", "+593 98 765 4321")
    page.select_option("select[name=country]", "EC")
    if needs:
        page.fill("textarea[name=special_needs]", needs)
        page.check("input[name=special_needs_consent]")


def reserve(page) -> None:
    page.locator("form[method=post] button.button--primary[type=submit]").click()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_the_tourist_journey_on_a_small_phone(live_site, browser, shoot, javascript):
    """Catalog, experience, booking form, total, confirmation with its QR code, cancelling,
    the terms and the privacy notice: every page fits 360 px, screenshots of each."""
    live_server = live_site.url
    context = browser.new_context(
        viewport=SMALL_PHONE, locale="es-EC", java_script_enabled=javascript
    )
    page = context.new_page()
    try:
        page.goto(live_server + "/")
        no_sideways_scrolling(page, 360)
        # The experiences come first: the first card starts within the first screen, and
        # the filters are folded above it.
        first_card = page.locator(".cards .card").first.bounding_box()
        assert first_card["y"] < SMALL_PHONE["height"], first_card
        assert page.locator("details.filters").get_attribute("open") is None
        expect(page.locator("select[name=province]")).to_be_hidden()
        shoot(page, "1-catalog")
        page.locator("details.filters > summary").click()  # opens without a script
        expect(page.locator("select[name=province]")).to_be_visible()
        shoot(page, "1b-catalog-filters-open")

        page.goto(live_server + "/experiences/kallari-cacao-route")
        no_sideways_scrolling(page, 360)
        ways = page.locator(".payment-ways li").all_inner_texts()
        assert ways == ["Todo en efectivo a la comunidad al llegar"], ways  # no Stripe here
        expect(page.locator(".seller")).to_contain_text("RUC")
        shoot(page, "2-experience")
        departure_id = with_seats(live_site.app, listed_departures(page), seats=3)
        page.locator(f"a[href$='/departures/{departure_id}/book']").first.click()
        page.wait_for_load_state()  # the click starts the navigation; its page must be whole

        adult, child = page.locator("input[name^=qty_]").all()[:2]
        adult.fill("2")
        child.fill("1")
        fill_details(page, needs="Vegetariana")
        expected = 2 * 4500 + 2500
        if javascript:
            assert quote(page) == {"total": expected, "now": 0, "arrival": expected}
            expect(page.locator("[data-recalculate]")).to_be_hidden()
        no_sideways_scrolling(page, 360)
        shoot(page, "3-form-filled")
        reserve(page)
        if not javascript:
            # The page showed $0,00 when it was sent: it shows the total and asks again.
            expect(page.locator("#quote-review")).to_be_visible()
            assert quote(page) == {"total": expected, "now": 0, "arrival": expected}
            no_sideways_scrolling(page, 360)
            shoot(page, "4-check-the-total")
            reserve(page)
        page.wait_for_url(MANAGE_URL)
        no_sideways_scrolling(page, 360)
        expect(page.locator(".qr__code svg")).to_be_visible()
        side = page.locator(".qr__code").bounding_box()["width"]
        assert side >= 150, side  # big enough to scan from another phone
        expect(page.locator("a[href$='/calendar.ics']")).to_be_visible()
        body = page.locator("main").inner_text()
        assert "hora de Ecuador, UTC−5" in body
        assert "Vegetariana" in body
        shoot(page, "5-confirmed")

        page.locator("a[href$='/cancel']").click()
        page.wait_for_load_state()
        no_sideways_scrolling(page, 360)
        shoot(page, "6-cancel")
        page.locator("form[method=post] button.button--danger[type=submit]").click()
        page.wait_for_url(MANAGE_URL)
        shoot(page, "7-cancelled")

        for name, path in (("8-terms", "/associations/kallari/terms"), ("9-privacy", "/privacy")):
            page.goto(live_server + path)
            no_sideways_scrolling(page, 360)
            shoot(page, name)
    finally:
        context.close()


def test_every_error_of_the_booking_form_shows_at_once(live_server, browser, shoot):
    context = browser.new_context(viewport=SMALL_PHONE, locale="es-EC")
    page = context.new_page()
    try:
        page.goto(live_server + "/experiences/kallari-cacao-route")
        page.locator("a[href$='/book']").first.click()
        page.wait_for_load_state()
        page.fill("input[name=email]", "no-es-un-correo")
        page.fill("textarea[name=special_needs]", "Asma")
        reserve(page)  # no browser bubbles: the form has novalidate
        expect(page.locator("#error-summary")).to_be_visible()
        links = page.locator("#error-summary a").all_inner_texts()
        assert len(links) >= 5, links  # tickets, name, email, phone, consent
        for field in ("name", "email", "phone", "special_needs_consent"):
            expect(page.locator(f"#{field}-error")).to_be_visible()
        expect(page.locator("#tickets-error")).to_be_visible()
        no_sideways_scrolling(page, 360)
        shoot(page, "errors")
        page.locator("#error-summary a[href='#email']").click()
        assert page.evaluate("location.hash") == "#email"
    finally:
        context.close()


def _booking_form(server, page) -> None:
    page.goto(server.url + "/experiences/kallari-cacao-route")
    listed = listed_departures(page)
    departure_id = server.claim_departure(listed, seats=3)
    page.goto(f"{server.url}/departures/{departure_id}/book")


def test_the_total_follows_tickets_and_payment_method_and_one_press_books(
    browser, payment_server, shoot
):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    try:
        _booking_form(payment_server, page)
        assert quote(page) == {"total": 0, "now": 0, "arrival": 0}
        adult, child = page.locator("input[name^=qty_]").all()[:2]
        adult.fill("1")
        child.fill("1")
        page.check("input[name=payment_method][value=deposit]")
        # 30% of $70.00 is $21.00; the server's arithmetic, written as the server writes it.
        assert quote(page) == {"total": 7000, "now": 2100, "arrival": 4900}
        assert page.locator("[data-quote-total]").inner_text() == "$70,00"
        page.check("input[name=payment_method][value=card]")
        assert quote(page) == {"total": 7000, "now": 7000, "arrival": 0}
        adult.fill("2")
        page.check("input[name=payment_method][value=deposit]")
        # 30% of $115.00 is $34.50.
        assert quote(page) == {"total": 11500, "now": 3450, "arrival": 8050}
        assert page.input_value("input[name=quoted]") == "11500:3450"
        fill_details(page)
        shoot(page, "deposit-total")
        reserve(page)
        page.wait_for_url(PAY_URL)  # no second look needed: the page showed this total
        assert cents(page.locator("h1").inner_text()) == 3450
    finally:
        context.close()


def test_payment_choices_are_the_same_size_on_a_phone(browser, payment_server):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    try:
        _booking_form(payment_server, page)
        sizes = [
            (round(box["width"]), round(box["height"]))
            for box in (
                radio.bounding_box() for radio in page.locator("input[name=payment_method]").all()
            )
        ]
        assert len(sizes) == 3 and len(set(sizes)) == 1, sizes
    finally:
        context.close()


STRIPE_SPY = """
Object.defineProperty(window, "Stripe", {
  configurable: true,
  set(real) {
    Object.defineProperty(window, "Stripe", {
      value: function (key, options) {
        window.__stripeOptions = options || null;
        return real(key, options);
      },
      writable: true, configurable: true,
    });
  },
});
"""


def test_the_card_page_has_no_stray_warning_and_stripe_speaks_the_pages_language(
    browser, payment_server, shoot
):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    context.add_init_script(STRIPE_SPY)
    page = context.new_page()
    try:
        _booking_form(payment_server, page)
        page.locator("input[name^=qty_]").first.fill("1")
        fill_details(page)
        page.check("input[name=payment_method][value=card]")
        reserve(page)
        page.wait_for_url(PAY_URL)
        expect(page.locator("#card-element input").first).to_be_visible()
        errors = page.locator("#card-errors")
        assert errors.inner_text() == ""
        assert errors.evaluate("e => getComputedStyle(e).display") == "none"
        assert "⚠" not in page.locator("main").inner_text()
        assert page.evaluate("window.__stripeOptions") == {"locale": "es"}
        shoot(page, "card-page")
        # With a message, the sign is back beside it.
        errors.evaluate("e => { e.textContent = 'Tarjeta rechazada.' }")
        assert errors.evaluate("e => getComputedStyle(e).display") != "none"
        assert "⚠" in errors.evaluate("e => getComputedStyle(e, '::before').content")
    finally:
        context.close()


# --- Emails at 320 pixels ----------------------------------------------------------------------

KINDS = [
    ("confirmed", {}),
    ("reminder", {}),
    ("cancelled", {"refund_cents": 2250}),
    ("departure_cancelled", {"reason": "Río crecido por las lluvias", "refund_cents": 9000}),
    ("late_payment_refunded", {"refund_cents": 9000}),
    ("refunded", {"refund_cents": 9000}),
    ("impact", {}),
]


@pytest.fixture
def email_booking(app, make):
    """A booking with long texts where emails have them: a long name, title, email and
    meeting point."""
    association = make.association(
        name="Asociación de Producción de Cacao y Derivados Aromas del Sur (ASOPROMÁS)",
        legal_name="Asociación de Producción de Cacao y Derivados Aromas del Sur (demo)",
        tax_id="9900000003001",
        address="Dirección de demostración, Zamora, Zamora Chinchipe, Ecuador",
        contact_phone="+593 99 000 0003",
        contact_email="asopromas.demo.contacto.turismo@example.org",
        identity_is_demo=True,
    )
    experience = make.experience(association)
    for text in experience.texts:
        text.title = "Chocolate Kujeñito: del grano a la tableta con ASOPROMÁS"
        text.meeting_point = "Demo: entrada de la planta de chocolate de ASOPROMÁS, 08:45"
    departure = make.departure(experience)
    return make.booking(
        departure,
        quantities={"adult": 2},
        contact_name="María Fernanda Quishpe Tanguila",
        contact_email="maria.fernanda.quishpe.tanguila@example.org",
        language="es",
    )


@pytest.mark.parametrize(("kind", "context"), KINDS, ids=[kind for kind, _ in KINDS])
def test_emails_fit_a_320_pixel_screen(browser, app, email_booking, kind, context, shoot):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("es"):
        rendered = rendering.render(kind, email_booking, "es", context, "<qr@chakraroutes>")
    page_context = browser.new_context(viewport={"width": 320, "height": 640})
    page = page_context.new_page()
    try:
        page.set_content(rendered.html)
        no_sideways_scrolling(page, 320)
        reference = page.get_by_text(email_booking.reference, exact=True)
        if reference.count():
            # The reference box's reference: one line, never broken at its hyphen.
            box = reference.first
            lines = box.evaluate(
                "e => Math.round(e.getBoundingClientRect().height / "
                "parseFloat(getComputedStyle(e).lineHeight))"
            )
            assert lines == 1, lines
        shoot(page, kind)
    finally:
        page_context.close()


def test_the_width_check_sees_an_email_that_is_too_wide(browser):
    """The negative control: the old layout, a reference beside a 160-pixel QR cell, is
    wider than 320 pixels."""
    page_context = browser.new_context(viewport={"width": 320, "height": 640})
    page = page_context.new_page()
    try:
        page.set_content(
            '<table width="100%"><tr><td style="padding:24px"><table width="100%"><tr>'
            '<td style="padding:16px"><p style="font-size:28px;letter-spacing:.08em;'
            'white-space:nowrap">KAL-7F3K9Q</p></td><td width="160" style="padding:16px">'
            '<img width="144" height="144" alt=""></td></tr></table></td></tr></table>'
        )
        with pytest.raises(AssertionError):
            no_sideways_scrolling(page, 320)
    finally:
        page_context.close()

"""A tourist books the demo three-day route for two adults with a chakra lunch and pays by
card, in Spanish on a 360-pixel phone (headless Chromium, JavaScript on, Stripe and
Stripe.js from the local emulator); then Wiñak cancels its guayusa dawn for the weather.
The leg is refunded in full from the route's charge, the route's page says so, the rest of
the route stands and ``flask ledger-check`` finds the ledger sound."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tourism.extensions import db

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}
PASSWORD = "demo-chakra-2026"  # the demo accounts' documented password
ROUTE = "cacao-guayusa-chocolate-route"
PAY_URL = re.compile(r"/route-bookings/(?P<token>[A-Za-z0-9_-]{40,})/pay$")
MANAGE_URL = re.compile(r"/route-bookings/[A-Za-z0-9_-]{40,}$")
GOOD_CARD = "4242424242424242"


@pytest.fixture
def server(payment_server):
    """The payment server, with every experience of the demo route taking cards."""
    from tourism.models import Route

    with payment_server.app.app_context():
        route = db.session.scalars(select(Route).where(Route.slug == ROUTE)).one()
        for leg in route.legs:
            if leg.experience is not None:
                leg.experience.payment_options = "card,deposit,on_arrival"
        db.session.commit()
    return payment_server


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def route_booking(server, token: str):
    from tourism.models import RouteBooking

    return db.session.scalars(select(RouteBooking).where(RouteBooking.manage_token == token)).one()


def test_route_paid_by_card_then_a_leg_cancelled_for_weather(browser, server, shoot):
    from tourism.models import BookingStatus, Payment, Refund, RefundStatus

    tourist = browser.new_context(viewport=PHONE, locale="es-EC")
    page = tourist.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))

    # Book: the first start date two people fit (the demo data fills some departures, and
    # which date comes first depends on the time of day), one chakra lunch, by card.
    dates = page.request.get(f"{server.url}/api/v1/routes/{ROUTE}/availability?people=2")
    start = next(d["start_date"] for d in dates.json()["start_dates"] if d["bookable"])
    page.goto(f"{server.url}/routes/{ROUTE}/book?start={start}")
    fits_the_phone(page)
    page.fill("input[name=people]", "2")
    page.get_by_label("Almuerzo de chakra (maito)").fill("1")
    page.fill("input[name=name]", "Ana Quispe")
    page.fill("input[name=email]", "ana@example.org")
    page.fill("input[name=phone]", "+593 99 123 4567")
    page.select_option("select[name=country]", "EC")
    page.check("input[name=payment_method][value=card]")
    shoot(page, "1-route-form")
    page.locator("form[method=post] button.button--primary[type=submit]").click()
    page.wait_for_url(PAY_URL)
    token = PAY_URL.search(page.url).group("token")
    fits_the_phone(page)
    with server.app.app_context():
        rb = route_booking(server, token)
        total, reference = rb.total_cents, rb.reference
        assert rb.status == BookingStatus.HELD and rb.people == 2
        assert [(e.extra.code, e.quantity) for e in rb.extras] == [("kallari-lunch", 1)]
    expect(page.locator("h1")).to_contain_text("Pagar")

    # Pay through the emulator's fake Stripe.js.
    card = page.locator("#card-element")
    expect(card.locator("input[placeholder=number]")).to_be_visible()
    for placeholder, value in (
        ("number", GOOD_CARD),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "12345"),
    ):
        card.locator(f"input[placeholder={placeholder}]").fill(value)
    shoot(page, "2-card")
    page.locator("#pay-button").click()
    page.wait_for_url(MANAGE_URL, timeout=20_000)
    expect(page.locator(".status--confirmed")).to_have_text("Confirmada")
    expect(page.locator("main")).to_contain_text("Pagado en línea")
    fits_the_phone(page)
    shoot(page, "3-route-confirmed")
    with server.app.app_context():
        rb = route_booking(server, token)
        assert rb.status == BookingStatus.CONFIRMED
        assert {bl.booking.status for bl in rb.legs} == {BookingStatus.CONFIRMED}
        (route_payment,) = rb.payments
        assert route_payment.amount_cents == total and route_payment.charge_ref
        dawn = next(bl.booking for bl in rb.legs if bl.leg.day == 2)
        dawn_id, dawn_departure, dawn_total = dawn.id, dawn.departure_id, dawn.total_cents
    assert server.emails_about(reference), "the route's confirmation email"

    # Wiñak cancels the guayusa dawn: heavy rain, the river is up.
    staff = browser.new_context(viewport=PHONE, locale="es-EC")
    office = staff.new_page()
    office.goto(server.url + "/login")
    office.fill("input[name=email]", "admin@winak.demo")
    office.fill("input[name=password]", PASSWORD)
    office.locator("main form button[type=submit]").click()
    office.wait_for_load_state()
    office.goto(f"{server.url}/manage/departures/{dawn_departure}/cancel")
    office.fill("textarea[name=reason]", "Lluvia fuerte: el río está muy crecido")
    office.locator("main form button[type=submit]").click()
    office.wait_for_load_state()
    staff.close()

    # The refund is paid at Stripe after the commit.
    leg_refunds = (
        select(Refund)
        .join(Payment, Refund.payment_id == Payment.id)
        .where(Payment.booking_id == dawn_id)
    )
    for _ in range(50):
        with server.app.app_context():
            refund = db.session.scalars(leg_refunds).first()
            if refund is not None and refund.status == RefundStatus.SUCCEEDED:
                break
        time.sleep(0.2)
    with server.app.app_context():
        rb = route_booking(server, token)
        (refund,) = db.session.scalars(leg_refunds).all()
        assert refund.status == RefundStatus.SUCCEEDED and refund.amount_cents == dawn_total
        assert refund.provider_ref.startswith("re_")
        assert rb.status == BookingStatus.CONFIRMED  # the rest of the route stands
        assert sorted(bl.booking.status.value for bl in rb.legs) == [
            "cancelled",
            "confirmed",
            "confirmed",
        ]
        result = server.app.test_cli_runner().invoke(args=["ledger-check"])
        assert result.exit_code == 0, result.output
        assert "sound" in result.output

    page.reload()
    main = page.locator("main")
    expect(main).to_contain_text("Cancelada por la comunidad")
    expect(main).to_contain_text("el río está muy crecido")
    expect(main).to_contain_text("Reembolsado a tu tarjeta")
    expect(main).to_contain_text("El resto de tu ruta se mantiene.")
    fits_the_phone(page)
    shoot(page, "4-leg-cancelled")
    assert problems == []
    tourist.close()

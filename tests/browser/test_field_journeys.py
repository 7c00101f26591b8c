"""The first things a guide and an association do, on a 360-pixel phone in Spanish, in real
headless Chromium against the demo data, with screenshots (test-artifacts/browser/):

- the guide: a schedule whose first screen is the departures, not the menus; a manifest
  whose cash to collect leaves out a party that did not come; check-in by a reference typed
  any way, right after a refused one, showing what was recorded (and not the old error);
  their earnings among the guide pages, without seconds;
- the admin: stops added without saving, a schedule's default guide given to its coming
  departures with one line per departure (one skipped for time off), the board;
- the treasurer: the treasury, the reports with months in words, a family's statement in
  plain words.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.factories import Factories
from tourism import create_app
from tourism.database import utcnow, write_transactions
from tourism.demo import DEMO_PASSWORD, seed_demo
from tourism.extensions import db
from tourism.models import (
    Booking,
    Departure,
    DepartureGuide,
    Experience,
    GuideRole,
    GuideTimeOff,
    User,
)
from tourism.timefmt import display_zone, local_today

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo data, plus a Cacao Route departure starting in 30 minutes that the demo guide
    leads (check-in is open), with two parties; and a day off of the guide over a coming
    departure."""
    folder = tmp_path_factory.mktemp("field-journeys")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'field.sqlite3'}",
            "SECRET_KEY": "field-journey-tests",
            "RATELIMIT_ENABLED": False,
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
            "UPLOAD_DIR": str(folder / "uploads"),
        }
    )
    with app.app_context():
        upgrade()
        with write_transactions():
            seed_demo(db.session, local_today(), display_zone())
        make = Factories(db.session)
        route = db.session.scalars(
            select(Experience).where(Experience.slug == "kallari-cacao-route")
        ).one()
        guide = db.session.scalars(select(User).where(User.email == "guia@kallari.demo")).one()
        soon = make.departure(
            route, starts_at=utcnow().replace(second=0, microsecond=0) + timedelta(minutes=30)
        )
        db.session.add(DepartureGuide(departure=soon, user=guide, role=GuideRole.LEAD))
        ana = make.booking(soon, {"adult": 2}, contact_name="Ana Quispe")
        ben = make.booking(soon, {"adult": 1}, contact_name="Ben Shiki")
        # A day off over a coming departure of the route that the guide does not lead yet.
        led = set(
            db.session.scalars(
                select(DepartureGuide.departure_id).where(DepartureGuide.user_id == guide.id)
            )
        )
        away = next(
            d
            for d in db.session.scalars(
                select(Departure)
                .where(
                    Departure.experience_id == route.id,
                    Departure.starts_at > utcnow() + timedelta(days=7),
                )
                .order_by(Departure.starts_at)
            )
            if d.id not in led
        )
        db.session.add(
            GuideTimeOff(
                user_id=guide.id,
                association_id=route.association_id,
                starts_at=away.starts_at - timedelta(hours=3),
                ends_at=away.ends_at + timedelta(hours=3),
                note="Minga familiar",
            )
        )
        db.session.commit()
        ids = SimpleNamespace(
            route=route.id,
            soon=soon.id,
            away=away.id,
            guide=guide.id,
            ana=ana.id,
            ana_reference=ana.reference,
            ben=ben.id,
            due_ben=ben.due_on_arrival_cents,
            due_ana=ana.due_on_arrival_cents,
        )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app, ids=ids)
    server.shutdown()
    server.server_close()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


def wait_until(page, function: str, timeout: float = 15.0) -> None:
    """Poll ``function`` in the page (not wait_for_function: the CSP forbids its eval),
    across the page loading itself again after a sync."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(function):
                return
        except PlaywrightError as error:
            if "context was destroyed" not in str(error):
                raise
        assert time.monotonic() < deadline, f"timed out waiting for {function}"
        page.wait_for_timeout(100)


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.url


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def money(cents: int) -> str:
    whole, rest = divmod(cents, 100)
    return f"${whole:,}".replace(",", ".") + f",{rest:02d}"


# The guide ---------------------------------------------------------------------------------


def test_the_guide_on_a_phone(site, browser, shoot):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    ids = site.ids
    try:
        sign_in(page, site.url, "guia@kallari.demo")
        page.goto(site.url + "/guide/")
        # The first screen is for the departures: header and menu take at most a fifth.
        top = page.evaluate("document.querySelector('main h1').getBoundingClientRect().top")
        assert top <= 0.2 * PHONE["height"], top
        menu = page.locator("nav.guide-nav a")
        assert menu.count() == 4 and "Mis ingresos" in menu.all_inner_texts()
        assert page.evaluate("document.querySelector('nav.guide-nav').offsetHeight") <= 60
        assert fits(page)
        shoot(page, "1-schedule")

        # The manifest: Ben does not come, so his cash is no longer to collect.
        page.goto(f"{site.url}/guide/departures/{ids.soon}")
        summary = page.locator("p.summary").inner_text()
        assert money(ids.due_ana + ids.due_ben) in summary, summary
        shoot(page, "2-manifest")
        page.locator(f"#b-{ids.ben} form[data-offline=no_show] button").click()
        wait_until(page, "() => !!document.querySelector('#b-" + str(ids.ben) + ".party--absent')")
        summary = page.locator("p.summary").inner_text()
        assert f"Efectivo por cobrar: {money(ids.due_ana)}" in summary, summary
        assert fits(page)
        shoot(page, "3-no-show")

        # Check-in by reference: a wrong one first, then Ana's typed lower case, no dash.
        page.goto(f"{site.url}/guide/departures/{ids.soon}/scan")
        page.fill("input[name=reference]", "NOP-222222")
        page.locator("#scan-form button[type=submit]").click()
        page.wait_for_load_state()
        assert "No hay ninguna reserva NOP-222222" in page.locator("main").inner_text()
        shoot(page, "4-wrong-reference")
        typed = ids.ana_reference.replace("-", "").lower()
        page.fill("input[name=reference]", typed)
        page.locator("#scan-form button[type=submit]").click()
        wait_until(
            page,
            "() => document.querySelector('#synced-list') && "
            "document.querySelector('#synced-list').textContent.includes('Ana Quispe')",
        )
        text = page.locator("main").inner_text()
        assert "Ana Quispe (2 personas) ya está registrado." in text, text
        if ids.due_ana:
            assert f"Cobra {money(ids.due_ana)} en efectivo." in text, text
        assert "No hay ninguna reserva" not in text  # the refused form was not sent again
        with site.app.app_context():
            assert db.session.get(Booking, ids.ana).checked_in_at is not None
        assert fits(page)
        shoot(page, "5-checked-in")

        # Their earnings, among the guide pages, with times to the minute.
        page.goto(site.url + "/guide/statement")
        assert page.locator("nav.guide-nav a[aria-current=page]").inner_text() == "Mis ingresos"
        body = page.locator("main").inner_text()
        assert not re.search(r"\b\d{1,2}:\d\d:\d\d\b", body), body
        assert "Acreditado" not in body and "Ganado" in body
        assert fits(page)
        shoot(page, "6-earnings")
    finally:
        context.close()


def test_check_in_by_reference_without_javascript(site, browser, shoot):
    """The plain form: a refused reference, then a good one typed with spaces; the answer is
    a redirect to the page with what happened (reloading it sends nothing again)."""
    context = browser.new_context(viewport=PHONE, locale="es-EC", java_script_enabled=False)
    page = context.new_page()
    ids = site.ids
    try:
        sign_in(page, site.url, "guia@kallari.demo")
        scan = f"{site.url}/guide/departures/{ids.soon}/scan"
        page.goto(scan)
        page.fill("input[name=reference]", "zzz")
        page.locator("#scan-form button[type=submit]").click()
        page.wait_for_load_state()
        assert "No hay ninguna reserva zzz" in page.locator("main").inner_text()
        code, body = ids.ana_reference.split("-")
        # Ana was checked in by the previous test, or is now: either way the form answers.
        with site.app.app_context():
            booking = db.session.get(Booking, ids.ana)
            booking.checked_in_at = None
            db.session.commit()
        page.fill("input[name=reference]", f" {code.lower()} {body[:3]} {body[3:].lower()} ")
        page.locator("#scan-form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.url == scan  # redirected: a GET
        text = page.locator("body").inner_text()
        assert "Ana Quispe (2 personas) ya está registrado." in text
        assert "No hay ninguna reserva" not in text
        page.reload()
        assert "No hay ninguna reserva" not in page.locator("body").inner_text()
        shoot(page, "checked-in-without-js")
    finally:
        context.close()


# The association ---------------------------------------------------------------------------


def test_the_admin_on_a_phone(site, browser, shoot):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    ids = site.ids
    try:
        sign_in(page, site.url, "admin@kallari.demo")
        assert fits(page)
        shoot(page, "1-dashboard")

        # Stops: "Añadir una parada" adds a row in the page, nothing is sent; then save.
        edit = f"{site.url}/manage/experiences/{ids.route}/edit"
        page.goto(edit)
        heading = page.locator("main h1").inner_text()
        assert "Ruta del Cacao Kallari" in heading and "kallari-cacao-route" not in heading
        rows = page.locator("#stop-rows .stop-row")
        before = rows.count()
        page.get_by_role("button", name="Añadir una parada").click()
        page.get_by_role("button", name="Añadir una parada").click()
        assert rows.count() == before + 2 and page.url == edit
        new_name = rows.nth(before).locator("input[name$='-name_es']")
        assert new_name.input_value() == ""
        new_name.fill("Mirador del río Napo")
        rows.nth(before + 1).locator("input[name$='-remove']").check()
        assert "is-removed" in (rows.nth(before + 1).get_attribute("class") or "")
        assert fits(page)
        shoot(page, "2-stops")
        page.locator("form[method=post] button.button--primary[type=submit]").last.click()
        page.wait_for_load_state()
        # The typed stop is saved; the blank and the removed rows are not: one blank row again.
        assert page.locator("#stop-rows .stop-row").count() == before + 1
        assert page.locator("input[value='Mirador del río Napo']").count() == 1

        # The schedule's default guide, given to its coming departures: one line each.
        page.goto(f"{site.url}/manage/experiences/{ids.route}/schedules")
        assert "Horarios y salidas de Ruta del Cacao Kallari" in page.locator("h1").inner_text()
        assert fits(page)
        shoot(page, "3-schedules")
        page.locator("a[href$='/guides']", has_text="Elegir guías habituales").first.click()
        page.wait_for_load_state()
        page.select_option("select[name=lead_id]", str(ids.guide))
        shoot(page, "4-default-guides")
        page.get_by_role("button", name="Guardar").click()
        page.wait_for_load_state()
        lines = page.locator("ul.results li")
        assert lines.count() >= 20
        skipped = page.locator("ul.results li.result--skipped")
        assert skipped.count() == 1
        assert "tiene días libres" in skipped.inner_text()
        assert page.locator("ul.results li.result--already").count() >= 4
        assert fits(page)
        shoot(page, "5-results")

        # The board of the coming week, on the phone.
        page.goto(f"{site.url}/manage/operations?view=week")
        assert fits(page)
        shoot(page, "6-board")
    finally:
        context.close()


def test_the_treasurer_on_a_phone(site, browser, shoot):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    try:
        sign_in(page, site.url, "tesoreria@kallari.demo")
        treasury = page.locator("a[href$='/treasury']").first.get_attribute("href")
        page.goto(site.url + treasury)
        assert fits(page)
        shoot(page, "1-treasury")
        page.goto(site.url + treasury.replace("/treasury", "/reports"))
        text = page.locator("main").inner_text()
        assert re.search(
            r"\b(enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre"
            r"|octubre|noviembre|diciembre) de 20\d\d\b",
            text,
        ), text[:500]
        assert not re.search(r"\b20\d\d-\d\d\b", text)
        assert fits(page)
        shoot(page, "2-reports")
        page.goto(site.url + treasury)
        page.get_by_role("button", name="Crear enlace al estado de cuenta").first.click()
        page.wait_for_load_state()
        statement = page.locator("a[href*='/statements/families/']").first.get_attribute("href")
        page.goto(site.url + statement)
        body = page.locator("main").inner_text()
        assert "Acreditado" not in body and "Revertido" not in body
        assert "Ganado" in body and "Devuelto" in body
        assert "acreditado" in body  # the precise term, in the help line
        assert not re.search(r"\b\d{1,2}:\d\d:\d\d\b", body)
        assert fits(page)
        shoot(page, "3-family-statement")
    finally:
        context.close()

"""The association's treasurer, in Spanish, in real headless Chromium: signs in, reads the
revenue dashboard (charts drawn as SVG without JavaScript, the same figures as a table and
as CSV), checks a family's balance, records a payout and prints its sheet, downloads the
ledger as CSV; then the admin previews and approves a new split-rule version."""

from __future__ import annotations

import csv
import io
import re

import pytest

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "demo-chakra-2026"  # the demo accounts' documented password


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def test_treasurer_reads_the_dashboard_pays_a_family_and_downloads_the_ledger(
    live_server, browser, shoot
):
    context = browser.new_context(viewport=DESKTOP, locale="es-EC")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_in(page, live_server, "tesoreria@kallari.demo")
        page.goto(live_server + "/manage/")
        treasury = page.locator("a[href$='/treasury']").first.get_attribute("href")
        association_path = treasury.rsplit("/treasury", 1)[0]

        # The revenue dashboard: SVG charts, the same numbers in tables, a CSV per table.
        page.goto(live_server + association_path + "/reports")
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.locator("h1").inner_text().startswith("Informes de ingresos")
        assert page.locator("svg").count() >= 4
        assert page.locator("svg script").count() == 0
        net = page.locator("main").inner_text()
        assert re.search(r"Ingresos netos: \$[1-9][\d.]*,\d\d", net), net
        shoot(page, "1-reports")
        csv_link = page.locator("a[href*='/reports/months.csv']").first.get_attribute("href")
        per_month = page.request.get(live_server + csv_link)
        assert per_month.status == 200
        rows = list(csv.DictReader(io.StringIO(per_month.text())))
        assert len(rows) >= 6 and any(float(row["net"]) > 0 for row in rows), rows

        # The treasury: a family with money available, paid in cash, with its sheet.
        page.goto(live_server + treasury)
        shoot(page, "2-balances")
        row = page.locator("tbody tr", has=page.locator("input[name=pay]:not([disabled])")).first
        name = row.locator("label").inner_text()
        available = row.locator("td").nth(3).inner_text()
        assert re.fullmatch(r"\$[1-9][\d.]*,\d\d", available.strip()), available
        row.locator("input[name=pay]").check()
        row.locator("input[name^=reference-]").fill("Recibo 0042")
        page.select_option("select[name=method]", "cash")
        page.get_by_role("button", name="Registrar pagos").click()
        page.wait_for_load_state()
        assert "Recibo 0042" in page.locator("main").inner_text()
        shoot(page, "3-paid")
        # A family without a statement link gets one (its form is not nested in the payouts').
        page.goto(live_server + treasury)
        page.get_by_role("button", name="Crear enlace al estado de cuenta").first.click()
        page.wait_for_load_state()
        statement = page.locator("a[href*='/statements/families/']").first.get_attribute("href")
        assert page.request.get(live_server + statement).status == 200
        page.goto(live_server + treasury)
        sheet = page.locator("a[href*='/payouts/'][href$='/sheet']").first
        sheet.click()
        page.wait_for_load_state()
        assert name in page.locator("main").inner_text()
        assert page.locator(".signature, td.signature").count() >= 1
        shoot(page, "4-sheet")

        # The ledger, as CSV: the payout is in it.
        ledger = page.request.get(live_server + association_path + "/ledger.csv")
        assert ledger.status == 200
        assert "text/csv" in ledger.headers["content-type"]
        assert "payout" in ledger.text()
        assert errors == []
    finally:
        context.close()


def test_admin_previews_and_approves_a_split_rule(live_server, browser, shoot):
    context = browser.new_context(viewport=DESKTOP, locale="es-EC")
    page = context.new_page()
    try:
        sign_in(page, live_server, "admin@kallari.demo")
        page.goto(live_server + "/manage/")
        page.locator("a[href$='/experiences']").first.click()
        page.locator("a[href$='/split-rules']").first.click()
        page.wait_for_load_state()
        assert "Cómo se reparte el dinero" in page.locator("h1").inner_text()
        page.fill("input[name=percent_families]", "60")
        page.fill("input[name=percent_platform]", "3")
        page.locator("button[value=preview]").click()
        page.wait_for_load_state()
        assert "Vista previa" in page.locator("main").inner_text()
        shoot(page, "1-preview")
        page.locator("button[value=approve]").click()
        page.wait_for_load_state()
        body = page.locator("main").inner_text()
        assert "La versión 2 de la regla de reparto está aprobada." in page.content()
        assert "vigente" in body
        shoot(page, "2-approved")
    finally:
        context.close()

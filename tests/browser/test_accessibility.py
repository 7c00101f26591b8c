"""No serious or critical accessibility problems, as axe-core finds them in Chromium, on the
pages visitors, guides and association staff use (demo data, Spanish and English).

axe-core is vendored (tests/browser/vendor/README.md: version, MPL-2.0 licence, checksum) and
injected into each page; the test's browser context bypasses the Content-Security-Policy for
that one script, which the site itself never serves.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from tourism.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
BLOCKING = ("serious", "critical")


def test_vendored_axe_is_the_pinned_release():
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


def test_the_audit_reports_what_it_should(browser):
    """A negative control: an image without a text alternative, an unlabelled field and
    pale text are reported."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    try:
        page.set_content(
            '<html lang="es"><head><title>x</title></head><body><main>'
            '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
            '<input type="text"><p style="color:#ddd;background:#fff">pálido</p>'
            "</main></body></html>"
        )
        ids = {line.split()[1].rstrip(":") for line in audit(page)}
    finally:
        context.close()
    assert {"image-alt", "label", "color-contrast"} <= ids, ids


def audit(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is, one line each."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    problems = []
    for violation in result["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
        problems.append(f"{violation['impact']} {violation['id']}: {violation['help']} — {targets}")
    return problems


def check(page, url: str, found: dict[str, list[str]], status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    page.wait_for_load_state("networkidle")
    problems = audit(page)
    if problems:
        found[url] = problems


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.url


@contextmanager
def audited_page(browser, viewport: dict, locale: str):
    """A page in its own browser context, and where its audits put what they find; fails
    the test with the report if anything was found."""
    context = browser.new_context(viewport=viewport, locale=locale, bypass_csp=True)
    found: dict[str, list[str]] = {}
    try:
        yield context.new_page(), found
    finally:
        context.close()
    assert not found, report(found)


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{url}\n  " + "\n  ".join(lines) for url, lines in found.items())


@pytest.mark.parametrize(("locale", "viewport"), [("es-EC", PHONE), ("en-US", LAPTOP)])
def test_public_and_booking_pages(live_server, browser, locale, viewport):
    with audited_page(browser, viewport, locale) as (page, found):
        check(page, live_server + "/", found)
        check(page, live_server + "/?province=mars", found, 400)  # the filters' error state
        experience = live_server + "/experiences/kallari-cacao-route"
        check(page, experience, found)
        book = page.locator("a[href$='/book']").first.get_attribute("href")
        check(page, live_server + book, found)
        # The form sent empty: its error messages and marked fields.
        page.locator("form[method=post] button.button--primary[type=submit]").click()
        page.wait_for_load_state("networkidle")
        problems = audit(page)
        if problems:
            found[book + " (errors)"] = problems
        # A real booking, then its private page.
        page.goto(live_server + book)
        page.locator("input[name^=qty_]").first.fill("1")
        page.fill("input[name=name]", "Rosa Tanguila")
        page.fill("input[name=email]", "rosa@example.org")
        page.fill("input[name=phone]", "+593 99 765 4321")
        page.select_option("select[name=country]", "EC")
        page.locator("form[method=post] button.button--primary[type=submit]").click()
        page.wait_for_url(re.compile(r"/bookings/[A-Za-z0-9_-]{40,}(\?booked=1)?$"))
        check(page, page.url, found)  # with its QR code and the seller's details
        check(page, live_server + "/login", found)
        check(page, live_server + "/privacy", found)
        check(page, live_server + "/terms", found)
        check(page, live_server + "/associations/kallari/terms", found)


def test_guide_pages(live_server, browser):
    with audited_page(browser, PHONE, "es-EC") as (page, found):
        sign_in(page, live_server, "guia@kallari.demo")
        check(page, live_server + "/guide/", found)
        manifest = page.locator("a[href*='/guide/departures/']").first.get_attribute("href")
        check(page, live_server + manifest, found)
        check(page, live_server + manifest + "/scan", found)
        check(page, live_server + "/guide/time-off", found)
        check(page, live_server + "/guide/statement", found)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_management_pages(live_server, browser, viewport):
    """On a laptop, and on a phone where every table is a stack of cards."""
    with audited_page(browser, viewport, "es-EC") as (page, found):
        sign_in(page, live_server, "admin@kallari.demo")
        check(page, live_server + "/manage/", found)
        experiences = page.locator("a[href$='/experiences']").first.get_attribute("href")
        association = re.search(r"/associations/(\d+)/", experiences)[1]
        check(page, live_server + experiences, found)
        edit = page.locator("a[href$='/edit'][href*='/experiences/']").first.get_attribute("href")
        experience = re.search(r"/experiences/(\d+)/", edit)[1]
        check(page, live_server + edit, found)
        check(page, f"{live_server}/manage/experiences/{experience}/split-rules", found)
        check(page, f"{live_server}/manage/experiences/{experience}/photos", found)
        check(page, f"{live_server}/manage/associations/{association}/treasury", found)
        check(page, f"{live_server}/manage/associations/{association}/reports", found)
        check(page, f"{live_server}/manage/associations/{association}/edit", found)
        check(page, f"{live_server}/manage/associations/{association}/families", found)
        check(page, f"{live_server}/manage/operations?view=week", found)
        check(page, f"{live_server}/manage/experiences/{experience}/schedules", found)
        guides = page.locator("a[href*='/manage/schedules/']").first.get_attribute("href")
        check(page, live_server + guides, found)
        check(page, f"{live_server}/manage/experiences/{experience}/schedules/new", found)


def test_keyboard_users_can_skip_to_the_content(live_server, browser):
    context = browser.new_context(viewport=PHONE, locale="es-EC")
    page = context.new_page()
    try:
        page.goto(live_server + "/experiences/kallari-cacao-route")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.classList.contains('skip-link')")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        top = page.evaluate("document.activeElement.getBoundingClientRect().top")
        assert top >= 0  # shown once focused, not left off screen
        assert (
            outline != "none"
            or page.evaluate("getComputedStyle(document.activeElement).boxShadow") != "none"
        )
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    ["/", "/experiences/kallari-cacao-route", "/login", "/privacy", "/associations/kallari/terms"],
)
def test_pages_reflow_at_320_pixels_without_sideways_scrolling(live_server, browser, path):
    """WCAG 1.4.10: at 320 CSS pixels (a 1280-pixel screen zoomed to 400 %) nothing but
    data tables may need horizontal scrolling."""
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="es-EC")
    page = context.new_page()
    try:
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, width
    finally:
        context.close()

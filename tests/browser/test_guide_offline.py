"""A guide loses signal in the forest: the manifest still opens, check-ins and cash are kept
on the phone, and they reach the server once, when the signal comes back. Headless Chromium
against a live server with the service worker."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import make_server

from tests.factories import PASSWORD, Factories
from tourism import create_app
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import Booking, Payment

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("guide-browser") / "guide.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "guide-browser-tests",
            "RATELIMIT_ENABLED": False,
            "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("guide-outbox")),
        }
    )
    with app.app_context():
        upgrade()
        make = Factories(db.session)
        association = make.association()
        experience = make.experience(association)
        stop = make.stop(experience)
        departure = make.departure(experience, starts_at=utcnow() + timedelta(minutes=20))
        guide = make.guide(association, email="guia@example.org", password=PASSWORD)
        make.assign(departure, guide)
        tomorrow = make.departure(experience, starts_at=utcnow() + timedelta(days=1))
        make.assign(tomorrow, guide)
        ana = make.booking(departure, {"adult": 2}, contact_name="Ana Quispe")
        db.session.commit()
        ids = dict(departure=departure.id, tomorrow=tomorrow.id, ana=ana.id, stop=stop.id)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{http.server_port}", ids
    http.shutdown()


def wait_until(page, function: str, arg=None, timeout: float = 15.0) -> None:
    """Poll the JavaScript ``function`` (called with ``arg``) until it returns true.

    Not ``page.wait_for_function``: that runs its predicate through the page's ``eval``, which
    the site's Content-Security-Policy forbids (no 'unsafe-eval'). ``page.evaluate`` goes
    through the DevTools protocol, which the policy does not govern."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(function, arg):
                return
        except PlaywrightError as error:
            # The page loads itself again (a GET) once a sync is done.
            if "context was destroyed" not in str(error):
                raise
        assert time.monotonic() < deadline, f"timed out waiting for {function}"
        page.wait_for_timeout(100)


def sign_in(page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=email]", "guia@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_offline_check_in_and_cash_sync_once_back_online(server, browser, shoot):
    app, url, ids = server
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, url)
        # The schedule lists today's departure and tomorrow's; the guide opens today's.
        page.goto(url + "/guide/")
        for departure in ("departure", "tomorrow"):
            assert page.locator(f"a[href$='/guide/departures/{ids[departure]}']").count() == 1
        shoot(page, "1-schedule")
        page.locator(f"a[href$='/guide/departures/{ids['departure']}']").click()
        page.wait_for_load_state()
        shoot(page, "2-manifest")
        wait_until(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
        page.reload()  # now served through the worker, which keeps a copy
        assert page.evaluate("!!navigator.serviceWorker.controller")

        context.set_offline(True)
        page.reload()  # no signal: the stored manifest opens
        assert page.get_by_text("Ana Quispe").count() >= 1
        page.locator(f"#b-{ids['ana']} form[data-offline=cash] input[name=amount]").fill("20")
        page.locator(f"#b-{ids['ana']} form[data-offline=cash] button").click()
        page.locator(f"#b-{ids['ana']} form[data-offline=check_in] button").click()
        wait_until(
            page,
            "() => JSON.parse(localStorage.getItem('chakra-guide-actions') || '[]').length === 2",
        )
        assert "Waiting to sync: 2" in page.locator("#sync-status").inner_text()
        shoot(page, "3-offline-waiting")
        with app.app_context():
            assert db.session.get(Booking, ids["ana"]).checked_in_at is None

        context.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_until(
            page,
            "() => JSON.parse(localStorage.getItem('chakra-guide-actions') || '[]').length === 0",
        )
        page.wait_for_load_state()
        page.wait_for_selector("text=Everything is synced.")
        shoot(page, "4-synced")
        with app.app_context():
            assert db.session.get(Booking, ids["ana"]).checked_in_at is not None
            cash = db.session.query(Payment).filter_by(provider="cash").all()
            assert [p.amount_cents for p in cash] == [2000]
    finally:
        context.close()


def test_opening_the_schedule_keeps_the_coming_weeks_manifests_offline(server, browser):
    app, url, ids = server
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, url)
        page.goto(url + "/guide/")
        manifest = f"/guide/departures/{ids['departure']}"
        wait_until(
            page,
            """async (path) => {
                const cache = await caches.open('chakra-guide-v1');
                return !!(await cache.match(path)) && !!navigator.serviceWorker.controller
                    || (await navigator.serviceWorker.ready, false);
            }""",
            manifest,
        )
        page.reload()  # served through the worker now
        wait_until(page, "() => !!navigator.serviceWorker.controller")
        wait_until(
            page,
            "async (path) => !!(await (await caches.open('chakra-guide-v1')).match(path))",
            manifest,
        )
        context.set_offline(True)
        page.goto(url + manifest)  # never opened before, no signal: the stored copy opens
        assert page.get_by_text("Ana Quispe").count() >= 1
        page.goto(url + "/guide/")
        assert page.locator("h1").inner_text() in ("My schedule", "Mi agenda")
    finally:
        context.close()


STORED = "async (path) => !!(await (await caches.open('chakra-guide-v1')).match(path))"


def _manifest_kept(page, url: str, ids: dict) -> str:
    """Signed in, today's manifest opened and kept by the service worker: its path."""
    manifest = f"/guide/departures/{ids['departure']}"
    sign_in(page, url)
    page.goto(url + manifest)
    wait_until(page, "() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
    page.reload()
    wait_until(page, STORED, manifest)
    return manifest


def test_signing_out_leaves_no_visitor_data_on_the_phone(server, browser):
    """The stored manifests hold visitors' names, phones and health notes: once the guide
    signs out, the manifest no longer opens offline. Actions still waiting for signal would
    go with them, so the sign-out asks first, and stays when the guide says no."""
    app, url, ids = server
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        manifest = _manifest_kept(page, url, ids)
        # An action waiting for signal: the sign-out asks, and the guide stays.
        page.evaluate(
            "localStorage.setItem('chakra-guide-actions', JSON.stringify([{id: 'x', label: 'x'}]))"
        )
        asked: list[str] = []

        def answer(dialog):
            asked.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", answer)
        page.locator("form[data-sign-out] button").click()
        page.wait_for_timeout(300)
        assert asked and "not sent yet: 1" in asked[0]
        assert page.url.endswith(manifest)
        assert page.evaluate(STORED, manifest)
        # Sent (none waiting): signing out clears what the phone kept.
        page.evaluate("localStorage.removeItem('chakra-guide-actions')")
        page.locator("form[data-sign-out] button").click()
        page.wait_for_load_state()
        assert page.get_by_text("You have signed out").count() == 1
        assert not page.evaluate(STORED, manifest)
        context.set_offline(True)
        try:
            page.goto(url + manifest)
        except PlaywrightError:
            pass  # no signal and nothing stored: the browser's own error page
        assert page.get_by_text("Ana Quispe").count() == 0
    finally:
        context.close()


def test_a_session_that_ended_elsewhere_forgets_the_stored_manifests(server, browser):
    """Signed out on another device (every session ends), the next guide page that loads
    meets the sign-in page: the worker forgets the stored manifests then."""
    app, url, ids = server
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        manifest = _manifest_kept(page, url, ids)
        context.clear_cookies()  # the session is gone, the worker and its copies stay
        page.goto(url + manifest)
        assert "/login" in page.url
        wait_until(page, f"async () => !(await ({STORED})({manifest!r}))")
    finally:
        context.close()


def test_a_queue_longer_than_a_batch_is_sent_in_turns(server, browser):
    """Days without signal can queue more actions than the server takes at once (200): the
    phone sent them all in one request, was refused, and kept retrying the same refusal."""
    app, url, ids = server
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, url)
        page.goto(url + f"/guide/departures/{ids['departure']}")
        page.evaluate(
            """([departure, stop]) => {
                const at = new Date().toISOString();
                const items = [];
                for (let n = 0; n < 250; n++) {
                    items.push({label: 'stop ' + n, action: {id: 'turn-' + n,
                        type: 'stop_visited', departure_id: departure, stop_id: stop, at: at}});
                }
                localStorage.setItem('chakra-guide-actions', JSON.stringify(items));
                window.dispatchEvent(new Event('online'));
            }""",
            [ids["departure"], ids["stop"]],
        )
        wait_until(
            page,
            "() => JSON.parse(localStorage.getItem('chakra-guide-actions') || '[]').length === 0",
            timeout=30,
        )
    finally:
        context.close()

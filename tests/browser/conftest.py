"""A live server on its own SQLite database with the demo data, and headless Chromium."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from tourism import create_app
from tourism.database import write_transactions
from tourism.demo import seed_demo
from tourism.demo.photos import seed_photos
from tourism.extensions import db
from tourism.timefmt import display_zone, local_today

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long ``expect(...)`` waits for a page to show what it should (Playwright's default is
#: 5 s). Waiting longer only slows a test that is failing anyway; on a loaded CI machine a
#: page can take longer than 5 s to show what it will show.
EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def live_server(live_site):
    """The address of the live server with the demo data."""
    return live_site.url


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    """The live server with the demo data: its address (``url``) and its app (``app``), for
    tests that look up the demo data's ids."""
    database = tmp_path_factory.mktemp("browser") / "browser.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "browser-tests",
            "RATELIMIT_ENABLED": False,
            "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("browser-outbox")),
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("browser-uploads")),
        }
    )
    with app.app_context():
        upgrade()
        with write_transactions():
            seed_demo(db.session, local_today(), display_zone())
            seed_photos(db.session, app.config["UPLOAD_DIR"])
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app)
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def shoot(request):
    """Save a screenshot as a test artifact: ``shoot(page, "step-name")``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{name}.png"), full_page=True)

    return save


def listed_departures(page) -> list[int]:
    """The departures whose Book link the page shows, in its order."""
    links = page.locator("a[href$='/book']")
    return [
        int(re.search(r"/departures/(\d+)/book$", links.nth(i).get_attribute("href"))[1])
        for i in range(links.count())
    ]


def with_seats(app, departure_ids: list[int], seats: int, taken: set[int] = frozenset()) -> int:
    """The first of ``departure_ids`` with ``seats`` free, not in ``taken``. The demo data
    fills some departures on purpose, and which departure is listed first depends on the time
    of day (today's closes an hour before it starts): a test books where its tickets fit."""
    from tourism.database import utcnow
    from tourism.models import Departure
    from tourism.services.booking import availability

    with app.app_context():
        for departure_id in departure_ids:
            departure = db.session.get(Departure, departure_id)
            if departure_id in taken or departure is None:
                continue
            if availability.seats_left(db.session, departure, utcnow()) >= seats:
                return departure_id
    raise AssertionError(f"no departure with {seats} free seats among {departure_ids}")


# Card payments: a second live server whose Stripe is the local emulator ---------------------


class PaymentServer:
    """A live server taking card payments through the Stripe emulator (``stripe_emulator``)."""

    def __init__(self, url: str, app, outbox: Path) -> None:
        self.url = url
        self.app = app
        self.outbox = outbox
        self._claimed: set[int] = set()

    def claim_departure(self, departure_ids: list[int], seats: int) -> int:
        """The first of ``departure_ids`` with ``seats`` free that no other test has used
        (``with_seats``)."""
        departure_id = with_seats(self.app, departure_ids, seats, self._claimed)
        self._claimed.add(departure_id)
        return departure_id

    def booking(self, token: str) -> SimpleNamespace:
        """A snapshot of the booking and its payments as the database has them now."""
        from sqlalchemy import select

        from tourism.models import Booking

        with self.app.app_context():
            booking = db.session.scalars(select(Booking).where(Booking.manage_token == token)).one()
            return SimpleNamespace(
                reference=booking.reference,
                status=booking.status,
                total_cents=booking.total_cents,
                paid_online_cents=booking.paid_online_cents,
                payments=[
                    SimpleNamespace(status=p.status, charge_ref=p.charge_ref, attempt=p.attempt)
                    for p in booking.payments
                ],
            )

    def emails_about(self, reference: str) -> list[str]:
        """Names of the outbox files (sent emails) that mention ``reference``."""
        from email import message_from_bytes, policy

        found = []
        for path in sorted(self.outbox.glob("*.eml")) if self.outbox.exists() else []:
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            text = message.get_body(preferencelist=("plain",)).get_content()
            if reference in str(message["Subject"]) or reference in text:
                found.append(path.name)
        return found


@pytest.fixture(scope="session")
def payment_server(tmp_path_factory, stripe_emulator):
    """Demo data on its own SQLite database, CSRF on, Stripe (API and Stripe.js) pointing at
    the emulator, and the Kallari Cacao Route offering card, deposit and pay on arrival."""
    from sqlalchemy import select

    from tourism.models import Experience

    directory = tmp_path_factory.mktemp("browser-payments")
    outbox = directory / "outbox"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'payments.sqlite3'}",
            "SECRET_KEY": "browser-payment-tests",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
            "MAIL_BACKEND": "folder",
            "MAIL_OUTBOX_DIR": str(outbox),
            "STRIPE_SECRET_KEY": "sk_test_chakra",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_chakra",
            "STRIPE_WEBHOOK_SECRET": "whsec_test_chakra",
            "STRIPE_API_BASE": stripe_emulator.base_url,
            "STRIPE_JS_URL": stripe_emulator.js_url,
        }
    )
    with app.app_context():
        upgrade()
        with write_transactions():
            seed_demo(db.session, local_today(), display_zone())
        cacao = db.session.scalars(
            select(Experience).where(Experience.slug == "kallari-cacao-route")
        ).one()
        cacao.payment_options = "card,deposit,on_arrival"
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield PaymentServer(f"http://127.0.0.1:{server.server_port}", app, outbox)
    server.shutdown()
    server.server_close()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()

"""Page weight: the bytes a phone downloads for the first view of the public pages.

Loads the catalog, an experience page and the booking form in headless Chromium with a
phone's viewport and an empty cache, and adds up what came over the network for each, as
Chromium counts it (CDP ``Network.loadingFinished`` ``encodedDataLength``: compressed
bytes, response headers included). Two figures per page:

- **before images**: the page, its CSS, JavaScript and anything else that is not an image;
- **with images**: everything fetched for the first view, i.e. the above-the-fold images
  too (eager ones, and lazy ones the browser decided were close enough to load).

Prints a table against the budget (60 KB before images, 300 KB with them; KB = 1,024
bytes) and exits 1 when a page is over it. Without ``--base-url`` it serves the demo data
itself: a temporary SQLite database, migrated and seeded (with the demo photos), on a free
local port. The browser test ``tests/browser/test_page_weight.py`` runs the same
measurement through ``measure_pages``.

    .venv/bin/python bench/page_weight.py
    .venv/bin/python bench/page_weight.py --base-url http://127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import sys
import tempfile
import threading
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path

KB = 1024
BUDGET_BEFORE_IMAGES = 60 * KB
BUDGET_WITH_IMAGES = 300 * KB
#: A mid-range phone (the browser tests' viewport) at a common pixel density.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
EXPERIENCE_PATH = "/experiences/kallari-cacao-route"


@dataclass
class PageWeight:
    name: str
    url: str
    #: (resource type, url, bytes) for each finished request
    requests: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def before_images(self) -> int:
        return sum(size for kind, _, size in self.requests if kind != "Image")

    @property
    def images(self) -> int:
        return sum(size for kind, _, size in self.requests if kind == "Image")

    @property
    def with_images(self) -> int:
        return self.before_images + self.images

    @property
    def image_count(self) -> int:
        return sum(1 for kind, _, _ in self.requests if kind == "Image")

    def over_budget(self) -> list[str]:
        problems = []
        if self.before_images > BUDGET_BEFORE_IMAGES:
            problems.append(
                f"{self.name}: {self.before_images:,} bytes before images "
                f"(budget {BUDGET_BEFORE_IMAGES:,})"
            )
        if self.with_images > BUDGET_WITH_IMAGES:
            problems.append(
                f"{self.name}: {self.with_images:,} bytes with images "
                f"(budget {BUDGET_WITH_IMAGES:,})"
            )
        return problems


def measure(browser, name: str, url: str) -> PageWeight:
    """Load ``url`` once in a fresh context (empty cache) and count the bytes of its
    first view, until the network has been quiet for half a second."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        kinds: dict[str, tuple[str, str]] = {}
        weight = PageWeight(name, url)

        def on_response(event: dict) -> None:
            kinds[event["requestId"]] = (event.get("type", "Other"), event["response"]["url"])

        def on_finished(event: dict) -> None:
            kind, address = kinds.get(event["requestId"], ("Other", "?"))
            if not address.startswith("data:"):  # inline (the date picker's icon): no bytes
                weight.requests.append((kind, address, int(event["encodedDataLength"])))

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            raise RuntimeError(f"{url} answered {response.status if response else 'nothing'}")
        page.wait_for_load_state("networkidle")
        return weight
    finally:
        context.close()


def booking_form_url(browser, base_url: str) -> str:
    """The booking form of the experience's first bookable departure."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(base_url + EXPERIENCE_PATH)
        href = page.locator("a[href$='/book']").first.get_attribute("href")
    finally:
        context.close()
    if not href or not re.fullmatch(r"/[\w/-]+/book", href):
        raise RuntimeError(f"no bookable departure on {EXPERIENCE_PATH}")
    return base_url + href


def measure_pages(browser, base_url: str) -> list[PageWeight]:
    """The catalog, the Cacao Route's page and its booking form."""
    return [
        measure(browser, "catalog", base_url + "/"),
        measure(browser, "experience", base_url + EXPERIENCE_PATH),
        measure(browser, "booking form", booking_form_url(browser, base_url)),
    ]


def table(weights: list[PageWeight]) -> str:
    lines = [
        "| page | requests | images | before images (bytes) | with images (bytes) | budget |",
        "|---|---|---|---|---|---|",
    ]
    for weight in weights:
        verdict = "over" if weight.over_budget() else "ok"
        lines.append(
            f"| {weight.name} | {len(weight.requests)} | {weight.image_count} "
            f"| {weight.before_images:,} | {weight.with_images:,} | {verdict} |"
        )
    lines.append(f"| budget | | | {BUDGET_BEFORE_IMAGES:,} | {BUDGET_WITH_IMAGES:,} | |")
    return "\n".join(lines)


@contextmanager
def demo_server():
    """The app on a temporary SQLite database with the demo data and photos."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from tourism import create_app
    from tourism.database import write_transactions
    from tourism.demo import seed_demo
    from tourism.demo.photos import seed_photos
    from tourism.extensions import db
    from tourism.timefmt import display_zone, local_today

    with tempfile.TemporaryDirectory(prefix="page-weight-") as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'demo.sqlite3'}",
                "SECRET_KEY": "page-weight",
                "RATELIMIT_ENABLED": False,
                "UPLOAD_DIR": str(Path(folder) / "uploads"),
                "MAIL_OUTBOX_DIR": str(Path(folder) / "outbox"),
            }
        )
        with app.app_context():
            with redirect_stderr(io.StringIO()):  # the migrations' log lines
                upgrade()
            with write_transactions():
                seed_demo(db.session, local_today(), display_zone(), history=False)
                seed_photos(db.session, app.config["UPLOAD_DIR"])
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            with app.app_context():
                db.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="measure a running server instead of the demo")
    parser.add_argument("--details", action="store_true", help="list every request")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for name in ("alembic", "werkzeug"):  # migrations and each request: not the point here
        logging.getLogger(name).setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        try:
            if args.base_url:
                weights = measure_pages(browser, args.base_url.rstrip("/"))
            else:
                with demo_server() as base_url:
                    weights = measure_pages(browser, base_url)
        finally:
            browser.close()

    print(table(weights))
    if args.details:
        for weight in weights:
            print(f"\n{weight.name} ({weight.url})")
            for kind, address, size in weight.requests:
                print(f"  {size:>9,}  {kind:<11} {address}")
    problems = [problem for weight in weights for problem in weight.over_budget()]
    for problem in problems:
        print("OVER BUDGET:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

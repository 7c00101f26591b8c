"""No page shows a taken seat as free, or a free seat as sold out, longer than the documented
bound (docs/RELIABILITY.md, "How stale a page can be"), on gunicorn with two workers, in every
encoding a browser asks for (br, gzip, identity):

- a sale (a commit) is shown by every page, worker and encoding as soon as it returns;
- a hold that lapses (no commit) is shown as a free seat at most ``RESPONSE_CACHE_SECONDS``
  after it lapsed, also in the compressed copies kept of a page rendered in the same
  generation.

With Redis (``TEST_REDIS_URL``) the workers share the response cache. Without a shared cache
the workers must not cache at all. Negative controls: the app with compressed bytes kept per
page (``bench/stale_compression_wsgi.py``) and workers that each keep their own in-process
cache must both be caught showing a stale seat.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests

from bench.gunicorn_harness import GunicornNode, node_environment
from tests.factories import Factories
from tests.routes.test_bookings import form_for
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import BookingStatus

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("TEST_REDIS_URL")
TTL = 2  # RESPONSE_CACHE_SECONDS of the nodes: the bound for a lapsed hold
HOLD_SECONDS = 8
ENCODINGS = ("br", "gzip", "identity")
FETCHES = 6  # per encoding and page: new connections, so both workers answer

NODE_SETTINGS = {
    "RATELIMIT_ENABLED": False,
    "WTF_CSRF_ENABLED": False,
    "OPEN_BOOKINGS_PER_EMAIL": 100,
    "OPEN_BOOKINGS_PER_ADDRESS": 100,
    "RESPONSE_CACHE_SECONDS": TTL,
}


def _redis_settings() -> dict:
    return {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": REDIS_URL}


@pytest.fixture
def shared_app(make_app):
    """The test's own app shares the nodes' cache, so its commits move their generation on
    as a command's would."""
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    app = make_app(RESPONSE_CACHE_SECONDS=TTL, **_redis_settings())
    with app.app_context():
        yield app


def _seen(base_url: str, slug: str, departure_id: int) -> Counter:
    """What pages show of the departure's seats, per (page, encoding): "free"/"sold out"."""
    seen: Counter = Counter()
    for encoding in ENCODINGS:
        for _ in range(FETCHES):
            headers = {"Accept-Encoding": encoding, "Accept-Language": "en"}
            page = requests.get(f"{base_url}/experiences/{slug}", headers=headers, timeout=30)
            api = requests.get(
                f"{base_url}/api/v1/experiences/{slug}/availability", headers=headers, timeout=30
            )
            assert page.status_code == api.status_code == 200
            sent = {page.headers.get("Content-Encoding"), api.headers.get("Content-Encoding")}
            assert sent <= ({encoding} if encoding != "identity" else {None}) | {None}
            html = page.text
            seen["page", encoding, "sold out" if "Sold out" in html else "free"] += 1
            seats = {d["id"]: d["seats_left"] for d in api.json()["departures"]}
            seen["api", encoding, "sold out" if seats[departure_id] == 0 else "free"] += 1
    return seen


def _only(seen: Counter, state: str) -> bool:
    return all(key[2] == state for key in seen)


def _scenario(app, node: GunicornNode) -> list[str]:
    """Sale, lapse and sale again; returns what was seen against the bound (empty: none)."""
    make = Factories(db.session)
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    departure = make.departure(experience, capacity=3, starts_in=timedelta(days=4))
    db.session.commit()
    slug, departure_id = experience.slug, departure.id
    problems: list[str] = []

    seen = _seen(node.base_url, slug, departure_id)  # every page cached, in every encoding
    if not _only(seen, "free"):
        problems.append(f"before any sale: {seen}")

    # A hold of every seat, committed (as the booking form would), lapsing in HOLD_SECONDS.
    hold = make.booking(
        departure,
        quantities={"adult": 3},
        status=BookingStatus.HELD,
        hold_expires_at=utcnow() + timedelta(seconds=HOLD_SECONDS),
    )
    db.session.commit()
    lapses_at = time.monotonic() + HOLD_SECONDS
    seen = _seen(node.base_url, slug, departure_id)
    if time.monotonic() < lapses_at and not _only(seen, "sold out"):
        problems.append(f"right after the hold's commit: {seen}")

    # The hold lapses without a commit: free at most TTL later (plus a second of slack).
    time.sleep(max(0.0, lapses_at - time.monotonic()) + TTL + 1)
    seen = _seen(node.base_url, slug, departure_id)
    if not _only(seen, "free"):
        problems.append(f"{TTL + 1} s after the hold lapsed: {seen}")

    # Sold over HTTP: every page shows it as soon as the booking's answer has come.
    db.session.delete(hold)
    db.session.commit()
    booked = requests.post(
        f"{node.base_url}/departures/{departure_id}/book",
        data=form_for(departure, **{f"qty_{experience.price_categories[1].id}": "0"})
        | {f"qty_{experience.price_categories[0].id}": "3", "special_needs": ""},
        allow_redirects=False,
        timeout=30,
    )
    assert booked.status_code == 303, booked.text[:500]
    seen = _seen(node.base_url, slug, departure_id)
    if not _only(seen, "sold out"):
        problems.append(f"right after the sale: {seen}")
    return problems


def _node(database_url, tmp_path, settings: dict, app: str = "wsgi:app") -> GunicornNode:
    env = node_environment(database_url, tmp_path, settings=NODE_SETTINGS | settings)
    return GunicornNode(env, tmp_path / "gunicorn.log", workers=2, app=app)


def test_pages_follow_sales_and_lapses_on_two_workers_sharing_redis(
    shared_app, database_url, tmp_path
):
    with _node(database_url, tmp_path, _redis_settings()) as node:
        problems = _scenario(shared_app, node)
    assert problems == []


def test_negative_control_compressed_bytes_kept_per_page_are_caught(
    shared_app, database_url, tmp_path
):
    with _node(
        database_url, tmp_path, _redis_settings(), app="bench.stale_compression_wsgi:app"
    ) as node:
        problems = _scenario(shared_app, node)
    print("negative control:", problems)
    assert problems, "stale compressed bytes went unnoticed: the test cannot fail"


@pytest.fixture
def local_app(make_app):
    app = make_app()
    with app.app_context():
        yield app


def test_workers_without_a_shared_cache_do_not_cache(local_app, database_url, tmp_path):
    """``make serve``: two workers, the default in-process cache. The response cache is off,
    so every page is fresh."""
    with _node(database_url, tmp_path, {"CACHE_TYPE": "SimpleCache"}) as node:
        problems = _scenario(local_app, node)
    assert problems == []


def test_negative_control_workers_with_their_own_caches_are_caught(
    local_app, database_url, tmp_path
):
    settings = {"CACHE_TYPE": "SimpleCache", "RESPONSE_CACHE_IN_PROCESS": True}
    with _node(database_url, tmp_path, settings) as node:
        problems = _scenario(local_app, node)
    print("negative control:", problems)
    assert problems, "workers with their own caches went unnoticed: the test cannot fail"

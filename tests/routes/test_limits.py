"""The limiter's before-request check runs only when a limit it checks is configured; the
limits decorated on views hold either way."""

from __future__ import annotations

import pytest

from tourism.extensions import limiter


def _checks_every_request(app) -> bool:
    return limiter._check_request_limit in app.before_request_funcs.get(None, [])


def test_the_idle_check_is_off_and_decorated_limits_still_hold(make_app):
    app = make_app(RATELIMIT_ENABLED=True, TOKEN_LOOKUP_RATE_LIMIT="2 per minute")
    assert not _checks_every_request(app)
    client = app.test_client()
    statuses = [client.get(f"/bookings/guess{n:040d}").status_code for n in range(3)]
    assert statuses == [404, 404, 429]
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5


@pytest.fixture
def default_limit(make_app):
    """An app with a default limit; the limiter is one object per process and keeps default
    limits once set, so they are taken away again after the test."""
    yield make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    limiter.limit_manager.set_default_limits([])


def test_a_default_limit_keeps_the_check_on_every_request(default_limit):
    # The control: with a default limit configured, the check must stay, and it limits.
    app = default_limit
    assert _checks_every_request(app)
    client = app.test_client()
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 429]


def test_a_limited_visitor_is_told_when_to_come_back(make_app):
    app = make_app(RATELIMIT_ENABLED=True, TOKEN_LOOKUP_RATE_LIMIT="1 per minute")
    client = app.test_client()
    client.get(f"/bookings/guess{0:040d}")
    refused = client.get(f"/bookings/guess{1:040d}")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    # The X-RateLimit headers are off by default (they cost Redis round trips).
    assert not any(name.startswith("X-RateLimit") for name in refused.headers.keys())

"""Redis unreachable (both the cache's and the rate limits' address at a closed port): every
page still answers, a booking that commits is answered as booked, the limits still apply from
each process's memory, /readyz says "degraded" and /healthz stays a cheap 200."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench.gunicorn_harness import free_port
from tests.conftest import _test_config
from tests.factories import PASSWORD, Factories
from tests.routes.test_bookings import EN, form_for
from tourism import create_app, response_cache
from tourism.extensions import db
from tourism.models import Booking


@pytest.fixture(scope="module")
def closed_port() -> int:
    return free_port()  # nothing listens there: connections are refused at once


def _down(closed_port: int, **overrides) -> dict:
    url = f"redis://127.0.0.1:{closed_port}/0"
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": url,
        "RATELIMIT_STORAGE_URI": url,
        "RATELIMIT_ENABLED": True,
        "RESPONSE_CACHE_SECONDS": 30,
        **overrides,
    }


@pytest.fixture
def app(make_app, closed_port):
    app = make_app(**_down(closed_port))
    with app.app_context():
        yield app


@pytest.fixture
def departure(app):
    make = Factories(db.session)
    departure = make.departure(make.experience(), capacity=6, starts_in=timedelta(days=3))
    db.session.commit()
    return departure


@pytest.fixture
def warnings_logged(app, caplog, monkeypatch):
    """The warnings of the cache and the limiter (migrating the test database disabled the
    loggers that existed then); the cache's once-a-minute note, already taken by the
    fixtures' commits, is due again."""
    for name in ("tourism.response_cache", "flask-limiter"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    app.extensions["response_cache_outage"].__init__()
    caplog.set_level(logging.WARNING)
    return caplog


def test_every_page_answers_and_a_booking_is_booked(app, departure, make, warnings_logged):
    client = app.test_client()
    slug = departure.experience.slug
    for url in ("/", f"/experiences/{slug}", f"/api/v1/experiences/{slug}/availability"):
        assert client.get(url, headers=EN).status_code == 200, url
    booked = client.post(f"/departures/{departure.id}/book", data=form_for(departure))
    assert booked.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    assert client.get(booked.headers["Location"]).status_code == 200
    user = make.user(password=PASSWORD)
    db.session.commit()
    signed_in = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert signed_in.status_code == 303
    logged = [record.getMessage() for record in warnings_logged.records]
    assert any("response cache store unreachable" in message for message in logged), logged
    assert any("Rate limit storage unreachable" in message for message in logged), logged


def test_limits_still_apply_from_memory(make_app, closed_port, departure):
    app = make_app(**_down(closed_port, BOOKING_RATE_LIMIT="2 per minute"))
    client = app.test_client()
    url = f"/departures/{departure.id}/book"
    codes = [client.post(url, data={"name": "x", "email": "bad"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_readiness_reports_redis_as_degraded(app, client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "unreachable",
        "rate_limits": "unreachable",
    }


def test_readiness_fails_when_the_database_is_down(closed_port, tmp_path):
    app = create_app(
        _test_config(f"postgresql+psycopg://nobody@127.0.0.1:{closed_port}/none")
        | {"UPLOAD_DIR": str(tmp_path)}
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # liveness: the process answers
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["database"] == "unreachable"


def test_control_with_redis_up_everything_is_ok(make_app):
    """The control: the same checks with a reachable store say "ok" (needs TEST_REDIS_URL)."""
    import os

    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    app = make_app(
        CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url, RATELIMIT_STORAGE_URI=url,
        RATELIMIT_ENABLED=True,
    )  # fmt: skip
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ok"


def test_a_failure_after_the_commit_never_turns_a_booking_into_an_error(
    app, departure, monkeypatch
):
    """Whatever the cache raises once the booking is committed, the answer is the booking."""
    calls = []

    def broken() -> str:
        calls.append(1)
        raise RuntimeError("the cache broke in a new way")

    monkeypatch.setattr(response_cache, "new_generation", broken)
    booked = app.test_client().post(f"/departures/{departure.id}/book", data=form_for(departure))
    assert calls, "the failure was never reached: the test proves nothing"
    assert booked.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1

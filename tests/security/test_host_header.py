"""Links never come from the request's Host header, and production answers only its own
host names: a forged Host can neither poison a cached answer nor reach a view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for

from tests.factories import Factories
from tourism.extensions import db

PUBLIC_URL = "https://reservas.chakraroutes.example"
EVIL = {"Host": "evil.example"}


@pytest.fixture
def app(make_app):
    app = make_app(PUBLIC_URL=PUBLIC_URL, RESPONSE_CACHE_SECONDS=30)
    with app.app_context():
        yield app


@pytest.fixture
def experience(app):
    make = Factories(db.session)
    experience = make.experience()
    make.departure(experience, capacity=8, starts_in=timedelta(days=3))
    db.session.commit()
    return experience


def _links(data) -> list[str]:
    return [d["book_url"] for d in data["departures"] if d["book_url"]]


def test_a_forged_host_never_reaches_links_or_the_cache(app, client, experience):
    url = f"/api/v1/experiences/{experience.slug}/availability"
    forged = client.get(url, headers=EVIL)
    assert forged.status_code == 200
    links = _links(forged.get_json())
    assert links and all(link.startswith(PUBLIC_URL + "/departures/") for link in links)
    # The next visitor is served from the cache the forged request filled: still our links.
    honest = client.get(url)
    assert _links(honest.get_json()) == links
    listing = client.get("/api/v1/experiences", headers=EVIL).get_json()
    assert all(entry["url"].startswith(PUBLIC_URL) for entry in listing["experiences"])
    page = client.get(f"/experiences/{experience.slug}", headers=EVIL).get_data(as_text=True)
    assert "evil.example" not in page


def test_negative_control_the_forged_host_does_reach_the_request(make_app):
    """Without the PUBLIC_URL helper the same request would build links on the forged host
    (production sets no SERVER_NAME)."""
    app = make_app(PUBLIC_URL=PUBLIC_URL, SERVER_NAME=None)
    with app.test_request_context("/", headers=EVIL):
        assert url_for("bookings.new", departure_id=9, _external=True).startswith(
            "http://evil.example/"
        )


@pytest.fixture
def production_app(make_app, database_url):
    return make_app(
        CHAKRA_ENV="production",
        SECRET_KEY="k" * 48,
        WTF_CSRF_ENABLED=True,
        PUBLIC_URL=PUBLIC_URL,
        ALLOWED_HOSTS=["internal.example", "localhost", "127.0.0.1"],
    )


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("reservas.chakraroutes.example", 200),
        ("internal.example", 200),
        ("localhost:8000", 200),
        ("127.0.0.1", 200),
        ("evil.example", 400),
        ("reservas.chakraroutes.example.evil.example", 400),
    ],
)
def test_production_answers_only_its_own_host_names(production_app, host, status):
    response = production_app.test_client().get("/healthz", headers={"Host": host})
    assert response.status_code == status


def test_development_answers_any_host(app, client):
    """The control: outside production the check is off (laptops, tests)."""
    assert app.config.get("TRUSTED_HOSTS") is None
    assert client.get("/healthz", headers=EVIL).status_code == 200

"""Pages found by a private token are rate limited per client address; a forged
X-Forwarded-For does not make new addresses."""

from __future__ import annotations

import pytest

from tests.factories import Factories
from tourism.extensions import db


@pytest.fixture
def app(make_app):
    app = make_app(RATELIMIT_ENABLED=True, TOKEN_LOOKUP_RATE_LIMIT="3 per minute")
    with app.app_context():
        yield app


@pytest.mark.parametrize(
    "path",
    [
        "/bookings/{token}",
        "/bookings/{token}/cancel",
        "/statements/families/{token}",
        "/guide/calendar/{token}.ics",
    ],
)
def test_guessing_private_links_is_limited(client, path):
    urls = [path.format(token=f"guess{n:040d}") for n in range(4)]
    statuses = [client.get(url).status_code for url in urls]
    assert statuses[:3] == [404, 404, 404]
    assert statuses[3] == 429


def test_a_forged_forwarded_for_does_not_reset_the_limit(client):
    statuses = [
        client.get(
            f"/bookings/guess{n:040d}", headers={"X-Forwarded-For": f"203.0.113.{n}"}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [404, 404, 404, 429]


def test_the_real_owner_of_a_link_is_served_within_the_limit(client):
    booking = Factories(db.session).booking()
    db.session.commit()
    assert client.get(f"/bookings/{booking.manage_token}").status_code == 200

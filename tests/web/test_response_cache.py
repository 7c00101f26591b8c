"""Anonymous catalog, experience and availability responses are cached, and any commit that
changes what they show (a hold, a cancelled departure, an edited title) is seen at once."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import Factories
from tests.routes.test_bookings import EN, ES, form_for
from tourism.extensions import db


@pytest.fixture
def app(make_app):
    app = make_app(RESPONSE_CACHE_SECONDS=60)
    with app.app_context():
        yield app


@pytest.fixture
def departure(app):
    make = Factories(db.session)
    experience = make.experience(prices={"adult": 4500, "child": 2500})
    departure = make.departure(experience, capacity=6)
    db.session.commit()
    return departure


def behind_the_orms_back(sql: str, **params) -> None:
    """A change no commit hook sees: what a cached page cannot know about."""
    db.session.commit()  # end the test session's read, so SQLite lets this write through
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_a_cached_page_is_served_until_a_commit_changes_it(client, departure):
    url = f"/experiences/{departure.experience.slug}"
    first = client.get(url, headers=EN).get_data(as_text=True)
    assert "6 seats left" in first
    behind_the_orms_back("UPDATE departures SET capacity = 5 WHERE id = :id", id=departure.id)
    assert client.get(url, headers=EN).get_data(as_text=True) == first  # from the cache

    booked = client.post(f"/departures/{departure.id}/book", data=form_for(departure))
    assert booked.status_code == 303  # three seats held: a commit on bookings
    after = client.get(url, headers=EN).get_data(as_text=True)
    assert "2 seats left" in after  # 5 (the silent change, now read) - 3 just booked


def test_each_language_has_its_own_copy(client, departure):
    url = f"/experiences/{departure.experience.slug}"
    english = client.get(url, headers=EN).get_data(as_text=True)
    spanish = client.get(url, headers=ES).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="es"' in spanish


def test_the_availability_json_follows_cancellations(client, departure):
    url = f"/api/v1/experiences/{departure.experience.slug}/availability"
    assert client.get(url).get_json()
    from tourism.models import DepartureStatus

    departure.status = DepartureStatus.CANCELLED
    db.session.commit()
    listed = {d["id"]: d["status"] for d in client.get(url).get_json()["departures"]}
    assert listed[departure.id] == "cancelled"


def test_signed_in_visitors_always_get_a_fresh_page(client, departure, make):
    from tests.routes.test_manage_access import login
    from tourism.models import Role

    url = f"/experiences/{departure.experience.slug}"
    client.get(url, headers=EN)
    behind_the_orms_back("UPDATE departures SET capacity = 4 WHERE id = :id", id=departure.id)
    login(client, make.user(memberships=[(departure.experience.association, Role.STAFF)]))
    assert "4 seats left" in client.get(url, headers=EN).get_data(as_text=True)


def test_caching_can_be_turned_off(make_app):
    app = make_app(RESPONSE_CACHE_SECONDS=0)
    with app.app_context():
        make = Factories(db.session)
        departure = make.departure(make.experience(), capacity=6)
        db.session.commit()
        client = app.test_client()
        url = f"/experiences/{departure.experience.slug}"
        client.get(url, headers=EN)
        behind_the_orms_back("UPDATE departures SET capacity = 4 WHERE id = :id", id=departure.id)
        assert "4 seats left" in client.get(url, headers=EN).get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "encoding"), [("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)]
)
def test_a_hit_is_compressed_as_the_browser_asks_and_follows_the_next_commit(
    client, departure, accept, encoding
):
    """Hits are compressed once per process and entry; a commit must still show at once."""
    import gzip

    import brotli

    def fetch() -> tuple[str, str | None]:
        response = client.get(url, headers={**EN, "Accept-Encoding": accept})
        data = response.get_data()
        if response.headers.get("Content-Encoding") == "br":
            data = brotli.decompress(data)
        elif response.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        assert "Accept-Encoding" in response.headers.get("Vary", "")
        return data.decode(), response.headers.get("Content-Encoding")

    url = f"/experiences/{departure.experience.slug}"
    miss, miss_encoding = fetch()
    hit, hit_encoding = fetch()
    assert hit == miss and hit_encoding == miss_encoding == encoding
    assert "6 seats left" in hit

    assert (
        client.post(f"/departures/{departure.id}/book", data=form_for(departure)).status_code == 303
    )
    fetch()  # shows the booking's flash message, so is not cached
    after, after_encoding = fetch()
    assert "3 seats left" in after and after_encoding == encoding
    assert fetch() == (after, encoding)

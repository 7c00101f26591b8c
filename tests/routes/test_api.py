"""The JSON API: experiences and availability, with clear errors for bad ranges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tourism.database import utcnow
from tourism.models import DepartureStatus
from tourism.timefmt import local


@pytest.fixture
def experience(make):
    experience = make.experience(prices={"adult": 4500, "child": 2500, "resident": 3000})
    full = make.departure(experience, capacity=2, starts_in=timedelta(days=2))
    make.booking(full, quantities={"adult": 2})
    make.departure(experience, capacity=8, starts_in=timedelta(days=3))
    make.departure(
        experience, capacity=8, starts_in=timedelta(days=4), status=DepartureStatus.CANCELLED
    )
    make.departure(experience, capacity=8, starts_in=timedelta(days=80))
    return experience


def test_experiences_lists_published_with_prices(client, experience):
    data = client.get("/api/v1/experiences").get_json()
    [entry] = data["experiences"]
    assert entry["slug"] == experience.slug
    assert entry["from_price"] == {"amount_cents": 2500, "currency": "USD"}
    assert entry["themes"] == ["cacao"]
    assert entry["next_departure"].endswith("-05:00")


def test_experiences_filters_and_bad_filters(client, experience):
    assert client.get("/api/v1/experiences?province=pastaza").get_json()["experiences"] == []
    response = client.get("/api/v1/experiences?max_price=cheap", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "max_price" in response.get_json()["error"]["fields"]


def test_availability_shows_seats_left_per_departure(client, experience):
    data = client.get(f"/api/v1/experiences/{experience.slug}/availability").get_json()
    assert [d["seats_left"] for d in data["departures"]] == [0, 8, 0]
    assert [d["status"] for d in data["departures"]] == ["scheduled", "scheduled", "cancelled"]
    assert data["departures"][0]["book_url"] is None
    assert data["departures"][1]["book_url"].endswith("/book")
    assert {p["code"]: p["amount_cents"] for p in data["prices"]} == {
        "adult": 4500,
        "child": 2500,
        "resident": 3000,
    }
    assert data["timezone"] == "America/Guayaquil"


def test_availability_range(client, experience):
    start = local(utcnow() + timedelta(days=70)).date()
    end = start + timedelta(days=20)
    url = f"/api/v1/experiences/{experience.slug}/availability?from={start}&to={end}"
    assert len(client.get(url).get_json()["departures"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-31",
        "to=9999-12-31",
        "from=0001-01-01&to=0001-01-02",
        "from=2027-01-01%00",
        "from=yesterday",
        "to=2026-13-01",
        "from=2027-01-10&to=2027-01-01",
        "from=2027-01-01&to=2027-12-31",
    ],
)
def test_availability_bad_ranges_are_400_in_the_visitors_language(client, experience, query):
    url = f"/api/v1/experiences/{experience.slug}/availability?{query}"
    english = client.get(url, headers={"Accept-Language": "en"})
    assert english.status_code == 400
    assert english.get_json()["error"]["message"]


def test_unknown_experience_is_404_json(client):
    response = client.get("/api/v1/experiences/nope/availability")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404

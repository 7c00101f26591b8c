"""The public pages: catalog with filters, an experience page, language choice, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tourism.database import utcnow
from tourism.demo import seed_demo
from tourism.models import DepartureStatus
from tourism.timefmt import display_zone, local_today

EN = {"Accept-Language": "en"}


@pytest.fixture
def demo(session, app):
    seed_demo(session, local_today(), display_zone(), history=False)
    session.commit()


def test_home_lists_experiences_of_several_associations(client, demo):
    html = client.get("/", headers=EN).get_data(as_text=True)
    for expected in ("Kallari", "Wiñak", "ASOPROMÁS", "Cacao Route", "Kujeñito"):
        assert expected in html
    assert "winak-draft-river-walk" not in html


def test_home_filters(client, demo):
    zamora = client.get("/?province=zamora_chinchipe", headers=EN).get_data(as_text=True)
    assert "Kujeñito" in zamora and "Kallari Cacao Route" not in zamora
    guayusa = client.get("/?theme=guayusa", headers=EN).get_data(as_text=True)
    assert "guayusa" in guayusa.lower() and "Kujeñito" not in guayusa
    cheap = client.get("/?max_price=12", headers=EN).get_data(as_text=True)
    assert "Kujeñito" not in cheap


@pytest.mark.parametrize(
    "query",
    [
        "?province=mars",
        "?theme=%3Cscript%3E",
        "?date=31-12-2026",
        "?date=2026-02-30",
        "?min_price=abc",
        "?max_price=-5",
        "?max_price=1e309",
        "?sort=random",
        "?min_price=" + "9" * 500,
        "?date=9999-12-31",
        "?date=0001-01-01",
        "?date=2019-05-01",
        "?province=napo%00",
        "?q=%00",
    ],
)
def test_odd_filters_are_400_never_500(client, demo, query):
    response = client.get("/" + query, headers=EN)
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)


def test_experience_page_shows_everything_a_visitor_needs(client, demo):
    html = client.get("/experiences/kallari-cacao-route", headers=EN).get_data(as_text=True)
    assert "Kallari Cacao Route" in html
    assert "Familia Demo" in html  # stops credit their host families
    assert "<ol" in html  # the itinerary, in order
    assert "Adult" in html and "$45.00" in html and "National resident" in html
    assert "full refund" in html  # the cancellation policy in words
    assert "seats left" in html or "Sold out" in html
    assert "/book" in html


def test_experience_page_availability_counts_seats(client, session, make):
    experience = make.experience()
    departure = make.departure(experience, capacity=7, starts_in=timedelta(days=2))
    make.booking(departure, quantities={"adult": 3})
    make.departure(experience, starts_in=timedelta(days=3), status=DepartureStatus.CANCELLED)
    make.departure(experience, starts_in=timedelta(days=45))  # beyond the 30-day view
    html = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    assert "4 seats left" in html
    assert "Cancelled" in html
    assert html.count("/book") == 1


def test_a_departure_within_the_booking_cutoff_offers_no_booking(client, make):
    """Bookings close an hour before a departure: its page says so instead of offering a
    Book button (whose form would only say it is closed) or the waiting list."""
    experience = make.experience()
    make.departure(experience, starts_in=timedelta(minutes=50))  # closed
    later = make.departure(experience, starts_in=timedelta(minutes=70))  # still open
    response = client.get(f"/experiences/{experience.slug}", headers=EN)
    html = response.get_data(as_text=True)
    assert html.count("Bookings closed") == 1
    assert html.count("10 seats left") == 1  # the open one's; a closed one offers no seats
    assert html.count("/book") == 1
    assert f"/departures/{later.id}/book" in html
    assert "/waitlist" not in html
    spanish = client.get(f"/experiences/{experience.slug}", headers={"Accept-Language": "es"})
    assert "Reservas cerradas" in spanish.get_data(as_text=True)
    api = client.get(f"/api/v1/experiences/{experience.slug}/availability").get_json()
    assert [d["book_url"] is not None for d in api["departures"]] == [False, True]


def test_the_catalog_names_the_next_departure_that_can_still_be_booked(client, make):
    experience = make.experience()
    make.departure(experience, starts_in=timedelta(minutes=30))
    bookable = make.departure(experience, starts_in=timedelta(days=2))
    [entry] = client.get("/api/v1/experiences").get_json()["experiences"]
    assert entry["next_departure"] == bookable.starts_at.astimezone(display_zone()).isoformat()


def test_the_date_filter_leaves_out_a_day_whose_departures_have_closed(client, make):
    experience = make.experience()
    closing = make.departure(experience, starts_in=timedelta(minutes=30))
    later = make.departure(experience, starts_in=timedelta(days=3))

    def listed(moment) -> list[str]:
        day = moment.astimezone(display_zone()).date().isoformat()
        found = client.get(f"/api/v1/experiences?date={day}").get_json()["experiences"]
        return [entry["slug"] for entry in found]

    assert listed(closing.starts_at) == []
    assert listed(later.starts_at) == [experience.slug]  # the control: the filter finds it


def test_unknown_experience_is_404_in_the_visitors_language(client):
    english = client.get("/experiences/nope", headers=EN)
    assert english.status_code == 404
    assert "could not find" in english.get_data(as_text=True)


def test_language_switch_sets_a_cookie_and_stays_on_site(client):
    response = client.get("/language/en?next=/experiences/x")
    assert response.status_code == 303
    assert response.headers["Location"] == "/experiences/x"
    assert "lang=en" in response.headers["Set-Cookie"]
    for evil in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:x"):
        assert client.get("/language/es", query_string={"next": evil}).headers["Location"] == "/"
    # A browser drops a tab or a line break inside an address: "/<tab>/evil.example" is
    # "//evil.example" to it, and a line break cannot be put in a header at all.
    for evil in ("/\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: a=b", "/\x7f"):
        response = client.get("/language/es", query_string={"next": evil})
        assert (response.status_code, response.headers["Location"]) == (303, "/"), repr(evil)
    assert client.get("/language/xx").status_code == 404


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("es-EC,en;q=0.5", "es"),
        ("es-EC;q=0.9,en;q=0.8", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("en;q=0.5,es-EC;q=0.9", "es"),
        ("en-GB", "en"),
        ("fr,de;q=0.9", "es"),
        ("es;q=0,en", "en"),
    ],
)
def test_the_browsers_first_language_wins_whatever_its_region(client, demo, header, lang):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in html


def test_cookie_beats_accept_language(client, demo):
    client.get("/language/en")
    html = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en"' in html


def test_spanish_is_the_default(client, demo):
    html = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="es"' in html


def test_method_not_allowed_and_huge_bodies_are_handled(client, make):
    departure = make.departure()
    assert client.post("/").status_code == 405
    big = client.post(f"/departures/{departure.id}/book", data={"name": "x" * (3 * 1024 * 1024)})
    assert big.status_code == 413


def test_departure_times_are_shown_in_guayaquil_time(client, session, make):
    experience = make.experience()
    starts = (utcnow() + timedelta(days=2)).replace(hour=13, minute=30, second=0, microsecond=0)
    make.departure(experience, starts_at=starts)
    html = client.get(f"/experiences/{experience.slug}", headers=EN).get_data(as_text=True)
    assert "8:30" in html  # 13:30 UTC is 08:30 in Guayaquil


@pytest.mark.parametrize("query", ["?min_price=%20", "?max_price=%09", "?min_price=+&max_price=+"])
def test_blank_prices_mean_no_price_filter(client, demo, query):
    # A price of only spaces passes Optional() and once reached the amount parser: a 500.
    response = client.get("/" + query, headers=EN)
    assert response.status_code == 200
    assert "Kujeñito" in response.get_data(as_text=True)

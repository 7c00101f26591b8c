"""A group's private departure is sold only through its quote: the catalog (next departure,
the date filter), the experience page, the availability API, the booking form, and the OCTO
products, availability and reservations never show or sell it. Each check also sees a
public departure of the same experience, so it would fail if nothing were listed at all."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests import octo_spec
from tests.routes.test_octo import Octo
from tourism.database import utcnow
from tourism.errors import NotFound
from tourism.extensions import db
from tourism.models import Booking, GroupRequest, RequesterKind
from tourism.services.booking import bookable
from tourism.services.catalog import search
from tourism.timefmt import display_zone, local


@pytest.fixture
def world(app, make):
    experience = make.experience(prices={"adult": 4500})
    public = make.departure(experience, capacity=8, starts_in=timedelta(days=6, hours=2))
    request = GroupRequest(
        association_id=experience.association_id,
        experience_id=experience.id,
        token="t" * 43,
        requester_kind=RequesterKind.SCHOOL,
        name="Escuela",
        email="escuela@example.org",
        language="es",
        group_size=20,
        date_from=utcnow().date(),
        date_to=utcnow().date(),
    )
    db.session.add(request)
    db.session.flush()
    # Sooner than the public one, at another local hour, on another day.
    private = make.departure(
        experience, capacity=20, starts_in=timedelta(days=3, hours=5), group_request_id=request.id
    )
    reseller, key = make.reseller(experiences=[experience], commission_bp=1_000)
    db.session.commit()
    return {"experience": experience, "public": public, "private": private, "key": key}


def test_the_catalog_and_its_date_filter_skip_it(world):
    experience, public, private = world["experience"], world["public"], world["private"]
    now, zone = utcnow(), display_zone()
    (entry,) = search.search_experiences(db.session, search.CatalogFilters(), now, zone)
    assert entry.next_departure == public.starts_at  # not the sooner private one
    on_private_day = search.CatalogFilters(on_date=local(private.starts_at).date())
    assert search.search_experiences(db.session, on_private_day, now, zone) == []
    on_public_day = search.CatalogFilters(on_date=local(public.starts_at).date())
    found = search.search_experiences(db.session, on_public_day, now, zone)
    assert [e.experience.id for e in found] == [experience.id]


def test_the_experience_page_and_the_api_skip_it(client, world):
    experience, public, private = world["experience"], world["public"], world["private"]
    html = client.get(f"/experiences/{experience.slug}").get_data(as_text=True)
    assert f"/departures/{public.id}/book" in html
    assert f"/departures/{private.id}/book" not in html
    first = local(utcnow()).date()
    answer = client.get(
        f"/api/v1/experiences/{experience.slug}/availability"
        f"?from={first.isoformat()}&to={(first + timedelta(days=10)).isoformat()}"
    ).get_json()
    assert [d["id"] for d in answer["departures"]] == [public.id]
    listed = client.get("/api/v1/experiences").get_json()
    (item,) = [e for e in listed["experiences"] if e["slug"] == experience.slug]
    assert datetime.fromisoformat(item["next_departure"]) == public.starts_at


def test_the_booking_form_and_the_hold_refuse_it(client, world):
    assert client.get(f"/departures/{world['private'].id}/book").status_code == 404
    assert client.get(f"/departures/{world['public'].id}/book").status_code == 200
    with pytest.raises(NotFound):
        bookable.published_departure(db.session, world["private"].id)
    with pytest.raises(NotFound):  # the read the form's POST and the hold share
        bookable.bookable_departure(db.session, world["private"].id)
    assert db.session.scalars(select(Booking)).all() == []


def test_octo_products_availability_and_reservations_skip_it(client, world):
    octo = Octo(client, world["key"])
    experience, public, private = world["experience"], world["public"], world["private"]
    product = octo.get("/products/{id}", f"/products/{experience.slug}")
    times = product["options"][0]["availabilityLocalStartTimes"]
    assert times == [local(public.starts_at).strftime("%H:%M")]
    first = local(utcnow()).date()
    slots = octo.post(
        "/availability",
        {
            "productId": experience.slug,
            "optionId": "DEFAULT",
            "localDateStart": first.isoformat(),
            "localDateEnd": (first + timedelta(days=10)).isoformat(),
        },
    )
    assert [slot["id"] for slot in slots] == [str(public.id)]
    refused = client.post(
        "/octo/bookings",
        json={
            "productId": experience.slug,
            "optionId": "DEFAULT",
            "availabilityId": str(private.id),
            "unitItems": [{"unitId": "adult"}],
        },
        headers=octo.headers(),
    )
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "INVALID_AVAILABILITY_ID"
    octo_spec.check("/bookings", "POST", refused)
    assert db.session.scalars(select(Booking)).all() == []

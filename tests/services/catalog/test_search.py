"""Finding experiences: only published ones, filtered and sorted as asked."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tourism.database import utcnow
from tourism.errors import NotFound
from tourism.models import DepartureStatus, ExperienceStatus
from tourism.services.catalog.search import (
    CatalogFilters,
    get_published_experience,
    search_experiences,
)

GYE = ZoneInfo("America/Guayaquil")


@pytest.fixture
def catalog(make):
    napo = make.association(province="napo")
    zamora = make.association(province="zamora_chinchipe")
    cacao = make.experience(napo, prices={"adult": 4500, "child": 2500}, themes=("cacao", "chakra"))
    guayusa = make.experience(napo, prices={"adult": 3800}, themes=("guayusa",))
    plant = make.experience(zamora, prices={"adult": 3000}, themes=("cacao", "crafts"))
    make.experience(napo, status=ExperienceStatus.DRAFT)
    make.departure(cacao, starts_in=timedelta(days=2))
    make.departure(guayusa, starts_in=timedelta(days=1))
    make.departure(plant, starts_in=timedelta(days=9))
    return {"cacao": cacao, "guayusa": guayusa, "plant": plant}


def slugs(session, **filters):
    found = search_experiences(session, CatalogFilters(**filters), utcnow(), GYE)
    return [entry.experience.slug for entry in found]


def test_only_published_experiences_are_listed(session, catalog):
    assert sorted(slugs(session)) == sorted(e.slug for e in catalog.values())


def test_filter_by_province_and_theme(session, catalog):
    assert slugs(session, province="zamora_chinchipe") == [catalog["plant"].slug]
    assert sorted(slugs(session, theme="cacao")) == sorted(
        [catalog["cacao"].slug, catalog["plant"].slug]
    )
    assert slugs(session, province="napo", theme="guayusa") == [catalog["guayusa"].slug]
    assert slugs(session, theme="nonexistent") == []


def test_filter_by_price_uses_the_cheapest_ticket(session, catalog):
    assert slugs(session, max_price_cents=2500) == [catalog["cacao"].slug]
    assert sorted(slugs(session, min_price_cents=3000, max_price_cents=3800)) == sorted(
        [catalog["guayusa"].slug, catalog["plant"].slug]
    )


def test_sorting(session, catalog):
    assert slugs(session, sort="soonest") == [
        catalog[k].slug for k in ("guayusa", "cacao", "plant")
    ]
    assert slugs(session, sort="price_asc") == [
        catalog[k].slug for k in ("cacao", "plant", "guayusa")
    ]
    assert slugs(session, sort="price_desc") == [
        catalog[k].slug for k in ("guayusa", "plant", "cacao")
    ]


def test_date_filter_needs_free_seats_that_local_day(session, make):
    experience = make.experience()
    day = (utcnow() + timedelta(days=4)).astimezone(GYE).date()
    # 22:00 local is already the next day in UTC: the filter must use the local day.
    late = datetime.combine(day, time(22, 0), tzinfo=GYE).astimezone(UTC)
    departure = make.departure(experience, capacity=2, starts_at=late)
    assert slugs(session, on_date=day) == [experience.slug]
    assert slugs(session, on_date=day + timedelta(days=1)) == []
    make.booking(departure, quantities={"adult": 2})
    assert slugs(session, on_date=day) == []
    departure.status = DepartureStatus.CANCELLED
    assert slugs(session, on_date=day) == []


def test_get_published_experience(session, catalog, make):
    assert get_published_experience(session, catalog["cacao"].slug) is catalog["cacao"]
    draft = make.experience(status=ExperienceStatus.DRAFT)
    for slug in (draft.slug, "nope", ""):
        with pytest.raises(NotFound):
            get_published_experience(session, slug)


def test_text_falls_back_to_spanish(make):
    experience = make.experience()
    assert experience.text("en").locale == "en"
    assert experience.text("qu").locale == "es"

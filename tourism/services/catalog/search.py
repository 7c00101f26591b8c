"""Finding published experiences: filters, sorting, and the facts a catalog card shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ...errors import NotFound
from ...models import (
    Departure,
    DepartureStatus,
    Experience,
    ExperienceStatus,
    ExperienceTheme,
    PriceCategory,
    Stop,
)
from ..booking import availability


@dataclass(frozen=True)
class CatalogFilters:
    province: str | None = None
    theme: str | None = None
    #: Local date on which the visitor wants to go; only experiences with seats that day.
    on_date: date | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    sort: str = "soonest"
    locale: str = "es"


@dataclass(frozen=True)
class CatalogEntry:
    experience: Experience
    from_price_cents: int | None
    next_departure: datetime | None


def _with_details(statement):
    return statement.options(
        selectinload(Experience.texts),
        selectinload(Experience.themes),
        selectinload(Experience.price_categories),
        selectinload(Experience.association),
    )


def search_experiences(
    session: Session, filters: CatalogFilters, now: datetime, zone: ZoneInfo
) -> list[CatalogEntry]:
    """Published experiences matching ``filters``, sorted as asked."""
    from_price = (
        select(PriceCategory.experience_id, func.min(PriceCategory.price_cents).label("price"))
        .where(PriceCategory.is_active.is_(True))
        .group_by(PriceCategory.experience_id)
        .subquery()
    )
    next_departure = (
        select(Departure.experience_id, func.min(Departure.starts_at).label("starts_at"))
        .where(
            Departure.status == DepartureStatus.SCHEDULED,
            # The next one that can still be booked (not within the booking cutoff).
            Departure.starts_at > now + availability.DEFAULT_CUTOFF,
            Departure.group_request_id.is_(None),  # a group's private departure
        )
        .group_by(Departure.experience_id)
        .subquery()
    )
    statement = (
        select(Experience, from_price.c.price, next_departure.c.starts_at)
        .outerjoin(from_price, from_price.c.experience_id == Experience.id)
        .outerjoin(next_departure, next_departure.c.experience_id == Experience.id)
        .where(Experience.status == ExperienceStatus.PUBLISHED)
    )
    if filters.province:
        statement = statement.where(Experience.province == filters.province)
    if filters.theme:
        statement = statement.where(
            Experience.id.in_(
                select(ExperienceTheme.experience_id).where(ExperienceTheme.theme == filters.theme)
            )
        )
    if filters.min_price_cents is not None:
        statement = statement.where(from_price.c.price >= filters.min_price_cents)
    if filters.max_price_cents is not None:
        statement = statement.where(from_price.c.price <= filters.max_price_cents)
    if filters.on_date is not None:
        statement = statement.where(
            Experience.id.in_(_experiences_with_seats_on(session, filters.on_date, now, zone))
        )
    rows = session.execute(_with_details(statement)).all()
    entries = [CatalogEntry(exp, price, starts) for exp, price, starts in rows]
    return _sorted(entries, filters.sort, filters.locale)


def _experiences_with_seats_on(
    session: Session, day: date, now: datetime, zone: ZoneInfo
) -> list[int]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = start + timedelta(days=1)
    departures = (
        session.execute(
            select(Departure).where(
                Departure.status == DepartureStatus.SCHEDULED,
                Departure.starts_at >= max(start, now + availability.DEFAULT_CUTOFF),
                Departure.starts_at < end,
                Departure.group_request_id.is_(None),
            )
        )
        .scalars()
        .all()
    )
    taken = availability.seats_taken(session, [d.id for d in departures], now)
    return sorted({d.experience_id for d in departures if d.capacity > taken[d.id]})


def _sorted(entries: list[CatalogEntry], sort: str, locale: str) -> list[CatalogEntry]:
    far_future = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
    no_price = 10**15

    def title(entry: CatalogEntry) -> str:
        text = entry.experience.text(locale)
        return (text.title if text else entry.experience.slug).casefold()

    keys = {
        "price_asc": lambda e: (
            e.from_price_cents if e.from_price_cents is not None else no_price,
            title(e),
        ),
        "price_desc": lambda e: (-(e.from_price_cents or 0), title(e)),
        "name": title,
        "soonest": lambda e: (e.next_departure or far_future, title(e)),
    }
    return sorted(entries, key=keys.get(sort, keys["soonest"]))


def get_published_experience(session: Session, slug: str) -> Experience:
    """The published experience with this slug, with everything its page shows."""
    experience = session.execute(
        _with_details(select(Experience))
        .options(selectinload(Experience.stops).selectinload(Stop.texts))
        .options(selectinload(Experience.stops).selectinload(Stop.family))
        .where(Experience.slug == slug, Experience.status == ExperienceStatus.PUBLISHED)
    ).scalar_one_or_none()
    if experience is None:
        raise NotFound()
    return experience

"""Putting a route together: its legs, the associations' approvals, publishing."""

from __future__ import annotations

from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ...errors import InvalidRequest, NotFound
from ...models import (
    Association,
    Experience,
    ExperienceStatus,
    Family,
    Homestay,
    LegKind,
    ParticipationStatus,
    Route,
    RouteLeg,
    RouteParticipation,
    Stop,
    User,
)
from . import shape

#: The longest route we sell, in days.
MAX_DAYS = 14


def participation(session: Session, route: Route, association: Association) -> RouteParticipation:
    """The association's participation row in the route, created pending when missing."""
    for row in route.participations:
        if row.association_id == association.id:
            return row
    row = RouteParticipation(route=route, association_id=association.id)
    session.add(row)
    session.flush()
    return row


def decide_participation(
    session: Session,
    route: Route,
    association: Association,
    approve: bool,
    user: User | None,
    now: datetime,
) -> RouteParticipation:
    """Record the association's answer: approved lets its legs be sold in this route;
    declined (or never answered) stops the route being sold."""
    row = participation(session, route, association)
    row.status = ParticipationStatus.APPROVED if approve else ParticipationStatus.DECLINED
    row.decided_by_id = user.id if user is not None else None
    row.decided_at = now
    session.flush()
    return row


def _check_day(day: int) -> None:
    if not isinstance(day, int) or not 1 <= day <= MAX_DAYS:
        raise InvalidRequest(_l("A route's days are numbered from 1 to %(days)s."), days=MAX_DAYS)


def add_experience_leg(
    session: Session, route: Route, experience: Experience, day: int, start_time: time
) -> RouteLeg:
    """Add the departure of ``experience`` at local ``start_time`` on ``day`` as the next
    leg; its association is asked to take part (pending until it approves)."""
    _check_day(day)
    leg = RouteLeg(
        route=route,
        position=len(route.legs),
        day=day,
        kind=LegKind.EXPERIENCE,
        experience=experience,
        start_time=start_time,
    )
    session.add(leg)
    participation(session, route, experience.association)
    session.flush()
    return leg


def add_homestay_leg(session: Session, route: Route, homestay: Homestay, day: int) -> RouteLeg:
    """Add the night of ``day`` at ``homestay`` as the next leg."""
    _check_day(day)
    leg = RouteLeg(
        route=route, position=len(route.legs), day=day, kind=LegKind.HOMESTAY, homestay=homestay
    )
    session.add(leg)
    participation(session, route, homestay.family.association)
    session.flush()
    return leg


def publish_route(session: Session, route: Route) -> Route:
    """Publish a route whose shape holds (see ``shape.check_route``), or raise."""
    shape.check_route(route)
    route.status = ExperienceStatus.PUBLISHED
    session.flush()
    return route


def published_routes(session: Session) -> list[Route]:
    """Every published route, by slug."""
    return list(
        session.scalars(
            select(Route).where(Route.status == ExperienceStatus.PUBLISHED).order_by(Route.slug)
        )
    )


#: What a route's pages read, loaded in a few queries rather than one per leg and stop.
ROUTE_PAGE = (
    joinedload(Route.curator),
    selectinload(Route.texts),
    selectinload(Route.extras),
    selectinload(Route.participations).joinedload(RouteParticipation.association),
    selectinload(Route.legs).options(
        joinedload(RouteLeg.experience).options(
            joinedload(Experience.association),
            selectinload(Experience.texts),
            selectinload(Experience.price_categories),
            selectinload(Experience.stops).selectinload(Stop.texts),
        ),
        joinedload(RouteLeg.homestay).options(
            joinedload(Homestay.family).joinedload(Family.association),
            selectinload(Homestay.blackouts),
        ),
    ),
)


#: What booking a route reads (its shape, prices, nights, extras), in a few queries: a hold
#: would otherwise load every leg's experience, association, family and blackouts one by
#: one (bench/route_hold.py).
ROUTE_BOOKING = (
    selectinload(Route.participations),
    selectinload(Route.extras),
    selectinload(Route.legs).options(
        joinedload(RouteLeg.experience).options(
            joinedload(Experience.association), selectinload(Experience.price_categories)
        ),
        joinedload(RouteLeg.homestay).options(
            joinedload(Homestay.family).joinedload(Family.association),
            selectinload(Homestay.blackouts),
        ),
    ),
)


def published_route_by_slug(session: Session, slug: str) -> Route:
    route = session.scalar(
        select(Route)
        .where(Route.slug == slug, Route.status == ExperienceStatus.PUBLISHED)
        .options(*ROUTE_PAGE)
    )
    if route is None:
        raise NotFound(_l("This route does not exist."))
    return route

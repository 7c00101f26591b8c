"""Composing a route from the management pages: its texts, fee and policy, its legs added,
removed and moved one at a time, publishing and withdrawing it, and the answers of the
associations asked to take part.

Every change is checked before anything is written; a refused change raises a translated
``InvalidRequest`` and leaves the route as it was. The legs of a route can change only
while it is a draft and nobody has booked it (a booking points at its legs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ...errors import IllegalTransition, InvalidRequest, NotFound
from ...models import (
    Association,
    Experience,
    ExperienceStatus,
    Homestay,
    LegKind,
    ParticipationStatus,
    Route,
    RouteBooking,
    RouteLeg,
    RouteParticipation,
    RouteText,
    User,
)
from ..catalog.experience_input import _validate_policy, whole
from . import curation, shape

SLUG_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: The curator's fee per person, at most (cents).
MAX_FEE_CENTS = 100_000_00
MAX_PEOPLE = 50
LOCALES = ("es", "en")


@dataclass(frozen=True)
class RouteInput:
    slug: str
    #: locale -> (title, summary, description); Spanish is required.
    texts: dict[str, tuple[str, str, str]]
    curator_fee_cents: int
    max_people_per_booking: int
    #: (hours before, percent refunded) tiers.
    policy: tuple[tuple[int, int], ...] = ()


class RouteLocked(InvalidRequest):
    default_message = _l(
        "The legs of a published or booked route cannot change: withdraw it first "
        "(a route with bookings keeps its legs)."
    )


class LegOutOfOrder(InvalidRequest):
    default_message = _l(
        "Add the legs in the order of the days: this leg's day is before the last leg's."
    )


class LegCannotMove(InvalidRequest):
    default_message = _l("A leg moves only among the legs of its own day, and a night stays last.")


class NotOnSale(InvalidRequest):
    default_message = _l("Only a published experience or an active homestay can be a leg.")


class RouteNotListed(IllegalTransition):
    default_message = _l("This route is not on sale: there is nothing to withdraw.")


class AssociationDeclined(InvalidRequest):
    default_message = _l(
        "%(association)s declined taking part in this route, so its legs cannot be added."
    )


def _validate(session: Session, data: RouteInput, route: Route | None) -> None:
    if not SLUG_SHAPE.fullmatch(data.slug or "") or len(data.slug) > 80:
        raise InvalidRequest(
            _l("Write a web address of lowercase letters, digits and hyphens, like cacao-route.")
        )
    taken = session.scalar(select(Route.id).where(Route.slug == data.slug))
    if taken is not None and (route is None or taken != route.id):
        raise InvalidRequest(_l("Another route already has this web address."))
    title_es = (data.texts.get("es") or ("", "", ""))[0].strip()
    if not title_es:
        raise InvalidRequest(_l("A route needs a Spanish title."))
    whole(data.curator_fee_cents, 0, MAX_FEE_CENTS, _l("Write a fee of zero or more."))
    whole(
        data.max_people_per_booking,
        1,
        MAX_PEOPLE,
        _l("Most people per booking: a number from 1 to %(num)s.", num=MAX_PEOPLE),
    )
    _validate_policy(data.policy)


def _apply(route: Route, data: RouteInput) -> None:
    route.slug = data.slug
    route.curator_fee_cents = data.curator_fee_cents
    route.max_people_per_booking = data.max_people_per_booking
    route.cancellation_policy = [
        {"hours": hours, "percent": percent} for hours, percent in sorted(data.policy, reverse=True)
    ]
    by_locale = {t.locale: t for t in route.texts}
    for locale in LOCALES:
        title, summary, description = (s.strip() for s in data.texts.get(locale, ("", "", "")))
        text = by_locale.get(locale)
        if not title:
            if text is not None and locale != "es":
                route.texts.remove(text)
            continue
        if text is None:
            text = RouteText(locale=locale, title=title)
            route.texts.append(text)
        text.title, text.summary, text.description = title, summary, description


def create_route(session: Session, curator: Association | None, data: RouteInput) -> Route:
    """A new draft route curated by ``curator`` (the platform when None)."""
    _validate(session, data, None)
    route = Route(curator_association_id=curator.id if curator else None)
    route.texts = []
    _apply(route, data)
    session.add(route)
    session.flush()
    return route


def update_route(session: Session, route: Route, data: RouteInput) -> Route:
    """New texts, fee, size and policy; the legs stay. A published route's fee and policy
    apply to bookings made from now on."""
    _validate(session, data, route)
    _apply(route, data)
    session.flush()
    return route


def curated_routes(session: Session, curator: Association | None) -> list[Route]:
    """The routes ``curator`` put together (the platform's when None), by slug."""
    where = (
        Route.curator_association_id.is_(None)
        if curator is None
        else Route.curator_association_id == curator.id
    )
    return list(session.scalars(select(Route).where(where).order_by(Route.slug)))


def requests_to(session: Session, association: Association) -> list[RouteParticipation]:
    """The association's participation in routes others curate, pending ones first."""
    rows = session.scalars(
        select(RouteParticipation)
        .join(Route, Route.id == RouteParticipation.route_id)
        .where(
            RouteParticipation.association_id == association.id,
            (Route.curator_association_id.is_(None))
            | (Route.curator_association_id != association.id),
        )
        .order_by(Route.slug)
    )
    order = {ParticipationStatus.PENDING: 0, ParticipationStatus.APPROVED: 1}
    return sorted(rows, key=lambda row: order.get(row.status, 2))


def decide(
    session: Session,
    association: Association,
    route_id: int,
    approve: bool,
    user: User | None,
    now: datetime,
) -> RouteParticipation:
    """The association's answer to a route that asked it to take part (NotFound when it was
    never asked)."""
    row = session.scalar(
        select(RouteParticipation).where(
            RouteParticipation.route_id == route_id,
            RouteParticipation.association_id == association.id,
        )
    )
    if row is None:
        raise NotFound()
    return curation.decide_participation(session, row.route, association, approve, user, now)


def is_booked(session: Session, route: Route) -> bool:
    return bool(session.scalar(select(exists().where(RouteBooking.route_id == route.id))))


def _editable(session: Session, route: Route) -> None:
    if route.status != ExperienceStatus.DRAFT or is_booked(session, route):
        raise RouteLocked()


def _check_new_leg_day(route: Route, day: int) -> None:
    curation._check_day(day)
    if route.legs and day < route.legs[-1].day:
        raise LegOutOfOrder()
    # A night is the last thing of its day: nothing comes after it on the same day.
    if any(leg.kind == LegKind.HOMESTAY and leg.day == day for leg in route.legs):
        raise shape.NightsDoNotJoinUp()


def _check_association(route: Route, association: Association) -> None:
    for row in route.participations:
        if row.association_id == association.id and row.status == ParticipationStatus.DECLINED:
            raise AssociationDeclined(association=association.name)


def _curator_approves(session: Session, route: Route, association: Association, user, now):
    """The curator's own experiences and homestays need no request: it is building the route."""
    if route.curator_association_id == association.id:
        row = curation.participation(session, route, association)
        if row.status == ParticipationStatus.PENDING:
            curation.decide_participation(session, route, association, True, user, now)


def add_activity(
    session: Session,
    route: Route,
    experience: Experience,
    day: int,
    start_time: time,
    user: User | None,
    now: datetime,
) -> RouteLeg:
    """The departure of ``experience`` at local ``start_time`` on ``day`` as the last leg;
    refused when it would overlap another activity, come before the last leg's day or after
    that day's night, or belong to an association that declined."""
    _editable(session, route)
    if experience.status != ExperienceStatus.PUBLISHED:
        raise NotOnSale()
    _check_new_leg_day(route, day)
    _check_association(route, experience.association)
    probe = SimpleNamespace(
        day=day, kind=LegKind.EXPERIENCE, experience=experience, start_time=start_time
    )
    intervals = shape.pattern_intervals(route)
    intervals += shape.pattern_intervals(SimpleNamespace(legs=[probe]))
    shape.check_overlaps(intervals)
    leg = curation.add_experience_leg(session, route, experience, day, start_time)
    _curator_approves(session, route, experience.association, user, now)
    return leg


def add_night(
    session: Session, route: Route, homestay: Homestay, day: int, user: User | None, now: datetime
) -> RouteLeg:
    """The night of ``day`` at ``homestay`` as the last leg (one night a day, the last thing
    of its day)."""
    _editable(session, route)
    if not homestay.is_active:
        raise NotOnSale()
    _check_new_leg_day(route, day)
    association = homestay.family.association
    _check_association(route, association)
    leg = curation.add_homestay_leg(session, route, homestay, day)
    _curator_approves(session, route, association, user, now)
    return leg


def _leg_of(route: Route, leg_id: int) -> RouteLeg:
    for leg in route.legs:
        if leg.id == leg_id:
            return leg
    raise NotFound()


def _renumber(session: Session, route: Route, ordered: list[RouteLeg]) -> None:
    """Give ``ordered`` positions 0, 1, … without breaking the (route, position) unique key
    on the way: every leg goes to a free negative number first."""
    for index, leg in enumerate(ordered):
        leg.position = -1 - index
    session.flush()
    for index, leg in enumerate(ordered):
        leg.position = index
    session.flush()
    session.expire(route, ["legs"])


def remove_leg(session: Session, route: Route, leg_id: int) -> None:
    """Take a leg out; an association left with no leg is no longer asked to take part."""
    _editable(session, route)
    leg = _leg_of(route, leg_id)
    association_id = shape.leg_association(leg).id
    remaining = [other for other in route.legs if other is not leg]
    route.legs.remove(leg)
    session.flush()
    if all(shape.leg_association(other).id != association_id for other in remaining):
        for row in list(route.participations):
            if row.association_id == association_id:
                route.participations.remove(row)
    _renumber(session, route, remaining)


def move_leg(session: Session, route: Route, leg_id: int, up: bool) -> None:
    """Swap a leg with the one before (``up``) or after it, within its day; refused when
    that would put a night before an activity of its day."""
    _editable(session, route)
    legs = list(route.legs)
    leg = _leg_of(route, leg_id)
    index = legs.index(leg)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(legs) or legs[other].day != leg.day:
        raise LegCannotMove()
    legs[index], legs[other] = legs[other], legs[index]
    if any(
        a.kind == LegKind.HOMESTAY and a.day == b.day for a, b in zip(legs, legs[1:], strict=False)
    ):
        raise LegCannotMove()
    _renumber(session, route, legs)


def publish(session: Session, route: Route) -> Route:
    """Publish the route once its shape holds (every association approved, the nights join
    the days, no overlaps)."""
    return curation.publish_route(session, route)


def withdraw(session: Session, route: Route) -> Route:
    """Back to draft: no longer listed or sold; existing bookings stand."""
    if route.status != ExperienceStatus.PUBLISHED:
        raise RouteNotListed()
    route.status = ExperienceStatus.DRAFT
    session.flush()
    return route

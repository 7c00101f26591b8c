"""What makes a route sellable at all, whatever the date: every association taking part
approved it, the nights join the days up, and no two legs overlap."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l

from ...errors import InvalidRequest
from ...models import LegKind, ParticipationStatus, Route, RouteLeg


class RouteNotApproved(InvalidRequest):
    default_message = _l(
        "%(association)s has not approved taking part in this route, so it cannot be sold."
    )


class NightsDoNotJoinUp(InvalidRequest):
    default_message = _l(
        "The nights of this route do not join its days up: every day but the last needs "
        "exactly one homestay night, and the last day an activity."
    )


class LegsOverlap(InvalidRequest):
    default_message = _l("Two activities of this route overlap in time.")


class EmptyRoute(InvalidRequest):
    default_message = _l("This route has no activities yet.")


def approved_association_ids(route: Route) -> set[int]:
    return {
        p.association_id for p in route.participations if p.status == ParticipationStatus.APPROVED
    }


def leg_association(leg: RouteLeg):
    if leg.kind == LegKind.EXPERIENCE:
        return leg.experience.association
    return leg.homestay.family.association


def check_participation(route: Route) -> None:
    """Raise unless every association with a leg approved taking part."""
    approved = approved_association_ids(route)
    for leg in route.legs:
        association = leg_association(leg)
        if association.id not in approved:
            raise RouteNotApproved(association=association.name)


def check_nights(route: Route) -> None:
    """The homestay nights are exactly the nights between the days, one each, and the route
    ends with an activity on its last day."""
    if not route.legs:
        raise EmptyRoute()
    nights = [leg.day for leg in route.legs if leg.kind == LegKind.HOMESTAY]
    activity_days = {leg.day for leg in route.legs if leg.kind == LegKind.EXPERIENCE}
    last = max(leg.day for leg in route.legs)
    if sorted(nights) != list(range(1, last)) or last not in activity_days:
        raise NightsDoNotJoinUp()
    days_in_order = [leg.day for leg in sorted(route.legs, key=lambda leg: leg.position)]
    if days_in_order != sorted(days_in_order):
        raise NightsDoNotJoinUp()
    for leg in route.legs:
        # A night is the last thing of its day.
        later_same_day = [
            other for other in route.legs if other.day == leg.day and other.position > leg.position
        ]
        if leg.kind == LegKind.HOMESTAY and later_same_day:
            raise NightsDoNotJoinUp()


def check_overlaps(intervals: list[tuple[datetime, datetime]]) -> None:
    """Raise when two ``[start, end)`` intervals overlap."""
    ordered = sorted(intervals)
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < end:
            raise LegsOverlap()


def pattern_intervals(route: Route) -> list[tuple[datetime, datetime]]:
    """The experience legs as intervals on a nominal calendar (day 1 = 2000-01-01), from
    their start times and the experiences' durations: overlaps independent of the date."""
    day_one = date(2000, 1, 1)
    intervals = []
    for leg in route.legs:
        if leg.kind != LegKind.EXPERIENCE:
            continue
        start = datetime.combine(day_one + timedelta(days=leg.day - 1), leg.start_time)
        intervals.append((start, start + timedelta(minutes=leg.experience.duration_minutes)))
    return intervals


def check_route(route: Route) -> None:
    """Every rule that does not depend on the date; raises the first one broken."""
    check_nights(route)
    check_participation(route)
    check_overlaps(pattern_intervals(route))

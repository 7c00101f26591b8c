"""Finding routes: the published routes with their price per person, filtered by number of
days, community and price, each loaded in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Association, ExperienceStatus, Route
from . import curation, settlement


@dataclass(frozen=True)
class RouteFilters:
    #: Exactly this many days.
    days: int | None = None
    #: An association (by slug) with a leg in the route or curating it.
    community: str | None = None
    #: One person's price (every leg, every night and the curator's fee) at most this.
    max_price_cents: int | None = None


def person_price_cents(route: Route) -> int:
    """One person's price of the route without extras: what its page lists line by line."""
    return sum(share.cents for share in settlement.per_person_shares(route))


def communities(route: Route) -> list[Association]:
    """The associations of a route, curator first when it has one, then in visiting order."""
    found: dict[int, Association] = {}
    if route.curator is not None:
        found[route.curator.id] = route.curator
    for participation in route.participations:
        found.setdefault(participation.association_id, participation.association)
    return list(found.values())


def published(session: Session) -> list[Route]:
    """Every published route with what its card and price need, by slug."""
    return list(
        session.scalars(
            select(Route)
            .where(Route.status == ExperienceStatus.PUBLISHED)
            .options(*curation.ROUTE_PAGE)
            .order_by(Route.slug)
        ).unique()
    )


def find_routes(session: Session, filters: RouteFilters) -> list[Route]:
    """The published routes that pass ``filters``."""
    return matching(published(session), filters)


def matching(routes: list[Route], filters: RouteFilters) -> list[Route]:
    """The ``routes`` that pass ``filters`` (there are few routes: filtered here)."""
    found = []
    for route in routes:
        if filters.days is not None and route.days != filters.days:
            continue
        if filters.community and filters.community not in {a.slug for a in communities(route)}:
            continue
        if filters.max_price_cents is not None and person_price_cents(route) > (
            filters.max_price_cents
        ):
            continue
        found.append(route)
    return found


def community_choices(routes: list[Route]) -> list[tuple[str, str]]:
    """(slug, name) of every association in ``routes``, by name."""
    seen = {a.slug: a.name for route in routes for a in communities(route)}
    return sorted(seen.items(), key=lambda item: item[1])

"""A route as visitors read it: days, what happens each day, and the map of its places.

The map is drawn on the server as plain SVG from the coordinates of the stops and homestays
(no tiles, no script): an equirectangular projection, scaled by the cosine of the middle
latitude so distances look right at the equator's latitudes, fitted into a fixed view box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from ...models import LegKind, Route, RouteLeg

#: The map's view box; the page scales it to the screen (``width: 100%``).
MAP_WIDTH = 640
MAP_HEIGHT = 400
MAP_MARGIN = 36


@dataclass
class Place:
    """One point on the map: a stop of an experience leg, or a homestay."""

    number: int
    name: str
    day: int
    kind: str
    latitude: Decimal
    longitude: Decimal
    approximate: bool
    x: float = 0.0
    y: float = 0.0

    @property
    def osm_url(self) -> str:
        lat, lon = f"{self.latitude:.5f}", f"{self.longitude:.5f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}"


@dataclass
class Day:
    number: int
    legs: list[RouteLeg] = field(default_factory=list)


def days(route: Route) -> list[Day]:
    """The route's legs grouped by day, in order."""
    by_day: dict[int, Day] = {}
    for leg in sorted(route.legs, key=lambda leg: leg.position):
        by_day.setdefault(leg.day, Day(leg.day)).legs.append(leg)
    return [by_day[n] for n in sorted(by_day)]


def places(route: Route, locale: str) -> list[Place]:
    """Every place with coordinates, in visiting order, numbered from 1."""
    found: list[Place] = []
    for leg in sorted(route.legs, key=lambda leg: leg.position):
        if leg.kind == LegKind.EXPERIENCE:
            for stop in leg.experience.stops:
                if stop.latitude is None or stop.longitude is None:
                    continue
                text = stop.text(locale)
                found.append(
                    Place(
                        number=len(found) + 1,
                        name=text.name if text else "",
                        day=leg.day,
                        kind="stop",
                        latitude=stop.latitude,
                        longitude=stop.longitude,
                        approximate=stop.location_is_approximate,
                    )
                )
        elif leg.homestay.latitude is not None and leg.homestay.longitude is not None:
            found.append(
                Place(
                    number=len(found) + 1,
                    name=leg.homestay.name,
                    day=leg.day,
                    kind="homestay",
                    latitude=leg.homestay.latitude,
                    longitude=leg.homestay.longitude,
                    approximate=leg.homestay.location_is_approximate,
                )
            )
    return project(found)


def project(found: list[Place]) -> list[Place]:
    """Give each place its position in the view box (north up), all inside the margins."""
    if not found:
        return found
    lats = [float(p.latitude) for p in found]
    lons = [float(p.longitude) for p in found]
    scale_x = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * scale_x, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    inner_w, inner_h = MAP_WIDTH - 2 * MAP_MARGIN, MAP_HEIGHT - 2 * MAP_MARGIN
    factor = min(inner_w / span_x, inner_h / span_y)
    # Centre the drawing: the narrower dimension gets the spare room on both sides.
    offset_x = MAP_MARGIN + (inner_w - span_x * factor) / 2
    offset_y = MAP_MARGIN + (inner_h - span_y * factor) / 2
    for place, lat, lon in zip(found, lats, lons, strict=True):
        place.x = round(offset_x + (lon - min(lons)) * scale_x * factor, 1)
        place.y = round(offset_y + (max(lats) - lat) * factor, 1)
    return found


def map_path(found: list[Place]) -> str:
    """The SVG ``points`` of the line joining the places in visiting order."""
    return " ".join(f"{p.x},{p.y}" for p in found)

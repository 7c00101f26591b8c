"""Shared by the route tests: a booking request for a factory route."""

from __future__ import annotations

from tourism.services.booking.contact_details import ContactDetails
from tourism.services.routes.booking import RouteBookingRequest

LANGS = ["es", "en"]


def contact(**kw) -> ContactDetails:
    base = dict(
        name="Ana Quispe",
        email="ana@example.org",
        phone="+593 99 123 4567",
        country="ec",
        language="es",
    )
    return ContactDetails(**(base | kw))


def request_for(route, start_date, people=2, extras=None, **kw) -> RouteBookingRequest:
    return RouteBookingRequest(
        route_id=route.id,
        start_date=start_date,
        people=people,
        contact=contact(),
        extras=extras or {},
        **kw,
    )


def start_of(route):
    """The start date the factory made departures for (day 1's departure, local date)."""
    from tourism.timefmt import local

    first = route.legs[0]
    departure = first.experience  # the factory made exactly one departure per experience
    from tourism.extensions import db
    from tourism.models import Departure

    starts_at = db.session.query(Departure.starts_at).filter_by(experience_id=departure.id).scalar()
    return local(starts_at).date()


def english(error) -> str:
    """An error's message as an English-speaking visitor reads it."""
    from flask_babel import force_locale

    with force_locale("en"):
        return str(error)

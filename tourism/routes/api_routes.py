"""The JSON API's routes across communities: the list (with the route list's filters), one
route, and the start dates it can be booked from. Part of ``api.bp`` (``/api/v1``)."""

from __future__ import annotations

from datetime import timedelta

from flask import jsonify, request
from flask_babel import gettext as _
from flask_babel import ngettext

from ..database import utcnow
from ..errors import InvalidRequest
from ..extensions import db
from ..forms.route_filters import RouteFilterForm
from ..i18n import current_locale
from ..models import LegKind, Route
from ..services.booking.lifecycle import DEFAULT_CUTOFF
from ..services.messages.links import absolute_url
from ..services.routes import availability, curation, discovery
from ..text_input import ascii_whole_number
from ..timefmt import display_zone, local_today
from .api import MAX_RANGE_DAYS, _money, _parse_day, bp

#: Start dates listed when ``to`` is not given (as the route page).
DEFAULT_DAYS = 60


def _summary(route: Route, locale: str) -> dict:
    text = route.text(locale)
    return {
        "slug": route.slug,
        "title": text.title if text else route.slug,
        "summary": text.summary if text else "",
        "days": route.days,
        "curator": route.curator.name if route.curator is not None else None,
        "communities": [a.name for a in discovery.communities(route)],
        "price_per_person": _money(discovery.person_price_cents(route), route.currency),
        "url": absolute_url("itineraries.route", slug=route.slug),
    }


@bp.get("/routes")
def routes():
    """Published routes, with the route list's filters as query arguments."""
    every = discovery.published(db.session)
    form = RouteFilterForm(discovery.community_choices(every), request.args)
    if request.args and not form.validate():
        errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        return jsonify(
            error={"status": 400, "message": _("Invalid filters."), "fields": errors}
        ), 400
    found = discovery.matching(every, form.to_filters()) if request.args else every
    locale = current_locale()
    return jsonify(routes=[_summary(route, locale) for route in found])


def _leg(leg, locale: str) -> dict:
    if leg.kind == LegKind.EXPERIENCE:
        experience = leg.experience
        text = experience.text(locale)
        return {
            "day": leg.day,
            "kind": "experience",
            "experience": experience.slug,
            "title": text.title if text else experience.slug,
            "association": experience.association.name,
            "start_time": leg.start_time.strftime("%H:%M"),
            "duration_minutes": experience.duration_minutes,
            "homestay": None,
        }
    homestay = leg.homestay
    return {
        "day": leg.day,
        "kind": "homestay",
        "experience": None,
        "title": homestay.name,
        "association": homestay.family.association.name,
        "start_time": None,
        "duration_minutes": None,
        "homestay": {
            "name": homestay.name,
            "meals_included": homestay.meals_included,
            "price_per_night": _money(homestay.price_cents_per_person_night, homestay.currency),
        },
    }


@bp.get("/routes/<slug>")
def route(slug: str):
    """One published route: its legs day by day, extras, price per person and policy."""
    found = curation.published_route_by_slug(db.session, slug)
    locale = current_locale()
    text = found.text(locale)
    return jsonify(
        **_summary(found, locale),
        description=text.description if text else "",
        curator_fee=_money(found.curator_fee_cents, found.currency),
        max_people_per_booking=found.max_people_per_booking,
        cancellation_policy=[
            {"hours_before": tier["hours"], "refund_percent": tier["percent"]}
            for tier in found.cancellation_policy or []
        ],
        legs=[_leg(leg, locale) for leg in found.legs],
        extras=[
            {"code": e.code, "name": e.name(locale), "price": _money(e.price_cents, e.currency)}
            for e in found.extras
            if e.is_active and not e.stock_per_departure
        ],
        availability_url=absolute_url("api.route_availability", slug=found.slug),
    )


def _people(route: Route) -> int:
    raw = request.args.get("people", "1")
    people = ascii_whole_number(raw, max_digits=3)
    if people is None or not 1 <= people <= route.max_people_per_booking:
        raise InvalidRequest(
            _(
                "'people' must be a whole number from 1 to %(num)s.",
                num=route.max_people_per_booking,
            )
        )
    return people


@bp.get("/routes/<slug>/availability")
def route_availability(slug: str):
    """The start dates between ``from`` and ``to`` (local, inclusive) on which the route
    runs, whether ``people`` can book it and how many places are left."""
    found = curation.published_route_by_slug(db.session, slug)
    today = local_today()
    first = _parse_day("from", today)
    last = _parse_day("to", first + timedelta(days=DEFAULT_DAYS - 1))
    if last < first:
        raise InvalidRequest(_("'to' must not be before 'from'."))
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidRequest(
            ngettext(
                "Ask for at most %(num)s day at a time.",
                "Ask for at most %(num)s days at a time.",
                MAX_RANGE_DAYS,
            )
        )
    people = _people(found)
    dates = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    plans = availability.plan_route(db.session, found, dates, people, utcnow(), DEFAULT_CUTOFF)
    experience_legs = sum(1 for leg in found.legs if leg.kind == LegKind.EXPERIENCE)
    start_dates = []
    for plan in plans:
        if len(plan.departures) != experience_legs:
            continue  # The route does not run from that day.
        places = [p.seats_left for p in plan.legs if p.departure is not None]
        places += [p.beds_left for p in plan.legs if p.night is not None]
        start_dates.append(
            {
                "start_date": plan.start_date.isoformat(),
                "bookable": plan.bookable,
                "places_left": min(places) if places else 0,
                "problems": sorted({str(problem) for problem in plan.problems}),
                "book_url": absolute_url(
                    "itineraries.book", slug=found.slug, start=plan.start_date.isoformat()
                )
                if plan.bookable
                else None,
            }
        )
    return jsonify(
        route=found.slug,
        timezone=str(display_zone()),
        currency=found.currency,
        people=people,
        price_per_person=_money(discovery.person_price_cents(found), found.currency),
        start_dates=start_dates,
    )

"""Routes across communities: the list, a route's page with its map, booking a route and
its private page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db, limiter
from ..forms.route_filters import RouteFilterForm
from ..forms.routes import route_booking_form_for
from ..i18n import available_locales, current_locale
from ..models import BookingStatus
from ..services.booking import lifecycle
from ..services.routes import (
    availability,
    changes,
    curation,
    discovery,
    itinerary,
    settlement,
)
from ..services.routes import booking as route_booking
from ..timefmt import fmt_date, local_today
from ..unit_of_work import unit_of_work
from .limits import token_lookup

bp = Blueprint("itineraries", __name__)

#: How far ahead a route's start dates are offered.
START_DATES_AHEAD = 60


def _booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _plans(route, people: int = 1):
    return availability.bookable_start_dates(
        db.session,
        route,
        local_today(),
        START_DATES_AHEAD,
        people,
        utcnow(),
        lifecycle.DEFAULT_CUTOFF,
    )


@bp.get("/routes")
def index():
    """The published routes, filtered by days, community and price per person."""
    every = discovery.published(db.session)
    form = RouteFilterForm(discovery.community_choices(every), request.args)
    status, routes = 200, every
    if request.args:
        if form.validate():
            routes = discovery.matching(every, form.to_filters())
        else:
            status = 400
    prices = {route.id: discovery.person_price_cents(route) for route in routes}
    page = render_template(
        "itineraries/index.html",
        routes=routes,
        form=form,
        prices=prices,
        filtering=bool(request.args),
    )
    return page, status


@bp.get("/routes/<slug>")
def route(slug: str):
    """A route's page: day by day, the map of its places, the dates it can start and where
    one person's money goes."""
    found = curation.published_route_by_slug(db.session, slug)
    places = itinerary.places(found, current_locale())
    return render_template(
        "itineraries/route.html",
        route=found,
        days=itinerary.days(found),
        places=places,
        map_points=itinerary.map_path(places),
        map_size=(itinerary.MAP_WIDTH, itinerary.MAP_HEIGHT),
        plans=_plans(found),
        shares=settlement.per_person_shares(found),
    )


def _start_choices(plans) -> list[tuple[str, str]]:
    return [(p.start_date.isoformat(), fmt_date(p.start_date, "full")) for p in plans]


def _render_form(found, form, status=200, error=None):
    return (
        render_template(
            "itineraries/book.html",
            route=found,
            form=form,
            error=error,
            shares=settlement.per_person_shares(found),
        ),
        status,
    )


@bp.route("/routes/<slug>/book", methods=["GET", "POST"])
@limiter.limit(_booking_rate_limit, methods=["POST"])
def book(slug: str):
    """Choose a start date, people and extras; give contact details; the whole route is
    booked at once (pay on arrival, community by community)."""
    found = curation.published_route_by_slug(db.session, slug)
    form = route_booking_form_for(
        found, _start_choices(_plans(found)), current_locale(), available_locales()
    )
    if not form.is_submitted():
        wanted = request.args.get("start", "")
        if wanted in {choice.value for choice in form.start_date.choices}:
            form.start_date.data = wanted
        return _render_form(found, form)
    if not form.validate():
        return _render_form(found, form, status=400)
    request_ = route_booking.RouteBookingRequest(
        route_id=found.id,
        start_date=date.fromisoformat(form.start_date.data),
        people=form.people.data,
        contact=lifecycle.ContactDetails(
            name=form.name.data,
            email=form.email.data,
            phone=form.phone.data,
            country=form.country.data,
            language=form.language.data,
            special_needs=form.special_needs.data or "",
            special_needs_consent=bool(form.special_needs_consent.data),
        ),
        payment_method=form.payment_method.data,
        extras=form.extras(),
    )
    try:
        with unit_of_work():
            booked = route_booking.book_route(
                db.session,
                request_,
                utcnow(),
                available_locales(),
                hold_for=timedelta(minutes=current_app.config["HOLD_MINUTES"]),
            )
            token = booked.manage_token
    except DomainError as error:
        found = curation.published_route_by_slug(db.session, slug)
        return _render_form(found, form, status=error.status_code, error=str(error))
    flash(_("Your route is booked. Keep this page's address: it is your private link."))
    return redirect(url_for("itineraries.manage", token=token), code=303)


def _manage_page(found, status=200, error=None):
    return (
        render_template(
            "itineraries/manage.html",
            rb=found,
            parts=settlement.community_parts(found),
            cancellable=found.status in (BookingStatus.HELD, BookingStatus.CONFIRMED),
            error=error,
        ),
        status,
    )


@bp.get("/route-bookings/<token>")
@token_lookup
def manage(token: str):
    """The visitor's private page for a route booking: every leg's booking, the nights, the
    extras, and what to pay to whom on which day."""
    return _manage_page(changes.find_route_booking(db.session, token))


@bp.post("/route-bookings/<token>/cancel")
@token_lookup
def cancel(token: str):
    """Cancel the whole route (every leg, night and extra)."""
    try:
        with unit_of_work():
            found = changes.find_route_booking(db.session, token)
            changes.cancel_route_booking(db.session, found, utcnow())
    except DomainError as error:
        found = changes.find_route_booking(db.session, token)
        return _manage_page(found, status=error.status_code, error=str(error))
    flash(_("Your route booking is cancelled."))
    return redirect(url_for("itineraries.manage", token=token), code=303)

"""Routes across communities: the list, a route's page with its map, booking a route and
its private page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db, limiter
from ..forms.route_filters import RouteFilterForm
from ..forms.routes import route_booking_form_for
from ..i18n import available_locales, current_locale
from ..models import BookingStatus, PaymentStatus, RefundStatus
from ..money import format_money
from ..services.booking import contact_details, lifecycle
from ..services.booking.new_bookings import SentAgain
from ..services.payments import route_card, route_refunds
from ..services.payments.stripe_gateway import current_gateway
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


def booking_rate_limit() -> str:
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
@limiter.limit(booking_rate_limit, methods=["POST"])
def book(slug: str):
    """Choose a start date, people and extras; give contact details; the whole route is
    booked at once (pay on arrival, community by community)."""
    found = curation.published_route_by_slug(db.session, slug)
    online = current_gateway() is not None
    form = route_booking_form_for(
        found,
        _start_choices(_plans(found)),
        current_locale(),
        available_locales(),
        methods=route_booking.payment_methods(found, online),
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
        contact=contact_details.ContactDetails(
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
        tickets=form.tickets(),
        submission_key=form.submission_key(),
    )
    try:
        with unit_of_work():
            booked = route_booking.book_route(
                db.session,
                request_,
                utcnow(),
                available_locales(),
                hold_for=hold_for(),
                online=online,
            )
            token, confirmed = booked.manage_token, booked.status == BookingStatus.CONFIRMED
    except SentAgain as sent:
        # The same form page sent again: lead to the route booking the first sending made.
        return _to_route_booking(sent.manage_token, sent.status, str(sent))
    except DomainError as error:
        found = curation.published_route_by_slug(db.session, slug)
        return _render_form(found, form, status=error.status_code, error=str(error))
    if not confirmed:
        return _to_route_booking(token, BookingStatus.HELD)
    booked = _("Your route is booked. Keep this page's address: it is your private link.")
    return _to_route_booking(token, BookingStatus.CONFIRMED, booked)


def _to_route_booking(token: str, status: BookingStatus, message: str | None = None):
    """A confirmed route booking's page, or a held one's card payment, saying ``message``."""
    if message:
        flash(message)
    endpoint = "itineraries.manage" if status == BookingStatus.CONFIRMED else "itineraries.pay"
    return redirect(url_for(endpoint, token=token), code=303)


def hold_for() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MINUTES"])


def hold_max() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MAX_MINUTES"])


def _manage_page(found, status=200, error=None):
    parts = settlement.community_parts(found)
    # What each leg has been (or is being) refunded, and what the route gave back itself.
    leg_refunds = {
        bl.booking.id: sum(
            refund.amount_cents
            for payment in bl.booking.payments
            for refund in payment.refunds
            if refund.status != RefundStatus.FAILED
        )
        for bl in found.legs
    }
    returned = sum(p.returned_cents for p in found.payments)
    return (
        render_template(
            "itineraries/manage.html",
            rb=found,
            parts=parts,
            # The parts add up to the price as it stands: less a leg its community cancelled.
            total_cents=sum(part.total_cents for part in parts),
            outstanding={
                part.association.id: settlement.part_outstanding_cents(db.session, found, part)
                for part in parts
            },
            paid_online=sum(
                p.amount_cents for p in found.payments if p.status == PaymentStatus.SUCCEEDED
            ),
            refunded=sum(leg_refunds.values()) + returned,
            leg_refunds=leg_refunds,
            move_choices={
                bl.id: changes.move_options(db.session, found, bl, utcnow())
                for bl in changes.movable_legs(found)
            },
            refund_plan=route_refunds.route_refund_plan(db.session, found, utcnow())
            if found.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)
            else None,
            payable=found.status == BookingStatus.HELD
            and found.payment_method in route_card.ONLINE_METHODS,
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
            refunded, currency = (
                route_refunds.cancel_route(db.session, found, current_gateway(), utcnow()),
                found.currency,
            )
    except DomainError as error:
        found = changes.find_route_booking(db.session, token)
        return _manage_page(found, status=error.status_code, error=str(error))
    if refunded:
        flash(
            _(
                "Your route booking is cancelled. We are refunding %(amount)s to your card.",
                amount=format_money(refunded, currency),
            )
        )
    else:
        flash(_("Your route booking is cancelled."))
    return redirect(url_for("itineraries.manage", token=token), code=303)


@bp.post("/route-bookings/<token>/legs/<int:leg_id>/move")
@limiter.limit(booking_rate_limit)
@token_lookup
def move_leg(token: str, leg_id: int):
    """Move an activity its community cancelled to another date of the same experience."""
    departure_id = request.form.get("departure", type=int)
    try:
        if departure_id is None:
            raise changes.CannotMoveLeg()
        with unit_of_work():
            found = changes.find_route_booking(db.session, token)
            changes.move_leg(db.session, found, leg_id, departure_id, utcnow())
    except DomainError as error:
        found = changes.find_route_booking(db.session, token)
        return _manage_page(found, status=error.status_code, error=str(error))
    flash(_("The activity is moved to its new date. You pay it in cash to its community there."))
    return redirect(url_for("itineraries.manage", token=token), code=303)

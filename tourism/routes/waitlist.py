"""Waiting lists: joining one on a sold-out departure, and taking (or declining) the seats
it offers by email."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..database import utcnow
from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..forms.groups import offer_form_for, waitlist_form_for
from ..i18n import available_locales, current_locale
from ..models import BookingStatus
from ..services.booking import availability, bookable, waitlist
from ..services.booking.contact_details import ContactDetails
from ..services.payments import online as payments
from ..services.payments.stripe_gateway import current_gateway
from ..unit_of_work import unit_of_work
from .limits import token_lookup

bp = Blueprint("waitlist", __name__)


def _booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _departure(departure_id: int):
    try:
        return bookable.published_departure(db.session, departure_id)
    except NotFound:
        abort(404)


def _join_page(departure, form, status=200, error=None, closed=False):
    return render_template(
        "waitlist/join.html",
        departure=departure,
        experience=departure.experience,
        form=form,
        seats_left=availability.seats_left(db.session, departure, utcnow()),
        error=str(error) if error else None,
        closed=closed,
    ), status


@bp.route("/departures/<int(max=2147483647):departure_id>/waitlist", methods=["GET", "POST"])
@limiter.limit(_booking_rate_limit, methods=["POST"])
def join(departure_id: int):
    """Join the waiting list of a sold-out departure."""
    departure = _departure(departure_id)
    form = waitlist_form_for(departure.experience, current_locale(), available_locales())
    if not form.is_submitted():
        try:
            waitlist.check_open(departure, utcnow())
        except DomainError as error:  # cancelled or too late: said at once, with no form
            return _join_page(departure, form, error=error, closed=True)
        return _join_page(departure, form)
    if not form.validate():
        return _join_page(departure, form, 400)
    join_request = waitlist.WaitlistRequest(
        departure_id=departure.id,
        contact=ContactDetails(
            name=form.name.data,
            email=form.email.data,
            phone=form.phone.data,
            country=form.country.data,
            language=form.language.data,
        ),
        people=form.people.data,
    )
    try:
        with unit_of_work():
            entry = waitlist.join_waitlist(db.session, join_request, utcnow(), available_locales())
            ahead = waitlist.places_ahead(db.session, entry)
    except DomainError as error:
        return _join_page(_departure(departure_id), form, error.status_code, error)
    return render_template(
        "waitlist/joined.html",
        departure=_departure(departure_id),
        experience=_departure(departure_id).experience,
        ahead=ahead,
    )


def _offer_page(entry, form, methods, status=200, error=None):
    booking = entry.booking
    return render_template(
        "waitlist/offer.html",
        entry=entry,
        booking=booking,
        departure=booking.departure,
        experience=booking.departure.experience,
        form=form,
        methods=methods,
        open=entry.status == waitlist.WaitlistStatus.OFFERED
        and booking.status == BookingStatus.HELD
        and booking.hold_expires_at > utcnow(),
        error=str(error) if error else None,
    ), status


@bp.route("/waitlist/<token>", methods=["GET", "POST"])
@token_lookup
def offer(token: str):
    """The seats a waiting list offered: take them (choosing how to pay) or give them back."""
    entry = waitlist.find_offer(db.session, token)
    experience = entry.booking.departure.experience
    methods = payments.offered_methods(experience, current_gateway())
    form = offer_form_for(experience, methods)
    if not form.is_submitted():
        return _offer_page(entry, form, methods)
    decline = "decline" in request.form
    if not decline and not form.validate():
        return _offer_page(entry, form, methods, 400)
    try:
        with unit_of_work():
            if decline:
                waitlist.decline_offer(db.session, entry, utcnow())
            else:
                booking = waitlist.accept_offer(
                    db.session, entry, form.payment_method.data, methods, utcnow()
                )
                confirmed = booking.status == BookingStatus.CONFIRMED
    except waitlist.OfferTakenAlready as error:
        if decline:
            entry = waitlist.find_offer(db.session, token)
            return _offer_page(entry, form, methods, error.status_code, error)
        # The same acceptance sent again: where the first one led.
        confirmed = waitlist.find_offer(db.session, token).booking.status == BookingStatus.CONFIRMED
    except DomainError as error:
        entry = waitlist.find_offer(db.session, token)
        return _offer_page(entry, form, methods, error.status_code, error)
    if decline:
        flash(_("Thank you: the seats go to the next person in line."))
        return redirect(url_for("waitlist.offer", token=token), code=303)
    if confirmed:
        return redirect(url_for("bookings.manage", token=token, booked=1), code=303)
    return redirect(url_for("bookings.pay", token=token), code=303)

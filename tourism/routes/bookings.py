"""Booking a departure and managing a booking through its private link."""

from __future__ import annotations

from datetime import timedelta

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
from ..errors import DomainError
from ..extensions import db, limiter
from ..forms import booking_form_for
from ..models import Departure, ExperienceStatus
from ..services import availability
from ..services import booking as booking_service
from .helpers import current_locale

bp = Blueprint("bookings", __name__)


def _booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _bookable_departure(departure_id: int) -> Departure:
    departure = db.session.get(Departure, departure_id)
    if departure is None or departure.experience.status != ExperienceStatus.PUBLISHED:
        abort(404)
    return departure


def _render_form(departure, form, status=200, error=None):
    now = utcnow()
    closed = departure.starts_at - booking_service.DEFAULT_CUTOFF <= now
    seats = 0 if closed else availability.seats_left(db.session, departure, now)
    return (
        render_template(
            "bookings/new.html",
            departure=departure,
            experience=departure.experience,
            form=form,
            seats_left=seats,
            closed=closed,
            error=error,
        ),
        status,
    )


@bp.route("/departures/<int(max=2147483647):departure_id>/book", methods=["GET", "POST"])
@limiter.limit(_booking_rate_limit, methods=["POST"])
def new(departure_id: int):
    """Choose tickets and give contact details; seats are held the moment the form is sent."""
    departure = _bookable_departure(departure_id)
    languages = current_app.config["LANGUAGES"]
    form = booking_form_for(departure.experience, current_locale(), languages)
    if not form.is_submitted():
        return _render_form(departure, form)
    if not form.validate():
        return _render_form(departure, form, status=400)
    now = utcnow()
    hold = booking_service.HoldRequest(
        departure_id=departure.id,
        quantities=form.quantities(),
        contact=booking_service.ContactDetails(
            name=form.name.data,
            email=form.email.data,
            phone=form.phone.data,
            country=form.country.data,
            language=form.language.data,
            special_needs=form.special_needs.data or "",
        ),
        payment_method=form.payment_method.data,
    )
    try:
        booking = booking_service.hold_seats(
            db.session,
            hold,
            now=now,
            hold_for=timedelta(minutes=current_app.config["HOLD_MINUTES"]),
            languages=languages,
        )
        # Pay on arrival accepts the hold at once; online payment will accept it later.
        booking_service.confirm_booking(db.session, booking, form.payment_method.data, now)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        departure = _bookable_departure(departure_id)
        return _render_form(departure, form, status=error.status_code, error=str(error))
    flash(_("Your booking is confirmed. Keep this page's address: it is your private link."))
    return redirect(url_for("bookings.manage", token=booking.manage_token), code=303)


@bp.get("/bookings/<token>")
def manage(token: str):
    """The tourist's private page for one booking."""
    booking = booking_service.find_by_token(db.session, token)
    return render_template("bookings/manage.html", booking=booking, now=utcnow())


@bp.route("/bookings/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    """Ask for confirmation, then cancel; the seats are free for others at once."""
    booking = booking_service.find_by_token(db.session, token)
    if request.method == "GET":
        return render_template("bookings/cancel.html", booking=booking)
    try:
        booking_service.cancel_booking(db.session, booking, utcnow())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        booking = booking_service.find_by_token(db.session, token)
        page = render_template(
            "bookings/manage.html", booking=booking, now=utcnow(), error=str(error)
        )
        return page, error.status_code
    flash(_("Your booking has been cancelled. The seats are free again for others."))
    return redirect(url_for("bookings.manage", token=token), code=303)

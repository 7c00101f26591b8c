"""Staff move one booking to another date of the same experience."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.manage import ChangeDateForm
from ...models import Booking
from ...services.booking import rebooking
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped


def _page(booking, form, status: int = 200, error=None):
    now = utcnow()
    try:
        rebooking.check_movable(booking, now, db.session)
        choices = rebooking.date_choices(db.session, booking, now)
        refusal = None
    except DomainError as why:
        choices, refusal = [], str(why)
    return page(
        "manage/booking_date.html",
        status,
        error,
        association=booking.departure.experience.association,
        booking=booking,
        choices=choices,
        refusal=refusal,
        form=form,
    )


@bp.route(f"/bookings/<{ID}:booking_id>/date", methods=["GET", "POST"])
@managers_only
def change_booking_date(booking_id: int):
    booking = scoped(Booking, booking_id)
    form = ChangeDateForm()
    if request.method == "GET":
        return _page(booking, form)
    if not form.validate():
        return _page(booking, form, 400)
    try:
        with unit_of_work():
            departure_id = rebooking.parse_departure_id(form.departure_id.data)
            rebooking.change_date(db.session, booking, departure_id, acting_user(), utcnow())
            reference = booking.reference
    except DomainError as error:
        db.session.expire_all()
        booking = scoped(Booking, booking_id)
        return _page(booking, form, error.status_code, error)
    return done(
        _("Booking %(reference)s has its new date; the visitor is told.", reference=reference),
        "manage.change_booking_date",
        booking_id=booking_id,
    )

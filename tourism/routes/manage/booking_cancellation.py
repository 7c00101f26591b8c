"""Staff cancel one booking (the tourist phoned, or the association must call a party off)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.manage import CancelBookingForm
from ...models import Booking
from ...money import format_money
from ...services.payments import staff_cancellation
from ...services.payments.stripe_gateway import current_gateway
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped


def _page(booking, form, status: int = 200, error=None):
    now = utcnow()
    try:
        staff_cancellation.check_cancellable(db.session, booking, now)
        refusal = None
    except DomainError as why:
        refusal = str(why)
    return page(
        "manage/booking_cancel.html",
        status,
        error,
        booking=booking,
        previews=staff_cancellation.refund_previews(db.session, booking, now),
        refusal=refusal,
        form=form,
    )


@bp.route(f"/bookings/<{ID}:booking_id>/cancel", methods=["GET", "POST"])
@managers_only
def cancel_booking(booking_id: int):
    """Confirm with a reason and a refund choice, then cancel and go back to the manifest."""
    booking = scoped(Booking, booking_id)
    form = CancelBookingForm()
    if request.method == "GET":
        if form.refund.data is None:
            form.refund.data = staff_cancellation.POLICY
        return _page(booking, form)
    if not form.validate():
        return _page(booking, form, 400)
    try:
        with unit_of_work():
            refunded = staff_cancellation.cancel_by_association(
                db.session,
                booking,
                form.reason.data,
                form.refund.data or "",
                acting_user(),
                current_gateway(),
                utcnow(),
            )
            reference, currency = booking.reference, booking.currency
            departure_id = booking.departure_id
    except DomainError as error:
        db.session.expire_all()
        return _page(scoped(Booking, booking_id), form, error.status_code, error)
    if refunded:
        message = _(
            "Booking %(reference)s is cancelled and %(amount)s is refunded; the visitor is told.",
            reference=reference,
            amount=format_money(refunded, currency),
        )
    else:
        message = _(
            "Booking %(reference)s is cancelled, with nothing to refund; the visitor is told.",
            reference=reference,
        )
    return done(message, "guide.manifest", departure_id=departure_id)

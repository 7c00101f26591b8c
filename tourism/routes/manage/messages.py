"""The association's WhatsApp/SMS: the message log, and one booking's conversation with a
reply box (open for 24 hours after the visitor's last message)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.manage import ReplyForm
from ...models import Association, Booking
from ...services.messages import conversations, message_log
from ...services.messages.phones import CHANNEL_LABELS
from ...unit_of_work import unit_of_work
from ..access import managers_only
from .blueprint import ID, bp, done, page, scoped


@bp.context_processor
def _message_labels() -> dict:
    return {
        "channel_labels": CHANNEL_LABELS,
        "status_labels": message_log.STATUS_LABELS,
        "kind_labels": message_log.KIND_LABELS,
    }


@bp.get(f"/associations/<{ID}:association_id>/messages")
@managers_only
def message_log_page(association_id: int):
    association = scoped(Association, association_id)
    return page(
        "manage/messages.html",
        association=association,
        entries=message_log.association_log(db.session, association),
    )


def _conversation_page(booking, form, status: int = 200, error=None):
    return page(
        "manage/booking_messages.html",
        status,
        error,
        association=booking.departure.experience.association,
        booking=booking,
        entries=message_log.booking_conversation(db.session, booking),
        can_reply=conversations.can_reply(db.session, booking, utcnow()),
        form=form,
    )


@bp.route(f"/bookings/<{ID}:booking_id>/messages", methods=["GET", "POST"])
@managers_only
def booking_messages(booking_id: int):
    booking = scoped(Booking, booking_id)
    form = ReplyForm()
    if request.method == "GET":
        return _conversation_page(booking, form)
    if not form.validate():
        return _conversation_page(booking, form, 400)
    try:
        with unit_of_work():
            conversations.reply_on_booking(db.session, booking, form.body.data, utcnow())
    except DomainError as error:
        return _conversation_page(booking, form, error.status_code, error)
    return done(_("Your reply is on its way."), "manage.booking_messages", booking_id=booking_id)

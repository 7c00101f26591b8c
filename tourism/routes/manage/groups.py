"""Private group requests as the association answers them: the list, one request with its
thread, a reply, a quote, the group's bank transfer received, closing it."""

from __future__ import annotations

from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.groups import REQUESTER_KINDS, MessageForm
from ...forms.quotes import QuoteForm
from ...models import Association, GroupRequest, Role
from ...services.groups import quotes
from ...services.groups import requests as group_requests
from ...services.messages.rendering import absolute_url
from ...timefmt import display_zone
from ...unit_of_work import unit_of_work
from ..access import admins_only, managers_only
from .blueprint import ID, acting_user, bp, done, page, scoped


@bp.get(f"/associations/<{ID}:association_id>/group-requests")
@managers_only
def group_requests_page(association_id: int):
    association = scoped(Association, association_id)
    items = group_requests.list_requests(db.session, association)
    return page(
        "manage/group_requests.html", association=association, requests=items, kinds=REQUESTER_KINDS
    )


def _request_page(request, form, status=200, error=None, quote_form=None):
    return page(
        "manage/group_request.html",
        status,
        error,
        request=request,
        association=request.experience.association,
        form=form,
        quote_form=quote_form or QuoteForm(formdata=None),
        kinds=REQUESTER_KINDS,
        quote=request.quotes[-1] if request.quotes else None,
        live_quote=quotes.live_quote(request, utcnow()),
        transfer=quotes.BANK_TRANSFER,
    )


@bp.route(f"/group-requests/<{ID}:request_id>", methods=["GET", "POST"])
@managers_only
def group_request(request_id: int):
    """One request and its thread; staff reply in the requester's language."""
    request = scoped(GroupRequest, request_id)
    form = MessageForm()
    if not form.is_submitted():
        return _request_page(request, form)
    if not form.validate():
        return _request_page(request, form, 400)
    try:
        with unit_of_work():
            group_requests.post_message(
                db.session, request, form.body.data, utcnow(), author=acting_user()
            )
    except DomainError as error:
        return _request_page(scoped(GroupRequest, request_id), form, error.status_code, error)
    return done(_("Your message was sent."), "manage.group_request", request_id=request_id)


@bp.post(f"/group-requests/<{ID}:request_id>/close")
@managers_only
def close_group_request(request_id: int):
    request = scoped(GroupRequest, request_id)
    try:
        with unit_of_work():
            group_requests.close_request(db.session, request)
    except DomainError as error:
        return _request_page(
            scoped(GroupRequest, request_id), MessageForm(), error.status_code, error
        )
    return done(_("The request is closed."), "manage.group_request", request_id=request_id)


@bp.post(f"/group-requests/<{ID}:request_id>/quote")
@managers_only
def quote_group_request(request_id: int):
    """Quote the request: a price, a private departure, an expiry; the requester is emailed."""
    request = scoped(GroupRequest, request_id)
    form = QuoteForm()
    if not form.validate():
        return _request_page(request, MessageForm(formdata=None), 400, quote_form=form)
    data = quotes.QuoteInput(
        pricing=form.pricing.data,
        amount_cents=form.amount.cents,
        day=form.day.data,
        start=form.start.data,
        valid_until=form.valid_until.data,
    )
    try:
        with unit_of_work():
            quotes.make_quote(
                db.session,
                request,
                data,
                acting_user(),
                utcnow(),
                display_zone(),
                absolute_url("groups.thread", token=request.token),
            )
    except DomainError as error:
        return _request_page(
            scoped(GroupRequest, request_id),
            MessageForm(formdata=None),
            error.status_code,
            error,
            quote_form=form,
        )
    return done(_("The quote was sent."), "manage.group_request", request_id=request_id)


@bp.post(f"/group-requests/<{ID}:request_id>/transfer-received")
@admins_only
def group_transfer_received(request_id: int):
    """The treasurer received the group's bank transfer: the booking is paid and confirmed."""
    request = scoped(GroupRequest, request_id, roles=(Role.ADMIN,))
    quote = request.quotes[-1] if request.quotes else None
    try:
        with unit_of_work():
            if quote is None:
                raise quotes.NotTransfer()
            quotes.mark_transfer_paid(db.session, quote, acting_user(), utcnow())
    except DomainError as error:
        return _request_page(
            scoped(GroupRequest, request_id), MessageForm(formdata=None), error.status_code, error
        )
    return done(
        _("The transfer is recorded and the booking confirmed."),
        "manage.group_request",
        request_id=request_id,
    )

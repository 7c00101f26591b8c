"""Private group requests as the association answers them: the list, one request with its
thread, a reply, a quote (sent, changed or withdrawn), the group's bank transfer received or
paid back, closing it."""

from __future__ import annotations

from datetime import timedelta

from flask import abort
from flask_babel import gettext as _

from ...database import utcnow
from ...errors import DomainError
from ...extensions import db
from ...forms.groups import REQUESTER_KINDS, MessageForm, WithdrawQuoteForm
from ...forms.quotes import QuoteForm, TransferRefundForm
from ...models import Association, GroupRequest, Role
from ...money import decimal_text
from ...services.groups import quote_changes, quotes, transfers
from ...services.groups import requests as group_requests
from ...services.messages.rendering import absolute_url
from ...timefmt import display_zone, local_today
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


def _change_form(quote) -> QuoteForm:
    """The change form, filled with ``quote`` as it stands."""
    starts = quote.departure.starts_at.astimezone(display_zone())
    expiry = (quote.expires_at - timedelta(seconds=1)).astimezone(display_zone())
    form = QuoteForm(
        formdata=None,
        pricing=quote.pricing.value,
        amount=decimal_text(quote.amount_cents),
        day=starts.date(),
        start=starts.time().replace(second=0, microsecond=0),
        valid_until=expiry.date(),
        group_size=quote.group_size,
        pay_on_arrival=quote.pay_on_arrival,
    )
    return form


def _request_page(request, form, status=200, error=None, quote_form=None, **forms):
    now = utcnow()
    quote = request.quotes[-1] if request.quotes else None
    live = quotes.live_quote(request, now)
    changeable = quote_changes.changeable(live, now)
    paid = transfers.paid_quote(request)
    return page(
        "manage/group_request.html",
        status,
        error,
        request=request,
        association=request.experience.association,
        form=form,
        quote_form=quote_form or QuoteForm(formdata=None, group_size=request.group_size),
        change_form=forms.get("change_form") or (_change_form(live) if changeable else None),
        refund_form=forms.get("refund_form") or TransferRefundForm(formdata=None),
        withdraw_form=forms.get("withdraw_form") or WithdrawQuoteForm(formdata=None),
        kinds=REQUESTER_KINDS,
        quote=quote,
        live_quote=live,
        changeable=changeable,
        paid=paid,
        owed_back=transfers.owed_back(db.session, paid) if paid else 0,
        refundable=transfers.refundable(paid) if paid else 0,
        on_arrival=quotes.ON_ARRIVAL in request.experience.payment_option_codes,
        transfer=quotes.BANK_TRANSFER,
    )


def _refused(request_id: int, error: DomainError, **forms):
    """The request's page again after a refused action (its transaction rolled back), with
    the refusal and the form that was sent."""
    return _request_page(
        scoped(GroupRequest, request_id),
        MessageForm(formdata=None),
        error.status_code,
        error,
        **forms,
    )


def _quote_of(request, quote_id: int):
    """The request's quote ``quote_id`` (another request's, or none: not found)."""
    quote = next((q for q in request.quotes if q.id == quote_id), None)
    if quote is None:
        abort(404)
    return quote


def _quote_input(form: QuoteForm) -> quotes.QuoteInput:
    return quotes.QuoteInput(
        pricing=form.pricing.data,
        amount_cents=form.amount.cents,
        day=form.day.data,
        start=form.start.data,
        valid_until=form.valid_until.data,
        group_size=form.group_size.data,
        pay_on_arrival=bool(form.pay_on_arrival.data),
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
    data = _quote_input(form)
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
        return _refused(request_id, error, quote_form=form)
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
            transfers.mark_transfer_paid(db.session, quote, acting_user(), utcnow())
    except DomainError as error:
        return _refused(request_id, error)
    return done(
        _("The transfer is recorded and the booking confirmed."),
        "manage.group_request",
        request_id=request_id,
    )


@bp.post(f"/group-requests/<{ID}:request_id>/quotes/<{ID}:quote_id>/change")
@managers_only
def change_group_quote(request_id: int, quote_id: int):
    """Send a revised quote in place of this one; the group is told and emailed."""
    request = scoped(GroupRequest, request_id)
    quote = _quote_of(request, quote_id)
    form = QuoteForm()
    if not form.validate():
        return _request_page(request, MessageForm(formdata=None), 400, change_form=form)
    try:
        with unit_of_work():
            quote_changes.revise_quote(
                db.session,
                quote,
                _quote_input(form),
                acting_user(),
                utcnow(),
                display_zone(),
                absolute_url("groups.thread", token=request.token),
            )
    except DomainError as error:
        return _refused(request_id, error, change_form=form)
    return done(_("The changed quote was sent."), "manage.group_request", request_id=request_id)


@bp.post(f"/group-requests/<{ID}:request_id>/quotes/<{ID}:quote_id>/withdraw")
@managers_only
def withdraw_group_quote(request_id: int, quote_id: int):
    """Withdraw a quote the group has not accepted; its private departure is cancelled."""
    request = scoped(GroupRequest, request_id)
    quote = _quote_of(request, quote_id)
    form = WithdrawQuoteForm()
    if not form.validate():
        return _request_page(request, MessageForm(formdata=None), 400, withdraw_form=form)
    try:
        with unit_of_work():
            quote_changes.withdraw_quote(
                db.session,
                quote,
                acting_user(),
                utcnow(),
                absolute_url("groups.thread", token=request.token),
                reason=form.reason.data or "",
            )
    except DomainError as error:
        return _refused(request_id, error, withdraw_form=form)
    return done(_("The quote was withdrawn."), "manage.group_request", request_id=request_id)


@bp.post(f"/group-requests/<{ID}:request_id>/transfer-refund")
@admins_only
def group_transfer_refund(request_id: int):
    """The treasurer paid the group's bank transfer back by bank transfer."""
    request = scoped(GroupRequest, request_id, roles=(Role.ADMIN,))
    form = TransferRefundForm()
    if not form.validate():
        return _request_page(request, MessageForm(formdata=None), 400, refund_form=form)
    try:
        with unit_of_work():
            transfers.record_transfer_refund(
                db.session,
                transfers.refundable_quote(request),
                form.amount.cents,
                form.paid_on.data,
                form.reference.data,
                acting_user(),
                local_today(),
                display_zone(),
                absolute_url("groups.thread", token=request.token),
            )
    except transfers.RefundRecordedAlready as again:
        return done(str(again), "manage.group_request", request_id=request_id)
    except DomainError as error:
        return _refused(request_id, error, refund_form=form)
    return done(_("The refund is recorded."), "manage.group_request", request_id=request_id)

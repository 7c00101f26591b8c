"""Private group requests as the requester sees them: the form on an experience, and the
request's private page with its message thread and the association's quote, which they
accept (and pay) or decline there. The private page speaks the visitor's language, like
every page; the emails about the request speak the request's."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _

from ..database import utcnow
from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..forms.groups import REQUESTER_KINDS, MessageForm, group_request_form_for
from ..forms.public import field_problems
from ..forms.quotes import AcceptQuoteForm, QuoteChoiceForm, accept_form_for, offer_methods
from ..i18n import available_locales, current_locale
from ..services.catalog import search as catalog
from ..services.groups import quote_answers, quotes
from ..services.groups import requests as group_requests
from ..services.payments import online as payments
from ..services.payments.stripe_gateway import current_gateway
from ..timefmt import local_today
from ..unit_of_work import unit_of_work
from .limits import token_lookup

bp = Blueprint("groups", __name__)


def _request_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _experience(slug: str):
    try:
        return catalog.get_published_experience(db.session, slug)
    except NotFound:
        abort(404)


def _form_page(experience, form, status=200, error=None):
    return render_template(
        "groups/new.html",
        experience=experience,
        form=form,
        error=str(error) if error else None,
        max_group=group_requests.MAX_GROUP,
    ), status


@bp.route("/experiences/<slug>/group-request", methods=["GET", "POST"])
@limiter.limit(_request_rate_limit, methods=["POST"])
def new(slug: str):
    """Ask the association for a private visit for a group."""
    experience = _experience(slug)
    form = group_request_form_for(current_locale(), available_locales())
    if not form.is_submitted():
        return _form_page(experience, form)
    if not form.validate():
        return _form_page(experience, form, 400)
    data = group_requests.GroupRequestInput(
        requester_kind=form.requester_kind.data,
        name=form.name.data,
        email=form.email.data,
        phone=form.phone.data or "",
        language=form.language.data,
        group_size=form.group_size.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        needs=form.needs.data or "",
        submission_key=form.submission_key(),
    )
    try:
        with unit_of_work():
            request = group_requests.submit_request(
                db.session, experience, data, local_today(), available_locales(), utcnow()
            )
            token = request.token
    except group_requests.RequestSentAgain as sent:
        # The browser shows the answer to the last sending: it leads to the request too.
        flash(str(sent))
        return redirect(url_for("groups.thread", token=sent.token), code=303)
    except DomainError as error:
        return _form_page(_experience(slug), form, error.status_code, error)
    flash(_("Your request was sent. Keep this page's address: it is your private link."))
    return redirect(url_for("groups.thread", token=token), code=303)


def _methods(request, quote) -> list[str]:
    offered = payments.offered_methods(request.experience, current_gateway())
    return quote_answers.methods_for(offered, quote)


def _thread_page(request, form, status=200, error=None, accept_form=None):
    quote = request.quotes[-1] if request.quotes else None
    methods = _methods(request, quote)
    if accept_form is None:
        accept_form = accept_form_for(request.experience, methods, formdata=None)
        accept_form.quote_id.data = quote.id if quote is not None else None
    return render_template(
        "groups/thread.html",
        request=request,
        experience=request.experience,
        form=form,
        kinds=REQUESTER_KINDS,
        error=str(error) if error else None,
        quote=quote,
        now=utcnow(),
        accept_form=accept_form,
        transfer=quotes.BANK_TRANSFER,
    ), status


@bp.route("/group-requests/<token>", methods=["GET", "POST"])
@token_lookup
def thread(token: str):
    """The requester's private page: the request and the messages; they may write."""
    request = group_requests.find_by_token(db.session, token)
    form = MessageForm()
    valid = form.is_submitted() and form.validate()
    if not form.is_submitted():
        return _thread_page(request, form)
    if not valid:
        return _thread_page(request, form, 400)
    try:
        with unit_of_work():
            group_requests.post_message(db.session, request, form.body.data, utcnow())
    except DomainError as error:
        return _thread_page(
            group_requests.find_by_token(db.session, token), form, error.status_code, error
        )
    flash(_("Your message was sent."))
    return redirect(url_for("groups.thread", token=token), code=303)


def _hold_for() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MINUTES"])


def _answer_problem(form) -> str:
    """What was wrong with an answer to a quote, said above the quote."""
    if form.quote_id.errors:
        return _("That is not one of this request's quotes; here is its quote as it stands.")
    return " ".join(message for _id, message in field_problems(form))


def _answered_quote(request, quote_id: int | None):
    """The quote the requester answers: the one their page showed (a quote changed or
    withdrawn since is refused by the service), else the latest."""
    if not request.quotes:
        abort(404)
    if quote_id is None:
        return request.quotes[-1]
    quote = next((q for q in request.quotes if q.id == quote_id), None)
    if quote is None:
        abort(404)
    return quote


@bp.post("/group-requests/<token>/accept")
@token_lookup
def accept_quote(token: str):
    """Accept the quote: hold the group's seats, then pay by card or by bank transfer, or
    (when the quote offers it) confirm them to pay on arrival."""
    request = group_requests.find_by_token(db.session, token)
    form = AcceptQuoteForm()
    quote = _answered_quote(request, form.quote_id.data)
    offer_methods(form, request.experience, _methods(request, quote))
    if not form.validate():
        return _thread_page(
            request, MessageForm(formdata=None), 400, _answer_problem(form), accept_form=form
        )
    try:
        with unit_of_work():
            booking = quote_answers.accept_quote(
                db.session,
                quote,
                form.payment_method.data,
                payments.offered_methods(request.experience, current_gateway()),
                utcnow(),
                _hold_for(),
            )
            method, booking_token = booking.payment_method, booking.manage_token
    except DomainError as error:
        request = group_requests.find_by_token(db.session, token)
        # The page shows the quote as it stands now (changed or withdrawn, perhaps).
        return _thread_page(request, MessageForm(formdata=None), error.status_code, error)
    if method == quotes.ON_ARRIVAL:
        flash(_("You accepted the quote and your booking is confirmed; you pay on arrival."))
    elif method != quotes.BANK_TRANSFER:
        return redirect(url_for("bookings.pay", token=booking_token), code=303)
    else:
        flash(
            _(
                "You accepted the quote. The association confirms your booking once your "
                "transfer arrives."
            )
        )
    return redirect(url_for("groups.thread", token=token), code=303)


@bp.post("/group-requests/<token>/decline")
@token_lookup
def decline_quote(token: str):
    """Decline the quote: the request is closed."""
    request = group_requests.find_by_token(db.session, token)
    form = QuoteChoiceForm()
    if not form.validate():
        return _thread_page(request, MessageForm(formdata=None), 400, _answer_problem(form))
    quote = _answered_quote(request, form.quote_id.data)
    try:
        with unit_of_work():
            quote_answers.decline_quote(db.session, quote, utcnow())
    except DomainError as error:
        return _thread_page(
            group_requests.find_by_token(db.session, token),
            MessageForm(formdata=None),
            error.status_code,
            error,
        )
    flash(_("You declined the quote; the request is closed."))
    return redirect(url_for("groups.thread", token=token), code=303)

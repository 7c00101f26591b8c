"""Booking a departure, paying for it, and managing it through its private link."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from ..database import utcnow
from ..errors import DomainError, NotFound
from ..extensions import db, limiter
from ..forms.addons import addons_from
from ..forms.public import booking_form_for
from ..i18n import available_locales, current_locale
from ..models import BookingStatus, Departure, PaymentMethod
from ..money import format_money
from ..services.booking import availability, bookable
from ..services.booking import caps as hold_caps
from ..services.booking import lifecycle as booking_service
from ..services.booking.contact_details import ContactDetails
from ..services.booking.new_bookings import SentAgain
from ..services.messages import booking_files, conversations
from ..services.payments import intents, refunds
from ..services.payments import online as payments
from ..services.payments.stripe_gateway import GatewayError, current_gateway
from ..unit_of_work import unit_of_work
from . import booking_pages as pages
from . import card_refusals
from .limits import token_lookup

bp = Blueprint("bookings", __name__)


def _booking_rate_limit() -> str:
    return current_app.config["BOOKING_RATE_LIMIT"]


def _hold_for() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MINUTES"])


def _bookable_departure(departure_id: int) -> Departure:
    """The departure with its experience as ORM objects, for the form's page."""
    try:
        return bookable.published_departure(db.session, departure_id)
    except NotFound:
        abort(404)


def _form_for(departure):
    """``departure``: an ORM ``Departure`` or a ``bookable.BookableDeparture``."""
    methods = payments.offered_methods(departure.experience, current_gateway())
    return booking_form_for(
        departure.experience, current_locale(), available_locales(), methods
    ), methods


def _form_again(departure_id: int, form, status: int = 200, error=None, review=False):
    """The form's page again, with what was sent (the departure read as ORM objects now)."""
    departure = _bookable_departure(departure_id)
    return pages.render_form(departure, form, status=status, error=error, review=review)


@bp.route("/departures/<int(max=2147483647):departure_id>/book", methods=["GET", "POST"])
@limiter.limit(_booking_rate_limit, methods=["POST"])
def new(departure_id: int):
    """Choose tickets and give contact details; seats are held the moment the form is sent."""
    if request.method != "POST" or "recalculate" in request.form:
        # "Update the total" re-renders with the chosen tickets; nothing is held.
        departure = _bookable_departure(departure_id)
        return pages.render_form(departure, _form_for(departure)[0])
    # Sent: the departure as one small read that the form, its quote and the hold share.
    try:
        departure = bookable.bookable_departure(db.session, departure_id)
    except NotFound:
        abort(404)
    form, methods = _form_for(departure)
    wanted = sum(form.quantities().values())
    form.seats_left = availability.seats_left_if_short(db.session, departure, wanted, utcnow())
    if not form.validate():
        return _form_again(departure_id, form, status=409 if form.seats_short else 400)
    # A browser always sends the quote its page showed; when it is not the total of what
    # was sent (no script ran to update it), show the total and ask again.
    addons_cents = pages.posted_addons_cents(departure_id, form)
    quoted = form.quote_for(departure.experience, addons_cents).key
    if "quoted" in request.form and form.quoted.data != quoted:
        return _form_again(departure_id, form, review=True)
    now = utcnow()
    try:
        chosen = addons_from(request.form)
    except DomainError as error:
        return _form_again(departure_id, form, status=error.status_code, error=str(error))
    hold = booking_service.HoldRequest(
        departure_id=departure.id,
        quantities=form.quantities(),
        contact=ContactDetails(
            name=form.name.data,
            email=form.email.data,
            phone=form.phone.data,
            country=form.country.data,
            language=form.language.data,
            special_needs=form.special_needs.data or "",
            special_needs_consent=bool(form.special_needs_consent.data),
            messages_opt_in=bool(form.messages_opt_in.data),
            message_channel=form.message_channel.data or "whatsapp",
        ),
        payment_method=form.payment_method.data,
        held_from=hold_caps.address_key(current_app.config["SECRET_KEY"], request.remote_addr),
        addons=chosen,
        submission_key=form.submission_key(),
    )
    try:
        with unit_of_work():
            placed = booking_service.place_hold(
                db.session,
                hold,
                now=now,
                hold_for=_hold_for(),
                languages=available_locales(),
                offered_methods=methods,
                caps=hold_caps.HoldCaps.from_config(current_app.config),
                # Pay on arrival accepts the hold at once; card payments accept it when paid.
                accept_unpaid=True,
                departure=departure,
            )
    except SentAgain as sent:
        # The same form page sent again: the browser shows this answer, so it leads to the
        # booking the first sending made, saying so.
        return _to_booking(sent.manage_token, sent.status, again=True)
    except DomainError as error:
        return _form_again(departure_id, form, status=error.status_code, error=str(error))
    return _to_booking(placed.manage_token, placed.status)


def _to_booking(token: str, status: BookingStatus, again: bool = False):
    """Where a booking form's sending leads: a confirmed booking's page, or the card
    payment of a held one. Said on that page by its address, not by a flashed message: a
    booking then writes no session cookie (docs/decisions.md)."""
    marks = {"again": 1} if again else {}
    if status == BookingStatus.CONFIRMED:
        return redirect(url_for("bookings.manage", token=token, booked=1, **marks), code=303)
    return redirect(url_for("bookings.pay", token=token, **marks), code=303)


@bp.get("/bookings/<token>")
@token_lookup
def manage(token: str):
    """The tourist's private page for one booking."""
    booking = booking_service.find_by_token(db.session, token)
    just_booked = request.args.get("booked") == "1"
    return render_template(
        "bookings/manage.html",
        just_booked=just_booked,
        sent_again=request.args.get("again") == "1",
        **pages.manage_context(booking),
    )


@bp.post("/bookings/<token>/messages/resume")
@token_lookup
def resume_messages(token: str):
    """The visitor who wrote STOP asks for this booking's WhatsApp/SMS messages again."""
    booking = booking_service.find_by_token(db.session, token)
    try:
        with unit_of_work():
            resumed = conversations.resume_for_booking(db.session, booking, utcnow())
    except DomainError as error:
        return pages.manage_with_error(token, error)
    if resumed:
        flash(_("You will get short messages about this booking again."))
    return redirect(url_for("bookings.manage", token=token), code=303)


@bp.get("/bookings/<token>/calendar.ics")
@token_lookup
def calendar(token: str):
    """The visit as a calendar event ("add to my calendar"); a cancelled booking's file
    removes it again."""
    booking = booking_service.find_by_token(db.session, token)
    cancelled = booking.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED)
    body = booking_files.booking_calendar(booking, current_locale(), cancel=cancelled)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="{booking.reference}.ics"',
            "Cache-Control": "private, no-cache",
        },
    )


def _hold_max() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MAX_MINUTES"])


#: How often the processing page asks again by itself (every 3 seconds) before it stops and
#: tells the tourist we will write to them.
MAX_PROCESSING_POLLS = 40


@bp.get("/bookings/<token>/pay")
@token_lookup
def pay(token: str):
    """The card form (Stripe.js). The page needs JavaScript; everything else does not."""
    stripe_gateway = current_gateway()
    booking = booking_service.find_by_token(db.session, token)
    now = utcnow()
    try:
        # Stripe first, with no lock held; then record the attempt in a unit of work.
        prepared = payments.prepare_payment(db.session, booking, stripe_gateway, now)
        with unit_of_work():
            start = payments.record_payment_start(
                db.session, prepared, now, _hold_for(), _hold_max()
            )
    except GatewayError:
        return pages.payment_problem(booking, "gateway_down", 503)
    except refunds.PaymentsUnavailable:
        return pages.payment_problem(booking, "gateway_down", 503)
    except payments.PaymentRefused:
        return pages.payment_problem(booking, "refused", 502)
    except booking_service.HoldExpired:
        return pages.payment_problem(booking, "expired", 409)
    except payments.NothingToPay:
        return redirect(url_for("bookings.manage", token=token), code=303)
    except payments.PaidAlready:  # the page after paying applies it and says so
        return redirect(url_for("bookings.processing", token=token), code=303)
    except DomainError as error:
        return pages.manage_with_error(token, error)
    return render_template(
        "bookings/pay.html",
        booking=start.payment.booking,
        payment=start.payment,
        client_secret=start.client_secret,
        setup_client_secret=start.setup_client_secret,
        publishable_key=stripe_gateway.publishable_key,
        stripe_js_url=stripe_gateway.js_url,
        sent_again=request.args.get("again") == "1",
    )


@bp.post("/bookings/<token>/pay")
@limiter.limit(_booking_rate_limit)
def pay_with_card(token: str):
    """Charge the card set up in the browser. Always answers JSON for the page's script:
    ``error`` to show (with a fresh ``setup_client_secret`` when another card may be
    tried), or ``next``, the page to go to (the processing page whenever the card may have
    been charged: it asks Stripe what happened)."""
    processing_url = url_for("bookings.processing", token=token)
    stripe_gateway = current_gateway()
    card_key = None  # what is being paid, once found
    try:
        booking = booking_service.find_by_token(db.session, token)
        card_key = f"booking-{booking.id}"
        intent = payments.pay_with_card(
            db.session, booking, str(request.form.get("setup_intent", "")), stripe_gateway
        )
    except GatewayError:
        # Stripe did not answer: the card may or may not have been charged.
        return jsonify(error=str(refunds.PaymentsUnavailable()), next=processing_url), 503
    except (booking_service.HoldExpired, payments.NothingToPay):
        return jsonify(error=_("This booking can no longer be paid."), next=processing_url), 409
    except DomainError as error:
        return card_refusals.refused(error, stripe_gateway, card_key)
    except Exception:  # noqa: BLE001 — the page's script must always get an answer it reads
        current_app.logger.exception("card payment failed unexpectedly")
        db.session.rollback()
        return jsonify(error=_("We could not confirm your payment yet."), next=processing_url), 500
    try:
        with unit_of_work():
            outcome = intents.apply_intent(db.session, intent, stripe_gateway, utcnow())
    except Exception:  # noqa: BLE001 — charged maybe: the processing page asks Stripe again
        current_app.logger.exception("recording a card payment failed")
        return jsonify(error=_("We could not confirm your payment yet."), next=processing_url), 202
    return jsonify(
        status=intent.status,
        outcome=outcome,
        client_secret=intent.client_secret,
        next=processing_url,
    )


@bp.get("/bookings/<token>/processing")
@token_lookup
def processing(token: str):
    """Shown after paying: asks Stripe (never the browser) whether the payment went through,
    and ends on a page that says what happened."""
    gateway = current_gateway()
    booking = booking_service.find_by_token(db.session, token)
    gateway_down = False
    answers = []
    try:
        answers = intents.pending_intents(db.session, booking, gateway)
        if answers:
            with unit_of_work():
                for intent in answers:
                    intents.apply_intent(db.session, intent, gateway, utcnow())
    except (GatewayError, payments.PaymentDeclined):
        gateway_down = True  # Stripe unreachable or confused: the page says so
    booking = booking_service.find_by_token(db.session, token)
    state = payments.checkout_state(booking)
    if state.name == "confirmed":
        if booking.paid_online_cents:  # not said of a booking paid on arrival: nothing was
            flash(_("Payment received: your booking is confirmed."))
        return redirect(url_for("bookings.manage", token=token), code=303)
    if state.name in ("mismatch", "late_refunded", "refunded", "expired"):
        return pages.payment_problem(booking, state.name, 200, state.refund_cents)
    polls = max(0, min(request.args.get("polls", 0, type=int) or 0, MAX_PROCESSING_POLLS))
    # Held, and no card was tried at Stripe (or no payment was even opened): nothing is
    # on its way, so the page does not wait for the bank or say not to pay again.
    unpaid = (
        state.name == "pending"
        and not gateway_down
        and all(intent.status == "requires_payment_method" for intent in answers)
    )
    return render_template(
        "bookings/processing.html",
        booking=booking,
        failed=state.name == "failed",
        unpaid=unpaid,
        gateway_down=gateway_down,
        refresh_url=url_for("bookings.processing", token=token, polls=polls + 1)
        if polls < MAX_PROCESSING_POLLS and state.name == "pending" and not unpaid
        else None,
        now=utcnow(),
    )


@bp.route("/bookings/<token>/cancel", methods=["GET", "POST"])
@token_lookup
def cancel(token: str):
    """Ask for confirmation, then cancel and refund as the policy says."""
    booking = booking_service.find_by_token(db.session, token)
    now = utcnow()
    percent = refunds.refund_percent(
        booking.departure.experience.cancellation_policy, booking.departure.starts_at, now
    )
    if request.method == "GET":
        return render_template(
            "bookings/cancel.html",
            booking=booking,
            refund_percent=percent,
            refund_cents=refunds.refund_preview(db.session, booking, percent),
        )
    try:
        with unit_of_work():
            refunded = refunds.cancel_with_refund(db.session, booking, current_gateway(), now)
    except GatewayError:
        return pages.manage_with_error(token, refunds.PaymentsUnavailable())
    except DomainError as error:
        return pages.manage_with_error(token, error)
    if refunded and booking.payment_method == refunds.BANK_TRANSFER:
        flash(
            _(
                "Your booking has been cancelled; the association pays %(amount)s back to you "
                "by bank transfer.",
                amount=format_money(refunded, booking.currency),
            )
        )
    elif refunded:
        flash(
            _(
                "Your booking has been cancelled and %(amount)s will be refunded to your card.",
                amount=format_money(refunded, booking.currency),
            )
        )
    else:
        flash(_("Your booking has been cancelled. The seats are free again for others."))
    return redirect(url_for("bookings.manage", token=token), code=303)


__all__ = ["bp", "PaymentMethod"]

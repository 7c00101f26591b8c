"""Routes across communities: the list, a route's page with its map, booking a route and
its private page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
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
from ..errors import DomainError
from ..extensions import db, limiter
from ..forms.route_filters import RouteFilterForm
from ..forms.routes import route_booking_form_for
from ..i18n import available_locales, current_locale
from ..models import BookingStatus, PaymentStatus, RefundStatus
from ..money import format_money
from ..services.booking import contact_details, lifecycle
from ..services.booking.new_bookings import SentAgain
from ..services.payments import online as payments
from ..services.payments import refunds, route_card, route_refunds
from ..services.payments.stripe_gateway import GatewayError, PaymentDeclined, current_gateway
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


def _booking_rate_limit() -> str:
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
@limiter.limit(_booking_rate_limit, methods=["POST"])
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
                hold_for=_hold_for(),
                online=online,
            )
            token, confirmed = booked.manage_token, booked.status == BookingStatus.CONFIRMED
    except SentAgain as sent:
        # The same form page sent again: lead to the route booking the first sending made.
        flash(str(sent))
        if sent.status == BookingStatus.CONFIRMED:
            return redirect(url_for("itineraries.manage", token=sent.manage_token), code=303)
        return redirect(url_for("itineraries.pay", token=sent.manage_token), code=303)
    except DomainError as error:
        found = curation.published_route_by_slug(db.session, slug)
        return _render_form(found, form, status=error.status_code, error=str(error))
    if not confirmed:
        return redirect(url_for("itineraries.pay", token=token), code=303)
    flash(_("Your route is booked. Keep this page's address: it is your private link."))
    return redirect(url_for("itineraries.manage", token=token), code=303)


def _hold_for() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MINUTES"])


def _hold_max() -> timedelta:
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


#: How often the processing page asks again by itself before it says we will write.
MAX_PROCESSING_POLLS = 40


def _payment_problem(found, state: str, status: int):
    return render_template("itineraries/payment_problem.html", rb=found, state=state), status


@bp.get("/route-bookings/<token>/pay")
@token_lookup
def pay(token: str):
    """The card form (Stripe.js) for the whole route: one payment."""
    stripe_gateway = current_gateway()
    found = changes.find_route_booking(db.session, token)
    try:
        with unit_of_work():
            start = route_card.start_route_payment(
                db.session, found, stripe_gateway, utcnow(), _hold_for(), _hold_max()
            )
            found = start.payment.route_booking
    except (GatewayError, refunds.PaymentsUnavailable):
        return _payment_problem(changes.find_route_booking(db.session, token), "gateway_down", 503)
    except payments.PaymentRefused:
        return _payment_problem(changes.find_route_booking(db.session, token), "refused", 502)
    except route_card.RouteHoldExpired:
        return _payment_problem(changes.find_route_booking(db.session, token), "expired", 409)
    except payments.NothingToPay:
        return redirect(url_for("itineraries.manage", token=token), code=303)
    found = changes.find_route_booking(db.session, token)
    return render_template(
        "itineraries/pay.html",
        rb=found,
        payment=found.payments[-1],
        client_secret=start.client_secret,
        setup_client_secret=start.setup_client_secret,
        publishable_key=stripe_gateway.publishable_key,
        stripe_js_url=stripe_gateway.js_url,
        on_arrival_cents=found.total_cents - found.payments[-1].amount_cents,
    )


@bp.post("/route-bookings/<token>/pay")
@limiter.limit(_booking_rate_limit)
def pay_with_card(token: str):
    """Charge the card set up in the browser to the route's payment; JSON for the page's
    script, as for one booking (``bookings.pay_with_card``)."""
    processing_url = url_for("itineraries.processing", token=token)
    stripe_gateway = current_gateway()
    try:
        found = changes.find_route_booking(db.session, token)
        rb_id = found.id
        intent = route_card.pay_route_with_card(
            db.session, found, str(request.form.get("setup_intent", "")), stripe_gateway
        )
    except GatewayError:
        return jsonify(error=str(refunds.PaymentsUnavailable()), next=processing_url), 503
    except (route_card.RouteHoldExpired, payments.NothingToPay):
        return jsonify(error=_("This booking can no longer be paid."), next=processing_url), 409
    except DomainError as error:
        body = {"error": str(error)}
        if stripe_gateway is not None and error.status_code < 500:
            try:
                _setup_id, body["setup_client_secret"] = stripe_gateway.create_setup_intent(
                    idempotency_key=f"route-booking-{rb_id}-card-{utcnow().timestamp()}"
                )
            except (GatewayError, PaymentDeclined):
                pass
        return jsonify(body), error.status_code
    except Exception:  # noqa: BLE001 — the page's script must always get an answer it reads
        current_app.logger.exception("route card payment failed unexpectedly")
        db.session.rollback()
        return jsonify(error=_("We could not confirm your payment yet."), next=processing_url), 500
    try:
        with unit_of_work():
            outcome = route_card.apply_route_intent(db.session, intent, stripe_gateway, utcnow())
    except Exception:  # noqa: BLE001 — charged maybe: the processing page asks Stripe again
        current_app.logger.exception("recording a route card payment failed")
        return jsonify(error=_("We could not confirm your payment yet."), next=processing_url), 202
    return jsonify(status=intent.status, outcome=outcome, next=processing_url)


@bp.get("/route-bookings/<token>/processing")
@token_lookup
def processing(token: str):
    """After paying: asks Stripe (never the browser) whether the route's payment went
    through, and ends on a page that says what happened."""
    gateway = current_gateway()
    found = changes.find_route_booking(db.session, token)
    gateway_down = False
    try:
        with unit_of_work():
            route_card.sync_route_booking(db.session, found, gateway, utcnow())
    except (GatewayError, PaymentDeclined):
        gateway_down = True
    found = changes.find_route_booking(db.session, token)
    state = route_card.route_checkout_state(found)
    if state == "confirmed":
        flash(_("Payment received: your route is confirmed."))
        return redirect(url_for("itineraries.manage", token=token), code=303)
    if state in ("refunded", "expired"):
        return _payment_problem(found, state, 200)
    polls = max(0, min(request.args.get("polls", 0, type=int) or 0, MAX_PROCESSING_POLLS))
    return render_template(
        "itineraries/processing.html",
        rb=found,
        failed=state == "failed",
        gateway_down=gateway_down,
        refresh_url=url_for("itineraries.processing", token=token, polls=polls + 1)
        if polls < MAX_PROCESSING_POLLS and state == "pending"
        else None,
    )


@bp.post("/route-bookings/<token>/legs/<int:leg_id>/move")
@limiter.limit(_booking_rate_limit)
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

"""A route booking's card payment: the card form, the charge the page's script asks for, and
the page that asks Stripe how it went. Part of ``itineraries.bp``."""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db, limiter
from ..models import PaymentStatus
from ..services.payments import online as payments
from ..services.payments import refunds, route_card
from ..services.payments.stripe_gateway import GatewayError, PaymentDeclined, current_gateway
from ..services.routes import changes
from ..unit_of_work import unit_of_work
from . import card_refusals
from .itineraries import booking_rate_limit, bp, hold_for, hold_max
from .limits import token_lookup

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
                db.session, found, stripe_gateway, utcnow(), hold_for(), hold_max()
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
    except payments.PaidAlready:  # the page after paying applies it and says so
        return redirect(url_for("itineraries.processing", token=token), code=303)
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
@limiter.limit(booking_rate_limit)
def pay_with_card(token: str):
    """Charge the card set up in the browser to the route's payment; JSON for the page's
    script, as for one booking (``bookings.pay_with_card``)."""
    processing_url = url_for("itineraries.processing", token=token)
    stripe_gateway = current_gateway()
    card_key = None  # what is being paid, once found
    try:
        found = changes.find_route_booking(db.session, token)
        card_key = f"route-booking-{found.id}"
        intent = route_card.pay_route_with_card(
            db.session, found, str(request.form.get("setup_intent", "")), stripe_gateway, utcnow()
        )
    except GatewayError:
        return jsonify(error=str(refunds.PaymentsUnavailable()), next=processing_url), 503
    except (route_card.RouteHoldExpired, payments.NothingToPay):
        return jsonify(error=_("This booking can no longer be paid."), next=processing_url), 409
    except DomainError as error:
        return card_refusals.refused(error, stripe_gateway, card_key)
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
    outcome = "nothing pending"
    try:
        with unit_of_work():
            outcome = route_card.sync_route_booking(db.session, found, gateway, utcnow())
    except (GatewayError, PaymentDeclined):
        gateway_down = True
    found = changes.find_route_booking(db.session, token)
    state = route_card.route_checkout_state(found)
    if state == "confirmed":
        if any(p.status == PaymentStatus.SUCCEEDED for p in found.payments):
            flash(_("Payment received: your route is confirmed."))
        return redirect(url_for("itineraries.manage", token=token), code=303)
    if state in ("refunded", "expired"):
        return _payment_problem(found, state, 200)
    polls = max(0, min(request.args.get("polls", 0, type=int) or 0, MAX_PROCESSING_POLLS))
    # Held, and no card tried at Stripe (or no payment opened): nothing is on its way.
    unpaid = state == "pending" and outcome in ("unpaid", "nothing pending")
    return render_template(
        "itineraries/processing.html",
        rb=found,
        failed=state == "failed",
        unpaid=unpaid,
        gateway_down=gateway_down,
        refresh_url=url_for("itineraries.processing", token=token, polls=polls + 1)
        if polls < MAX_PROCESSING_POLLS and state == "pending" and not unpaid
        else None,
    )

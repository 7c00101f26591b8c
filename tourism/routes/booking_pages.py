"""The pages of the booking views: the form with its quote, the private booking page's
facts, and the page ending a card payment that did not confirm. Rendering only; the views
in ``bookings`` parse input and call the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app, render_template, request
from markupsafe import Markup

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..forms.addons import safe_addons_from
from ..models import BookingStatus, Departure, NightSide
from ..money import format_parts
from ..services.booking import addons, availability, bookable, statement
from ..services.booking import lifecycle as booking_service
from ..services.ledger import transparency
from ..services.messages import booking_files, conversations, message_log
from ..services.messages.phones import CHANNEL_LABELS
from ..services.payments.stripe_gateway import current_gateway


@dataclass
class AddonOffer:
    """The extras and homestays a departure's booking form offers, and what was chosen."""

    departure: Departure
    extras: list
    homestays: list
    nights: dict = field(default_factory=dict)

    def quote_cents(self, form) -> int:
        """What the extras and nights posted add to the quote (0 on a first view)."""
        if not form.is_submitted():
            return 0
        chosen = safe_addons_from(request.form)
        experience = self.departure.experience
        limit = experience.max_tickets_per_booking
        people = sum(
            q for q in form.quantities().values() if isinstance(q, int) and 0 <= q <= limit
        )
        return addons.quote_cents(experience, self.homestays, chosen, people)

    def chosen(self, name: str) -> str:
        return request.form.get(name, "") if request.method == "POST" else ""


def addon_offer(departure) -> AddonOffer:
    experience = departure.experience
    homestays = addons.offered_homestays(db.session, experience)
    nights = {side.value: addons.night_of(departure, side.value) for side in NightSide}
    return AddonOffer(departure, addons.offered_extras(experience), homestays, nights)


def posted_addons_cents(departure_id: int, form) -> int:
    """What the extras and nights posted add to the quote. A form that asks for none (no
    night, every extra at 0) adds nothing whatever is offered, so the departure and its
    offer (ORM objects, two queries) are read only when something was asked for."""
    chosen = safe_addons_from(request.form)
    if not chosen.nights and not any(chosen.extras.values()):
        return 0
    departure = bookable.published_departure(db.session, departure_id)
    return addon_offer(departure).quote_cents(form)


def render_form(departure, form, status=200, error=None, review=False):
    """The booking form with the total the chosen tickets make; ``review``: the visitor
    sent tickets whose total the page had not shown them yet, so it asks them to check it."""
    now = utcnow()
    closed = departure.starts_at - booking_service.DEFAULT_CUTOFF <= now
    seats = 0 if closed else availability.seats_left(db.session, departure, now)
    methods = [choice.value for choice in form.payment_method.choices]
    method = form.payment_method.data if form.payment_method.data in methods else None
    breakdown, one_ticket = transparency.quote_tickets(
        db.session,
        departure.experience,
        form.quantities(),
        now,
        method or (methods[0] if methods else None),
        transparency.FeeEstimate.from_config(current_app.config),
    )
    offer = addon_offer(departure)
    quote = form.quote_for(departure.experience, offer.quote_cents(form))
    form.quoted.data = quote.key
    return (
        render_template(
            "bookings/new.html",
            departure=departure,
            experience=departure.experience,
            form=form,
            seats_left=seats,
            closed=closed,
            error=error,
            review=review,
            quote=quote,
            money_parts=format_parts(departure.experience.currency),
            online_available=current_gateway() is not None,
            breakdown=breakdown,
            offer=offer,
            breakdown_ticket=transparency.default_ticket(departure.experience)
            if one_ticket
            else None,
        ),
        status,
    )


def manage_context(booking, error: DomainError | None = None) -> dict:
    """The booking page's facts: its money, where it goes, and the QR code for check-in."""
    confirmed = booking.status == BookingStatus.CONFIRMED
    return {
        "booking": booking,
        "now": utcnow(),
        "error": str(error) if error else None,
        "breakdown": breakdown_of(booking),
        "money": statement.money_summary(booking),
        "qr_svg": Markup(booking_files.qr_svg(booking.reference)) if confirmed else None,  # noqa: S704 (segno's own SVG of our reference)
        # WhatsApp/SMS: read only for a visitor who asked for them.
        "phone_messages": message_log.booking_conversation(db.session, booking)
        if booking.message_opt_in_at
        else [],
        "phone_channels": CHANNEL_LABELS,
        "messages_stopped": conversations.is_stopped(db.session, booking.message_phone)
        if booking.message_opt_in_at
        else None,
        "message_kinds": message_log.KIND_LABELS,
        "message_states": message_log.STATUS_LABELS,
    }


def breakdown_of(booking):
    """Where the booking's money goes, by the rule it was sold under."""
    fees = transparency.FeeEstimate.from_config(current_app.config)
    return transparency.booking_breakdown(db.session, booking, fees)


def manage_with_error(token: str, error: DomainError):
    """The booking's page again with ``error``; the unit of work that failed rolled back."""
    booking = booking_service.find_by_token(db.session, token)
    return render_template("bookings/manage.html", **manage_context(booking, error)), (
        error.status_code
    )


def payment_problem(booking, state: str, status: int, refund_cents: int = 0):
    """The page that ends a card payment that did not confirm the booking, saying why."""
    return render_template(
        "bookings/payment_problem.html",
        booking=booking,
        state=state,
        refund_cents=refund_cents,
    ), status

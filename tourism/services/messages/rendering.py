"""Rendering booking emails: subject, text and HTML from the ``emails/`` templates, with the
booking's QR code inline and an iCalendar attachment where the kind calls for one (both made
by ``booking_files``; links by ``links``).

The kinds of booking email (one template pair each) are defined here; ``notifications`` queues
and sends them. The helpers shared with account and notice emails (``Rendered``,
``message_locale``, ``tidy_text``) live here too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import object_session

from ... import timefmt
from ...i18n import available_locales
from ...models import Booking, Notification, PaymentStatus, RouteBooking, RouteBookingLeg
from ...text_input import one_line
from ..ledger import transparency
from . import impact
from .booking_files import booking_calendar, qr_png, qr_side
from .links import absolute_url, manage_url
from .mail import MESSAGE_ID_DOMAIN

#: The kinds of booking email; each has ``emails/<kind>.html`` and ``emails/<kind>.txt``.
CONFIRMED = "confirmed"
REMINDER = "reminder"
CANCELLED = "cancelled"
DEPARTURE_CANCELLED = "departure_cancelled"
LATE_PAYMENT_REFUNDED = "late_payment_refunded"
#: After the visit: who hosted it and where the money went (``services.impact``).
IMPACT = "impact"
#: A route booking's (``services.routes.notices``): queued on its first leg booking.
ROUTE_CONFIRMED = "route_confirmed"
ROUTE_PAYMENT_REFUNDED = "route_payment_refunded"
ROUTE_KINDS = (ROUTE_CONFIRMED, ROUTE_PAYMENT_REFUNDED)
#: Seats freed on a sold-out departure, held for someone on its waiting list.
WAITLIST_OFFER = "waitlist_offer"
#: Staff moved the booking to another date (``booking.rebooking``); sent at each move.
DATE_CHANGED = "date_changed"
#: A confirmed booking's payment was refunded in full from the payment provider's dashboard
#: (``payments.webhooks.record_refunds``): the booking no longer holds its seats.
REFUNDED = "refunded"
KINDS = (
    CONFIRMED,
    REMINDER,
    CANCELLED,
    DEPARTURE_CANCELLED,
    LATE_PAYMENT_REFUNDED,
    IMPACT,
    *ROUTE_KINDS,
    WAITLIST_OFFER,
    DATE_CHANGED,
    REFUNDED,
)
#: Kinds whose email carries the booking's QR code for check-in.
WITH_QR = (CONFIRMED, REMINDER, DATE_CHANGED)
#: Kinds that tell the tourist's calendar to drop the event the confirmation added.
CALENDAR_CANCEL = (CANCELLED, DEPARTURE_CANCELLED, REFUNDED)


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def _date_changes(booking: Booking) -> int:
    """How many times the booking's date was changed (each told with a new calendar version)."""
    session = object_session(booking)
    return len(
        session.scalars(
            select(Notification.id).where(
                Notification.booking_id == booking.id, Notification.kind == DATE_CHANGED
            )
        ).all()
    )


def build_booking_message(notification: Notification) -> EmailMessage:
    """The complete email for the booking ``notification``, in its language."""
    booking = notification.booking
    if booking is None:
        raise ValueError(f"notification {notification.key} has no booking")
    if notification.kind not in KINDS:
        raise ValueError(f"unknown notification kind {notification.kind!r}")
    context = json.loads(notification.context or "{}")
    locale = message_locale(notification.language)
    qr_cid = make_msgid(domain=MESSAGE_ID_DOMAIN) if notification.kind in WITH_QR else None
    with force_locale(locale):
        rendered = render(notification.kind, booking, locale, context, qr_cid)
        calendar = None
        if notification.kind == CONFIRMED:
            calendar = booking_calendar(booking, locale)
        elif notification.kind == DATE_CHANGED:
            # The same event (same UID) at its new time, a version later.
            calendar = booking_calendar(booking, locale, sequence=int(context.get("sequence", 1)))
        elif notification.kind in CALENDAR_CANCEL:
            # A version above the last date change, or calendars would keep the moved event.
            calendar = booking_calendar(
                booking, locale, cancel=True, sequence=_date_changes(booking) + 1
            )

    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = notification.recipient
    message["Subject"] = one_line(rendered.subject)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if qr_cid is not None:
        html_part = message.get_payload()[1]
        html_part.add_related(
            qr_png(booking.reference),
            maintype="image",
            subtype="png",
            cid=qr_cid,
            disposition="inline",
            filename=f"{booking.reference}.png",
        )
    if calendar is not None:
        message.add_attachment(
            calendar,
            maintype="text",
            subtype="calendar",
            filename=f"{booking.reference}.ics",
            params={"method": "CANCEL" if notification.kind in CALENDAR_CANCEL else "PUBLISH"},
        )
    # Last: building the MIME tree moves or drops Content-* headers set earlier.
    message["Content-Language"] = locale
    return message


def message_locale(language: str | None) -> str:
    """The booking's language when the site speaks it, else the default one."""
    config = current_app.config
    return language if language in available_locales() else config["BABEL_DEFAULT_LOCALE"]


def when(moment: datetime) -> str:
    """Local date and start time with the zone, as on the booking page: "Tuesday, December
    2, 2025 at 8:30 (Ecuador time, UTC−5)": the reader may be in another zone."""
    return timefmt.when(moment, zoned=True)


def policy_lines(policy: list | None) -> list[str]:
    """The refund tiers in words, most generous first (the wording of the booking page)."""
    tiers = sorted(policy or [], key=lambda tier: int(tier["hours"]), reverse=True)
    lines = []
    for tier in tiers:
        hours, percent = int(tier["hours"]), int(tier["percent"])
        if hours <= 0:
            if percent >= 100:
                lines.append(_("Cancel any time before the departure: full refund"))
            elif percent <= 0:
                lines.append(_("Cancel any time before the departure: no refund"))
            else:
                lines.append(
                    _(
                        "Cancel any time before the departure: %(percent)s%% refund",
                        percent=percent,
                    )
                )
        elif percent >= 100:
            lines.append(
                ngettext(
                    "Cancel at least %(num)s hour before the departure: full refund",
                    "Cancel at least %(num)s hours before the departure: full refund",
                    hours,
                )
            )
        elif percent <= 0:
            lines.append(
                ngettext(
                    "Cancel at least %(num)s hour before the departure: no refund",
                    "Cancel at least %(num)s hours before the departure: no refund",
                    hours,
                )
            )
        else:
            lines.append(
                ngettext(
                    "Cancel at least %(num)s hour before the departure: %(percent)s%% refund",
                    "Cancel at least %(num)s hours before the departure: %(percent)s%% refund",
                    hours,
                    percent=percent,
                )
            )
    if not tiers:
        lines.append(_("Cancellations are not refunded."))
    elif int(tiers[-1]["hours"]) > 0 and int(tiers[-1]["percent"]) > 0:
        lines.append(_("Later: no refund"))
    return lines


def _route_booking(session, booking: Booking, context: dict):
    """The route booking an email is about: named in the context (a route's email), or the
    one ``booking`` is a leg of (a leg's own email), else ``None``."""
    if context.get("route_booking_id"):
        return session.get(RouteBooking, int(context["route_booking_id"]))
    return session.scalar(
        select(RouteBooking)
        .join(RouteBookingLeg, RouteBookingLeg.route_booking_id == RouteBooking.id)
        .where(RouteBookingLeg.booking_id == booking.id)
    )


def route_days(route_booking) -> list[tuple[int, list[tuple[str, str, str]]]]:
    """Day by day: (day, [(when, what, reference)]) of the activities and the nights."""
    locale_of = route_booking.language
    days: dict[int, list[tuple[str, str, str]]] = {}
    for booking_leg in sorted(route_booking.legs, key=lambda bl: bl.booking.departure.starts_at):
        leg_booking = booking_leg.booking
        experience = leg_booking.departure.experience
        text = experience.text(locale_of)
        days.setdefault(booking_leg.leg.day, []).append(
            (
                timefmt.when(leg_booking.departure.starts_at, zoned=False),
                text.title if text else experience.slug,
                leg_booking.reference,
            )
        )
    for night in route_booking.nights:
        day = 1 + (night.night - route_booking.start_date).days
        days.setdefault(day, []).append(
            (
                timefmt.fmt_date(night.night, "full"),
                _("Night with %(family)s", family=night.homestay.family.name),
                "",
            )
        )
    return sorted(days.items())


def subject_for(kind: str, booking: Booking, title: str) -> str:
    reference = booking.reference
    if kind == ROUTE_CONFIRMED:
        return _("Route %(reference)s confirmed: %(title)s", reference=reference, title=title)
    if kind == ROUTE_PAYMENT_REFUNDED:
        return _("Route %(reference)s: your payment has been refunded", reference=reference)
    if kind == CONFIRMED:
        return _("Booking %(reference)s confirmed: %(title)s", reference=reference, title=title)
    if kind == REMINDER:
        return _("Tomorrow: %(title)s", title=title)
    if kind == CANCELLED:
        return _("Booking %(reference)s cancelled: %(title)s", reference=reference, title=title)
    if kind == IMPACT:
        return _("Thank you for visiting: where your money went, %(title)s", title=title)
    if kind == WAITLIST_OFFER:
        return _("Seats are free for you: %(title)s", title=title)
    if kind == DATE_CHANGED:
        return _("Booking %(reference)s: new date for %(title)s", reference=reference, title=title)
    if kind == REFUNDED:
        return _(
            "Booking %(reference)s refunded and cancelled: %(title)s",
            reference=reference,
            title=title,
        )
    if kind == DEPARTURE_CANCELLED:
        return _(
            "Booking %(reference)s: the departure of %(title)s has been cancelled",
            reference=reference,
            title=title,
        )
    return _("Booking %(reference)s: your payment has been refunded", reference=reference)


def render(
    kind: str, booking: Booking, locale: str, context: dict, qr_cid: str | None = None
) -> Rendered:
    """Subject, plain text and HTML of one email; call inside ``force_locale(locale)``."""
    departure = booking.departure
    experience = departure.experience
    text = experience.text(locale)
    title = text.title if text else experience.slug
    values = dict(
        context,
        kind=kind,
        booking=booking,
        departure=departure,
        experience=experience,
        text=text,
        title=title,
        title_lang=text.locale if text and text.locale != locale else None,
        locale=locale,
        when=when(departure.starts_at),
        manage_url=manage_url(booking),
        experience_url=absolute_url("public.experience", slug=experience.slug, lang=locale),
        calendar_url=absolute_url("bookings.calendar", token=booking.manage_token),
        terms_url=absolute_url("public.terms", slug=experience.association.slug, lang=locale),
        privacy_url=absolute_url("public.privacy", lang=locale),
        # Paid ahead, by card or by a bank transfer the treasurer received: a cancellation
        # that refunds nothing says so, not that there was nothing to refund.
        paid_online_ever=any(
            payment.provider in ("stripe", "bank_transfer")
            and payment.status == PaymentStatus.SUCCEEDED
            for payment in booking.payments
        ),
        policy_lines=policy_lines(experience.cancellation_policy),
        qr_src=f"cid:{qr_cid[1:-1]}" if qr_cid else None,
        qr_side=qr_side(booking.reference) if qr_cid else 0,
        refund_cents=context.get("refund_cents"),
        reason=context.get("reason", ""),
        previous_when=when(datetime.fromisoformat(context["previous_starts_at"]))
        if context.get("previous_starts_at")
        else "",
        minimum=context.get("minimum"),
        offer_url=absolute_url("waitlist.offer", token=booking.manage_token)
        if kind == WAITLIST_OFFER
        else None,
        offer_until=when(booking.hold_expires_at) if booking.hold_expires_at else "",
    )
    session = object_session(booking)
    route_booking = values["route_booking"] = _route_booking(session, booking, context)
    if route_booking is not None:
        # A route's email, or a leg's: the route's private page and its reference.
        values["route_manage_url"] = absolute_url(
            "itineraries.manage", token=route_booking.manage_token
        )
        values["manage_url"] = values["route_manage_url"]
        if kind in ROUTE_KINDS:
            route_text = route_booking.route.text(locale)
            title = route_text.title if route_text else route_booking.route.slug
            values.update(
                title=title,
                route_days=route_days(route_booking),
                route_paid_online=sum(
                    p.amount_cents
                    for p in route_booking.payments
                    if p.status == PaymentStatus.SUCCEEDED
                ),
                policy_lines=policy_lines(route_booking.route.cancellation_policy),
            )
            values["subject"] = subject = subject_for(kind, route_booking, title)
            html = render_template(f"emails/{kind}.html", **values)
            plain = render_template(f"emails/{kind}.txt", **values)
            return Rendered(subject=subject, text=tidy_text(plain), html=html)
    if kind == CONFIRMED:
        fees = transparency.FeeEstimate.from_config(current_app.config)
        values["breakdown"] = transparency.booking_breakdown(session, booking, fees)
    elif kind == IMPACT:
        values["impact"] = impact.impact_receipt(session, booking)
    values["subject"] = subject = subject_for(kind, booking, title)
    html = render_template(f"emails/{kind}.html", **values)
    plain = render_template(f"emails/{kind}.txt", **values)
    return Rendered(subject=subject, text=tidy_text(plain), html=html)


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)) + "\n"

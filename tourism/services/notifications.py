"""Emails to tourists through an outbox: queue in the transaction, send after the commit.

A service that changes a booking calls ``queue`` in the same transaction, which adds one
``Notification`` row; the unique ``key`` (``booking:<id>:<kind>``) means the same message can
never be queued twice, however often the event behind it is replayed. After the commit,
``deliver_pending`` renders every unsent row in the booking's language, hands it to a
``Mailer`` and marks it sent; a failure is counted and retried on the next run.

Delivery is at least once: if the commit after sending fails, the message goes out again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask import current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import utcnow
from ..mail import MESSAGE_ID_DOMAIN, Mailer
from ..models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Notification,
    PaymentStatus,
)
from ..timefmt import fmt_date, fmt_time, local_to_utc

CONFIRMED = "confirmed"
REMINDER = "reminder"
CANCELLED = "cancelled"
DEPARTURE_CANCELLED = "departure_cancelled"
LATE_PAYMENT_REFUNDED = "late_payment_refunded"
KINDS = (CONFIRMED, REMINDER, CANCELLED, DEPARTURE_CANCELLED, LATE_PAYMENT_REFUNDED)

#: After this many failed attempts a notification is left alone (see ``last_error``).
MAX_ATTEMPTS = 5
#: Kinds whose email carries the booking's QR code for check-in.
WITH_QR = (CONFIRMED, REMINDER)
#: Kinds that tell the tourist's calendar to drop the event the confirmation added.
CALENDAR_CANCEL = (CANCELLED, DEPARTURE_CANCELLED)


#: Key in ``Session.info`` listing the ids queued by the current unit of work.
QUEUED_KEY = "queued_notification_ids"


def notification_key(booking: Booking, kind: str) -> str:
    return f"booking:{booking.id}:{kind}"


def queue(session: Session, booking: Booking, kind: str, **context: Any) -> Notification | None:
    """Add the ``kind`` email for ``booking`` to the outbox, unless it is already there.

    Runs in the caller's transaction and only flushes. Returns the new row, or ``None`` when
    this message was queued before (by an earlier call or a concurrent one). ``context``
    holds JSON-serialisable extras for the template, e.g. ``refund_cents=4500``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if booking.id is None:
        session.flush()
    key = notification_key(booking, kind)
    if session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return None
    notification = Notification(
        key=key,
        kind=kind,
        booking=booking,
        recipient=booking.contact_email,
        language=booking.language,
        context=json.dumps(context, sort_keys=True),
    )
    try:
        # A concurrent transaction may queue the same key between our check and our insert;
        # the savepoint lets the unique index refuse it without spoiling the caller's work.
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        return None
    # Remembered so the request that queued it can send just its own mail after commit.
    session.info.setdefault(QUEUED_KEY, []).append(notification.id)
    return notification


def deliver_pending(
    session: Session, mailer: Mailer, limit: int = 50, only_ids: list[int] | None = None
) -> int:
    """Render and send unsent notifications, oldest first; returns how many were sent.

    Call it after the commit that queued them, then commit again. Each success sets
    ``sent_at``; each failure increments ``attempts``, keeps ``last_error`` and moves on.
    ``attempts`` counts every try, so a message sent at the first try has ``attempts == 1``.
    ``only_ids`` restricts delivery to the notifications a request just queued.
    """
    statement = select(Notification).where(
        Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS
    )
    if only_ids is not None:
        statement = statement.where(Notification.id.in_(only_ids or [-1]))
    pending = session.scalars(
        statement
        .order_by(Notification.created_at, Notification.id)
        .limit(limit)
        # Two dispatchers on PostgreSQL never take the same rows (SQLite: a no-op; its
        # callers hold the write lock anyway).
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for notification in pending:
        notification.attempts += 1
        try:
            mailer.send(build_message(notification))
        except Exception as error:  # any failure: keep it for the next run, try the next one
            notification.last_error = f"{type(error).__name__}: {error}"[:2000]
            continue
        notification.sent_at = utcnow()
        if notification.kind in ACCOUNT_KINDS:
            # The link carries a secret: once mailed, the outbox no longer needs to keep it.
            notification.context = "{}"
        notification.last_error = ""
        sent += 1
    session.flush()
    return sent


def send_pending(session: Session, mailer: Mailer, batch_size: int = 50) -> int:
    """Deliver everything pending in batches, committing after each; returns how many sent.

    For commands and jobs only (never inside a request's transaction): committing per batch
    records what went out early and, on SQLite, releases the write lock between batches.
    A failing message is retried in later batches until it reaches ``MAX_ATTEMPTS``.
    """
    total = 0
    while True:
        sent = deliver_pending(session, mailer, limit=batch_size)
        session.commit()
        total += sent
        if sent < batch_size:
            return total


def queue_reminders(session: Session, today: date, zone: ZoneInfo) -> int:
    """Queue a reminder for every confirmed booking whose departure is on the next local day.

    ``today`` is the local date; returns how many reminders were newly queued.
    """
    start = local_to_utc(today + timedelta(days=1), time(0, 0), zone)
    end = local_to_utc(today + timedelta(days=2), time(0, 0), zone)
    bookings = session.scalars(
        select(Booking)
        .join(Departure, Booking.departure_id == Departure.id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.starts_at >= start,
            Departure.starts_at < end,
        )
        .order_by(Departure.starts_at, Booking.id)
    ).all()
    return sum(queue(session, booking, REMINDER) is not None for booking in bookings)


# --- Rendering ---------------------------------------------------------------------------


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def build_message(notification: Notification) -> EmailMessage:
    """The complete email for ``notification``, in its language, ready for a ``Mailer``."""
    if notification.kind in ACCOUNT_KINDS:
        return build_account_message(notification)
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
        elif notification.kind in CALENDAR_CANCEL:
            calendar = booking_calendar(booking, locale, cancel=True)

    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = notification.recipient
    message["Subject"] = rendered.subject
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
    return language if language in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def absolute_url(endpoint: str, **values: Any) -> str:
    """An absolute link into the site from ``PUBLIC_URL``; needs no request, works in one."""
    path = current_app.url_map.bind("", script_name="/").build(endpoint, values)
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def manage_url(booking: Booking) -> str:
    """The booking's private page: ``PUBLIC_URL/bookings/<manage_token>``."""
    return absolute_url("bookings.manage", token=booking.manage_token)


def when(moment: datetime) -> str:
    """Local date and start time, as on the booking page: "Tuesday, December 2, 2025 at 8:30"."""
    return _("%(date)s at %(time)s", date=fmt_date(moment, "full"), time=fmt_time(moment))


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


def subject_for(kind: str, booking: Booking, title: str) -> str:
    reference = booking.reference
    if kind == CONFIRMED:
        return _("Booking %(reference)s confirmed: %(title)s", reference=reference, title=title)
    if kind == REMINDER:
        return _("Tomorrow: %(title)s", title=title)
    if kind == CANCELLED:
        return _("Booking %(reference)s cancelled: %(title)s", reference=reference, title=title)
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
        paid_online_ever=any(
            payment.provider == "stripe" and payment.status == PaymentStatus.SUCCEEDED
            for payment in booking.payments
        ),
        policy_lines=policy_lines(experience.cancellation_policy),
        qr_src=f"cid:{qr_cid[1:-1]}" if qr_cid else None,
        refund_cents=context.get("refund_cents"),
        reason=context.get("reason", ""),
    )
    values["subject"] = subject = subject_for(kind, booking, title)
    html = render_template(f"emails/{kind}.html", **values)
    plain = render_template(f"emails/{kind}.txt", **values)
    return Rendered(subject=subject, text=tidy_text(plain), html=html)


_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)) + "\n"


def qr_png(data: str) -> bytes:
    """A PNG QR code of ``data`` (the booking reference), large enough to scan from a phone."""
    buffer = BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def booking_calendar(booking: Booking, locale: str, cancel: bool = False) -> bytes:
    """An iCalendar file with the visit as one event (or its cancellation), in local time."""
    departure = booking.departure
    experience = departure.experience
    text = experience.text(locale)
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    link = manage_url(booking)

    calendar = Calendar()
    calendar.add("prodid", "-//Chakra Routes//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.reference}@chakraroutes")
    event.add("dtstamp", utcnow())
    event.add("dtstart", departure.starts_at.astimezone(zone))
    event.add("dtend", departure.ends_at.astimezone(zone))
    event.add("summary", text.title if text else experience.slug)
    if text and text.meeting_point:
        event.add("location", text.meeting_point)
    event.add(
        "description",
        "\n".join(
            [
                _("Booking reference: %(reference)s", reference=booking.reference),
                _("See or cancel your booking: %(url)s", url=link),
            ]
        ),
    )
    event.add("url", link)
    if cancel:
        event.add("status", "CANCELLED")
        event.add("sequence", 1)
    else:
        event.add("status", "CONFIRMED")
        event.add("sequence", 0)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


# --- Account emails: password resets and invitations (no booking) ----------------------------

PASSWORD_RESET = "password_reset"  # noqa: S105 (an email kind, not a password)
INVITATION = "invitation"
ACCOUNT_KINDS = (PASSWORD_RESET, INVITATION)


def queue_account_email(
    session: Session, *, kind: str, key: str, recipient: str, language: str | None, **context: Any
) -> Notification | None:
    """Add an account email (``password_reset`` or ``invitation``) to the outbox, unless one
    with ``key`` is there already; returns the new row or ``None``.

    Runs in the caller's transaction and only flushes; send it after the commit like any
    other notification (``routes.effects.send_queued_emails``). ``key`` names the message
    once and for all: use ``accounts.link_key(raw_token)``. ``context`` is JSON-serialisable
    and must hold ``url``, the absolute link (``absolute_url("auth.reset_password",
    token=raw)``); an invitation also gives ``association`` (its name) and ``role``
    (``"admin"``, ``"staff"`` or ``"guide"``), and may give ``inviter`` (a name).
    """
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"unknown account email kind {kind!r}")
    if not context.get("url"):
        raise ValueError("an account email needs its link: url=...")
    if kind == INVITATION and not (context.get("association") and context.get("role")):
        raise ValueError("an invitation needs association=... and role=...")
    if session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return None
    notification = Notification(
        key=key,
        kind=kind,
        booking=None,
        recipient=recipient,
        language=language or current_app.config["BABEL_DEFAULT_LOCALE"],
        context=json.dumps(context, sort_keys=True),
    )
    try:
        with session.begin_nested():  # as in ``queue``: a concurrent twin is refused quietly
            session.add(notification)
    except IntegrityError:
        return None
    session.info.setdefault(QUEUED_KEY, []).append(notification.id)
    return notification


def role_label(role: str) -> str:
    """A membership role in words, in the current locale."""
    labels = {
        "admin": _("administrator"),
        "staff": _("staff member"),
        "guide": _("guide"),
    }
    return labels.get(role, role)


def account_subject(kind: str, context: dict) -> str:
    if kind == PASSWORD_RESET:
        return _("Reset your Chakra Routes password")
    return _(
        "Invitation to join %(association)s on Chakra Routes",
        association=context.get("association", ""),
    )


def render_account(kind: str, locale: str, context: dict) -> Rendered:
    """Subject, text and HTML of an account email; call inside ``force_locale(locale)``."""
    from .accounts import INVITE_LIFETIME, RESET_LIFETIME

    values = dict(
        context,
        kind=kind,
        locale=locale,
        url=context["url"],
        association=context.get("association", ""),
        inviter=context.get("inviter", ""),
        role=role_label(str(context.get("role", ""))),
        valid_hours=int(RESET_LIFETIME.total_seconds() // 3600),
        valid_days=INVITE_LIFETIME.days,
        site_url=current_app.config["PUBLIC_URL"].rstrip("/") + "/",
    )
    values["subject"] = subject = account_subject(kind, context)
    html = render_template(f"emails/{kind}.html", **values)
    plain = render_template(f"emails/{kind}.txt", **values)
    return Rendered(subject=subject, text=tidy_text(plain), html=html)


def build_account_message(notification: Notification) -> EmailMessage:
    """The complete account email for ``notification``, in its language."""
    context = json.loads(notification.context or "{}")
    locale = message_locale(notification.language)
    with force_locale(locale):
        rendered = render_account(notification.kind, locale, context)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = notification.recipient
    message["Subject"] = rendered.subject
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    message["Content-Language"] = locale
    return message

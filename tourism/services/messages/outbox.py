"""Emails to tourists through an outbox: queue in the transaction, send after the commit.

A service that changes a booking calls ``queue`` in the same transaction, which adds one
``Notification`` row and enqueues its ``send-email`` job (``tourism.jobs``); the unique keys
(``booking:<id>:<kind>``, the job's ``email:<that key>``) mean the same message can never be
queued twice, however often the event behind it is replayed. After the commit a worker (or,
with ``MAIL_DELIVERY=request``, the request's own process) runs the job: ``deliver_pending``
renders the row in the booking's language, hands it to a ``Mailer`` and marks it sent; a
failure is counted on the row and the job is retried with backoff, then left as a dead letter
on ``/manage/jobs``.

Delivery is at least once: if the commit after sending fails, the message goes out again.

The emails themselves are rendered by ``email_rendering`` (booking emails) and
``account_emails`` (password resets and invitations) and ``notice_emails`` (families' and
guides' notices by email); ``build_message`` picks the right one.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from ... import faults
from ...database import utcnow
from ...jobs.queue import run_inline_after_commit
from ...jobs.registry import job, registered
from ...models import (
    Booking,
    BookingStatus,
    Departure,
    DepartureStatus,
    Notification,
)
from ...timefmt import local_to_utc
from . import outbox_statements as statements
from .account_emails import (
    ACCOUNT_KINDS,
    INVITATION,
    build_account_message,
)
from .email_jobs import SEND_EMAIL, delivery_key, enqueue_delivery  # noqa: F401 (shared names)
from .mail import Mailer, get_mailer
from .notice_emails import NOTICE, build_notice_message
from .phone_notices import queue_for_booking as queue_phone_twin
from .rendering import (
    IMPACT,
    KINDS,
    REMINDER,
    build_booking_message,
)

#: After this many failed attempts a notification is left alone (see ``last_error``).
MAX_ATTEMPTS = 5


def notification_key(booking: Booking, kind: str, occurrence: str = "") -> str:
    """``booking:<id>:<kind>``, with ``:<occurrence>`` for a kind that may happen more
    than once to one booking (each date change is told)."""
    key = f"booking:{booking.id}:{kind}"
    return f"{key}:{occurrence}" if occurrence else key


def queue(
    session: Session, booking: Booking, kind: str, occurrence: str = "", **context: Any
) -> Notification | None:
    """Add the ``kind`` email for ``booking`` to the outbox, unless it is already there.

    Runs in the caller's transaction and only flushes. Returns the new row, or ``None`` when
    this message was queued before (by an earlier call or a concurrent one). ``context``
    holds JSON-serialisable extras for the template, e.g. ``refund_cents=4500``;
    ``occurrence`` tells apart messages of a kind that may happen again (``notification_key``).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if booking.id is None:
        session.flush()
    values = {
        "key": notification_key(booking, kind, occurrence),
        "kind": kind,
        "booking_id": booking.id,
        "recipient": booking.contact_email,
        "language": booking.language,
        "context": json.dumps(context, sort_keys=True),
        "created_at": utcnow(),
        "attempts": 0,
        "last_error": "",
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        job = statements.job_params(SEND_EMAIL, registered(SEND_EMAIL).max_attempts)
        new_id, job_id = session.execute(
            statements.QUEUE_WITH_JOB, values | job | {"job_key": f"email:{values['key']}"}
        ).one()
    else:
        new_id, job_id = session.scalar(statements.QUEUE[dialect], values), None
    if new_id is None:
        return None
    # The WhatsApp/SMS twin, for a tourist who opted in: same transaction, same key base.
    queue_phone_twin(session, booking, kind, context, occurrence)
    notification = Notification(id=new_id, sent_at=None, **values)
    make_transient_to_detached(notification)  # the row exists: known to the session, no query
    session.add(notification)
    if dialect == "postgresql":
        run_inline_after_commit(session, job_id)
    else:
        enqueue_delivery(session, notification)
    return notification


def queued_in_insert(session: Session, job_id: int | None) -> None:
    """An email a booking's insert queued itself (``outbox_statements.with_new_booking``):
    its job runs once the request commits where this process runs jobs (no worker)."""
    run_inline_after_commit(session, job_id)


class EmailNotSent(RuntimeError):
    """The mail server refused or could not be reached: the job is tried again later."""


@job(SEND_EMAIL, max_attempts=MAX_ATTEMPTS)
def send_email(session: Session, payload: dict[str, Any], _key: str) -> None:
    """The send-email job: send one notification unless it went out already (the
    notification's ``sent_at`` makes it idempotent; ``attempts`` and ``last_error`` record
    each try as before). Raises while it is not sent, so the job is retried with backoff."""
    notification_id = payload["notification_id"]
    deliver_pending(
        session, get_mailer(current_app.config), only_ids=[notification_id], any_attempts=True
    )
    # Keep the try's record (attempts, error) even when the job fails and rolls back.
    session.commit()
    notification = session.get(Notification, notification_id)
    if notification is not None and notification.sent_at is None:
        raise EmailNotSent(notification.last_error or "busy: another sender holds it")


def deliver_pending(
    session: Session,
    mailer: Mailer,
    limit: int = 50,
    only_ids: list[int] | None = None,
    any_attempts: bool = False,
) -> int:
    """Render and send unsent notifications, oldest first; returns how many were sent.

    Call it after the commit that queued them, then commit again. Each success sets
    ``sent_at``; each failure increments ``attempts``, keeps ``last_error`` and moves on.
    ``attempts`` counts every try, so a message sent at the first try has ``attempts == 1``.
    ``only_ids`` restricts delivery to those notifications; ``any_attempts`` sends them even
    past ``MAX_ATTEMPTS`` (the send-email job, whose own tries are counted and bounded).
    """
    statement = select(Notification).where(Notification.sent_at.is_(None))
    if not any_attempts:
        statement = statement.where(Notification.attempts < MAX_ATTEMPTS)
    if only_ids is not None:
        statement = statement.where(Notification.id.in_(only_ids or [-1]))
    pending = session.scalars(
        statement.order_by(Notification.created_at, Notification.id)
        .limit(limit)
        # Two dispatchers on PostgreSQL never take the same rows (SQLite: a no-op; its
        # callers hold the write lock anyway).
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for notification in pending:
        notification.attempts += 1
        try:
            faults.point("email.sending")
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


def queue_impact_receipts(
    session: Session, now: datetime, after: timedelta, within: timedelta
) -> int:
    """Queue the impact receipt (``services.impact``) of every confirmed booking that came
    (not marked no-show) on a departure that ran and ended between ``within`` and ``after``
    before ``now``. Each booking gets it once (its key); returns how many were newly queued.

    ``after`` gives the guide time to confirm the stops and record cash; ``within`` keeps a
    first run, or a scheduler that was down for a while, from mailing visits long past.
    """
    bookings = session.scalars(
        select(Booking)
        .join(Departure, Booking.departure_id == Departure.id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.no_show_at.is_(None),
            Departure.status == DepartureStatus.SCHEDULED,
            Departure.ends_at <= now - after,
            Departure.ends_at > now - within,
        )
        .order_by(Departure.ends_at, Booking.id)
    ).all()
    return sum(queue(session, booking, IMPACT) is not None for booking in bookings)


def queue_account_email(
    session: Session, *, kind: str, key: str, recipient: str, language: str | None, **context: Any
) -> Notification | None:
    """Add an account email (``password_reset`` or ``invitation``) to the outbox, unless one
    with ``key`` is there already; returns the new row or ``None``.

    Runs in the caller's transaction and only flushes; send it after the commit like any
    other notification (it is, by the unit of work that commits it). ``key`` names the message
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
    enqueue_delivery(session, notification)
    return notification


def build_message(notification: Notification) -> EmailMessage:
    """The complete email for ``notification``, in its language, ready for a ``Mailer``."""
    if notification.kind in ACCOUNT_KINDS:
        return build_account_message(notification)
    if notification.kind == NOTICE:
        return build_notice_message(notification)
    return build_booking_message(notification)

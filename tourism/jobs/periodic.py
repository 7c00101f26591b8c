"""Every periodic job, in one place: what runs, how often, and its handler.

``flask scheduler`` enqueues each entry of ``PERIODIC`` once per period (``schedule``);
``flask worker`` runs them. Times are UTC (Ecuador is UTC-5). Each handler is safe to run
again and late, like the command of the same name (a period missed is caught up by the next).
To add one: write ``@job("name")`` below and add ``Periodic("name", every=..., at=...)``
to ``PERIODIC`` (docs/JOBS.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..database import utcnow
from ..i18n import available_locales
from ..models import Notification, Schedule
from ..services.booking import lifecycle, privacy, seat_check, waitlist
from ..services.channels import webhooks
from ..services.ledger import checks, releases
from ..services.messages import dispatch, homestay_notices, outbox, phone_notices
from ..services.operations import minimums, recurrence
from ..services.payments import reconcile, refunds
from ..services.payments.stripe_gateway import current_gateway
from ..services.routes import extra_releases as route_extras
from ..services.routes import night_releases as route_nights
from ..timefmt import display_zone, local_today
from . import store
from .registry import job
from .schedule import Periodic

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

#: Done jobs are kept this long (for the record), then deleted by ``prune-jobs``.
KEEP_DONE = timedelta(days=14)

PERIODIC: tuple[Periodic, ...] = (
    Periodic("sweep-emails", every=10 * MINUTE, description="enqueue emails left without a job"),
    Periodic("expire-holds", every=5 * MINUTE),
    Periodic("reconcile-payments", every=15 * MINUTE, at=10 * MINUTE),
    Periodic("finish-refunds", every=15 * MINUTE, at=5 * MINUTE),
    Periodic("release-shares", every=HOUR),
    Periodic("send-impact-receipts", every=HOUR, at=20 * MINUTE),
    Periodic("generate-departures", every=DAY, at=6 * HOUR),
    Periodic("ledger-check", every=DAY, at=7 * HOUR),
    Periodic("seat-check", every=DAY, at=7 * HOUR + 10 * MINUTE),
    Periodic("forget-special-needs", every=DAY, at=7 * HOUR + 30 * MINUTE),
    Periodic("send-reminders", every=DAY, at=13 * HOUR),
    Periodic("tell-homestay-hosts", every=DAY, at=13 * HOUR + 5 * MINUTE),
    Periodic("prune-jobs", every=DAY, at=3 * HOUR),
    Periodic("send-messages", every=MINUTE, description="WhatsApp/SMS messages waiting"),
    Periodic("deliver-webhooks", every=MINUTE, description="resellers' webhook posts due"),
    Periodic("offer-waitlist", every=5 * MINUTE, at=MINUTE),
    Periodic("check-minimums", every=10 * MINUTE, at=2 * MINUTE),
)


class CheckFailed(RuntimeError):
    """A check found problems: the job fails and, with one try, is a dead letter at once."""


Payload = dict[str, Any]


@job("sweep-emails")
def enqueue_unsent_emails(session: Session, _payload: Payload, _key: str) -> None:
    """A send-email job for every unsent email that has none (queued before jobs existed,
    or whose job was pruned); the usual path is the job ``outbox.queue`` enqueues itself."""
    for notification in session.scalars(
        select(Notification).where(
            Notification.sent_at.is_(None), Notification.attempts < outbox.MAX_ATTEMPTS
        )
    ):
        outbox.enqueue_delivery(session, notification)


@job("expire-holds")
def expire_holds(session: Session, _payload: Payload, _key: str) -> None:
    lifecycle.expire_holds(session, utcnow())


@job("reconcile-payments", max_attempts=3)
def reconcile_payments(session: Session, _payload: Payload, _key: str) -> None:
    gateway = current_gateway()
    if gateway is None:  # no Stripe on this site: nothing to ask
        return
    now = utcnow()
    report = reconcile.reconcile_payments(session, gateway, now, now - 3 * DAY)
    if report.failed:
        raise CheckFailed("; ".join(f"{intent}: {why}" for intent, why in report.failed))


@job("finish-refunds", max_attempts=3)
def finish_refunds(session: Session, _payload: Payload, _key: str) -> None:
    gateway = current_gateway()
    if gateway is None:
        return
    result = refunds.finish_refunds(session, gateway)
    if result["owed"]:
        owed = "; ".join(f"refund {refund_id}: {why}" for refund_id, why in result["owed"])
        raise CheckFailed(f"still owed: {owed}")


@job("release-shares")
def release_shares(session: Session, _payload: Payload, _key: str) -> None:
    now = utcnow()
    releases.release_started_departures(session, now, 30)
    route_extras.release_route_extras(session, now, 30)
    route_nights.release_route_nights(session, now, 30)


@job("send-impact-receipts")
def send_impact_receipts(session: Session, _payload: Payload, _key: str) -> None:
    outbox.queue_impact_receipts(session, utcnow(), timedelta(hours=12), timedelta(days=7))


@job("generate-departures")
def generate_departures(session: Session, _payload: Payload, _key: str) -> None:
    today = local_today()
    for schedule in session.scalars(select(Schedule)).all():
        recurrence.generate_departures(
            session, schedule, today, today + timedelta(days=60), display_zone()
        )


@job("ledger-check", max_attempts=1)
def ledger_check(session: Session, _payload: Payload, _key: str) -> None:
    problems = checks.check(session)
    if problems:
        raise CheckFailed(f"{len(problems)} problem(s) in the ledger: " + "; ".join(problems[:20]))


@job("seat-check", max_attempts=1)
def check_seats(session: Session, _payload: Payload, _key: str) -> None:
    found = seat_check.mismatches(session)
    if found:
        raise CheckFailed(
            f"{len(found)} departure(s) with a wrong seat counter (flask seat-check --repair): "
            + "; ".join(map(str, found[:20]))
        )


@job("forget-special-needs")
def forget_special_needs(session: Session, _payload: Payload, _key: str) -> None:
    days = current_app.config["SPECIAL_NEEDS_KEEP_DAYS"]
    privacy.forget_special_needs(session, utcnow(), timedelta(days=days))
    homestay_notices.forget_needs(session, utcnow(), timedelta(days=days))


@job("send-reminders")
def send_reminders(session: Session, _payload: Payload, _key: str) -> None:
    today, zone = local_today(), display_zone()
    outbox.queue_reminders(session, today, zone)
    # Hosts and guides who chose WhatsApp/SMS: tomorrow's visitors and departures.
    phone_notices.queue_family_visitors(session, today, zone)
    phone_notices.queue_guide_tomorrow(session, today, zone)


@job("tell-homestay-hosts")
def tell_homestay_hosts(session: Session, _payload: Payload, _key: str) -> None:
    """Host families: who sleeps at their home tomorrow night, with dietary needs (once per
    family and night, however late or often it runs)."""
    homestay_notices.queue_homestay_tomorrow(session, local_today())


@job("send-messages")
def send_messages(session: Session, _payload: Payload, _key: str) -> None:
    """The WhatsApp/SMS rows waiting (a request's own delivery failed, or the site sends
    from workers only): each message is claimed by one runner, so two never send it twice."""
    session.commit()
    dispatch.deliver_pending(session, dispatch.current_gateways())


@job("deliver-webhooks")
def deliver_webhooks(session: Session, _payload: Payload, _key: str) -> None:
    session.commit()
    webhooks.deliver_due(
        session, utcnow(), policy=webhooks.UrlPolicy.from_config(current_app.config)
    )


@job("offer-waitlist")
def offer_waitlist(session: Session, _payload: Payload, _key: str) -> None:
    session.commit()
    waitlist.offer_waitlist(
        session,
        utcnow(),
        timedelta(minutes=current_app.config["WAITLIST_OFFER_MINUTES"]),
        available_locales(),
        card_ready=current_gateway() is not None,
    )


@job("check-minimums")
def check_minimums(session: Session, _payload: Payload, _key: str) -> None:
    session.commit()
    minimums.check_minimums(
        session,
        utcnow(),
        current_gateway(),
        reason_locale=current_app.config["BABEL_DEFAULT_LOCALE"],
    )


@job("prune-jobs")
def prune_jobs(session: Session, _payload: Payload, _key: str) -> None:
    store.prune(session, utcnow() - KEEP_DONE)

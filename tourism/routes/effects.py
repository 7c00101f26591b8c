"""What views do around the one transaction of a request: the payment gateway in use, and
the emails queued by that transaction, sent only after it committed."""

from __future__ import annotations

import logging

from flask import current_app

from ..database import write_transactions
from ..extensions import db
from ..services.messages.mail import get_mailer
from ..services.payments.stripe_gateway import StripeGateway

log = logging.getLogger(__name__)


def gateway() -> StripeGateway | None:
    """The Stripe gateway, or None when Stripe is not configured (pay on arrival only)."""
    app = current_app._get_current_object()
    if "stripe_gateway" not in app.extensions:
        app.extensions["stripe_gateway"] = StripeGateway.from_config(app.config)
    return app.extensions["stripe_gateway"]


def send_queued_emails() -> None:
    """Deliver the notifications queued by this request's transaction, which just committed.

    Only this request's messages are sent here; older or failed ones are the job of
    ``flask send-emails``. A mail failure never undoes a booking: the notification stays
    queued with its error and the command retries it.
    """
    from ..services.messages import outbox as notifications

    queued = db.session.info.pop(notifications.QUEUED_KEY, [])
    if not queued or current_app.config.get("MAIL_DELIVERY", "request") != "request":
        return
    try:
        # Marking mail as sent is a write: on SQLite take the write lock up front, even in a GET.
        with write_transactions():
            db.session.rollback()
            notifications.deliver_pending(
                db.session, get_mailer(current_app.config), only_ids=queued
            )
            db.session.commit()
    except Exception:  # noqa: BLE001 — mail trouble must not turn a booking into an error page
        db.session.rollback()
        log.exception("sending queued emails failed; they stay queued")

"""What views do around the one transaction of a request: the payment gateway in use, and
the emails queued by that transaction, sent only after it committed."""

from __future__ import annotations

import logging

from flask import current_app

from ..extensions import db
from ..mail import get_mailer
from ..stripe_gateway import StripeGateway

log = logging.getLogger(__name__)


def gateway() -> StripeGateway | None:
    """The Stripe gateway, or None when Stripe is not configured (pay on arrival only)."""
    app = current_app._get_current_object()
    if "stripe_gateway" not in app.extensions:
        app.extensions["stripe_gateway"] = StripeGateway.from_config(app.config)
    return app.extensions["stripe_gateway"]


def send_queued_emails() -> None:
    """Deliver notifications queued by the transaction that just committed.

    A mail failure never undoes a booking: the notification stays queued (with its error) and
    ``flask send-emails`` retries it.
    """
    from ..services import notifications

    try:
        notifications.deliver_pending(db.session, get_mailer(current_app.config))
        db.session.commit()
    except Exception:  # noqa: BLE001 — mail trouble must not turn a booking into an error page
        db.session.rollback()
        log.exception("sending queued emails failed; they stay queued")

"""Fault injection for the crash tests: hold a worker at a named point so a test can kill it.

Inactive unless the environment variable ``CHAKRA_FAULT`` names a point::

    CHAKRA_FAULT=<point>[:<seconds>]        e.g. CHAKRA_FAULT=payments.charged:60

When the code reaches that point it writes ``CHAKRA_FAULT <point> reached in pid <pid>`` to
stderr and sleeps (120 s unless given), long enough for the test to SIGKILL the process; if
nobody does, it carries on as if nothing had happened. Production can never use it:
``tourism.security.check_settings`` refuses to start with ``CHAKRA_FAULT`` set and ``point``
ignores it whenever ``CHAKRA_ENV`` is ``production``. See docs/RELIABILITY.md.
"""

from __future__ import annotations

import os
import sys
import time

from flask import current_app, has_app_context

#: Every point the code marks, with the state the process is in when it stops there.
POINTS = {
    # hold_seats flushed the booking and its lines: seats counted, nothing committed.
    "booking.held": "booking and lines written in an open transaction",
    # Stripe charged the card; we have not recorded anything yet.
    "payments.charged": "card charged on Stripe, nothing recorded",
    # The payment is marked succeeded, the split posted, the booking confirmed: not committed.
    "payments.applied": "payment, ledger and booking changed in an open transaction",
    # Stripe made an owed refund; we have not recorded it yet.
    "refunds.paid": "refund made on Stripe, not recorded",
    # settle_batch recorded a batch of payouts and their ledger postings: not committed.
    "payouts.recorded": "payouts and their ledger postings written in an open transaction",
    # submit_request wrote a group's request: not committed.
    "group_requests.sent": "group request written in an open transaction",
    # A send-email job claimed, its email built and about to go to the mail server.
    "email.sending": "email job claimed (leased), email about to be handed to the mailer",
}

ENVIRONMENT_VARIABLE = "CHAKRA_FAULT"
DEFAULT_SECONDS = 120.0


def _production() -> bool:
    if has_app_context():
        return current_app.config.get("CHAKRA_ENV") == "production"
    return os.environ.get("CHAKRA_ENV", "").strip().lower() == "production"


def point(name: str) -> None:
    """Stop here if ``CHAKRA_FAULT`` names this point (never in production)."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    setting = os.environ.get(ENVIRONMENT_VARIABLE)
    if not setting:
        return
    wanted, _, seconds = setting.partition(":")
    if wanted != name or _production():
        return
    print(f"CHAKRA_FAULT {name} reached in pid {os.getpid()}", file=sys.stderr, flush=True)
    time.sleep(float(seconds) if seconds else DEFAULT_SECONDS)

"""Commands that send mail: reminders, impact receipts, and whatever waits in the outbox."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app

from ..database import utcnow, write_transactions
from ..extensions import db
from ..services.messages import outbox
from ..services.messages.mail import get_mailer
from ..timefmt import display_zone, local_today
from ..unit_of_work import unit_of_work


def _send_pending() -> int:
    with write_transactions():
        return outbox.send_pending(db.session, get_mailer(current_app.config))


def send_mail_now() -> None:
    """After a command's change committed: send its mail now where mail leaves at once
    (``MAIL_DELIVERY=request``); elsewhere the scheduled ``send-emails`` does."""
    if outbox.sends_at_once():
        _send_pending()


@click.command("send-reminders")
def send_reminders_command() -> None:
    """Email a reminder to every confirmed booking departing tomorrow (local date), once."""
    with unit_of_work():
        queued = outbox.queue_reminders(db.session, local_today(), display_zone())
    # After the commit: the outbox rows exist whatever happens to the mail server.
    sent = _send_pending()
    click.echo(f"Queued {queued} reminder(s); sent {sent} email(s).")


@click.command("send-impact-receipts")
@click.option(
    "--after-hours",
    default=12,
    show_default=True,
    help="Wait this long after a departure ends (the guide confirms stops, records cash).",
)
@click.option(
    "--within-days",
    default=7,
    show_default=True,
    help="Only departures that ended at most this long ago.",
)
def send_impact_receipts_command(after_hours: int, within_days: int) -> None:
    """Email each visitor of a finished departure who hosted them and where their money
    went, once per booking; not for cancelled, refunded or no-show bookings."""
    with unit_of_work():
        queued = outbox.queue_impact_receipts(
            db.session, utcnow(), timedelta(hours=after_hours), timedelta(days=within_days)
        )
    sent = _send_pending()
    click.echo(f"Queued {queued} impact receipt(s); sent {sent} email(s).")


@click.command("send-emails")
def send_emails_command() -> None:
    """Send the emails waiting in the outbox, retrying earlier failures."""
    click.echo(f"Sent {_send_pending()} email(s).")


def register(app: Flask) -> None:
    for command in (send_reminders_command, send_impact_receipts_command, send_emails_command):
        app.cli.add_command(command)

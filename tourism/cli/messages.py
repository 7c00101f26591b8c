"""Commands that send mail: reminders, impact receipts, and whatever waits in the outbox.

``send-reminders`` and ``send-impact-receipts`` queue their emails and run the send-email
jobs at once (by hand, nobody wants to wait for a worker); the scheduled runs are periodic
jobs (``tourism.jobs.periodic``) whose emails the workers send."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..database import utcnow, write_transactions
from ..extensions import db
from ..jobs import worker
from ..services.messages import (
    dispatch,
    homestay_notices,
    outbox,
    phone_notices,
    template_catalogue,
)
from ..services.messages.mail import get_mailer
from ..timefmt import display_zone, local_today
from ..unit_of_work import unit_of_work


def _send_pending() -> int:
    with write_transactions():
        return outbox.send_pending(db.session, get_mailer(current_app.config))


def _run_email_jobs() -> int:
    return worker.drain(db.session, [outbox.SEND_EMAIL])


def _send_phone_messages() -> int:
    """Deliver the WhatsApp/SMS messages waiting (fallbacks included), in batches."""
    total = 0
    gateways = dispatch.current_gateways()
    while True:
        sent = dispatch.deliver_pending(db.session, gateways)
        total += sent
        if sent < 50:
            return total


def send_mail_now() -> None:
    """After a command's change committed: run its send-email jobs now where no worker runs
    (``MAIL_DELIVERY=request``); elsewhere ``flask worker`` does."""
    if worker.runs_inline():
        _run_email_jobs()


@click.command("send-reminders")
def send_reminders_command() -> None:
    """Email a reminder to every confirmed booking departing tomorrow (local date), once;
    the tourists who opted in get it on WhatsApp/SMS too, and host families and guides get
    tomorrow's visitors, homestay guests and departures by their channel."""
    today, zone = local_today(), display_zone()
    with unit_of_work():
        queued = outbox.queue_reminders(db.session, today, zone)
        notices = phone_notices.queue_family_visitors(db.session, today, zone)
        notices += phone_notices.queue_guide_tomorrow(db.session, today, zone)
        notices += homestay_notices.queue_homestay_tomorrow(db.session, today)
    # After the commit: the outbox rows and their jobs exist whatever the mail server does.
    sent = _run_email_jobs()
    phoned = _send_phone_messages()
    click.echo(f"Queued {queued} reminder(s); sent {sent} email(s).")
    click.echo(f"Queued {notices} family/guide notice(s); sent {phoned} WhatsApp/SMS message(s).")


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
    sent = _run_email_jobs()
    click.echo(f"Queued {queued} impact receipt(s); sent {sent} email(s).")


@click.command("send-emails")
def send_emails_command() -> None:
    """Send the emails waiting in the outbox now, retrying earlier failures at once (their
    jobs, when they run, find them sent and do nothing)."""
    click.echo(f"Sent {_send_pending()} email(s).")


@click.command("send-messages")
def send_messages_command() -> None:
    """Send the WhatsApp/SMS messages waiting, retrying those the provider could not take
    (with ``MAIL_DELIVERY=worker``, schedule it every minute next to send-emails)."""
    click.echo(f"Sent {_send_phone_messages()} WhatsApp/SMS message(s).")


messages_group = AppGroup("messages", help="WhatsApp and SMS: the templates to approve.")


@messages_group.command("templates")
@click.option("--check", is_flag=True, help="Only compare; fail if the file is out of date.")
def templates_command(check: bool) -> None:
    """Write docs/whatsapp-templates.json: every WhatsApp template the code sends, in each
    language, with its body as Meta wants it ({{1}} …) and an example (docs/MESSAGES.md)."""
    text = template_catalogue.dumps(template_catalogue.build())
    path = template_catalogue.CATALOGUE_PATH
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if check:
        if current != text:
            raise click.ClickException(f"{path.name} is out of date: run flask messages templates")
        click.echo(f"{path.name} is up to date.")
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(template_catalogue.build())} template(s) to {path}.")


def register(app: Flask) -> None:
    app.cli.add_command(messages_group)
    for command in (
        send_reminders_command,
        send_impact_receipts_command,
        send_emails_command,
        send_messages_command,
    ):
        app.cli.add_command(command)

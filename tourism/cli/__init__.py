"""Flask commands: demo data, departures from schedules, sweeping expired holds."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from sqlalchemy import select

from ..database import utcnow, write_transactions
from ..extensions import db
from ..models import Schedule
from ..services.booking import lifecycle as booking_service
from ..services.ledger import checks
from ..services.operations import recurrence as schedule_service
from ..services.payments import refunds
from ..timefmt import display_zone, local_today
from . import backup as cli_backup
from . import ledger as cli_ledger
from . import translate as cli_translate


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo associations, experiences and departures (once; later runs do nothing)."""
    from ..demo import seed_demo
    from ..demo.photos import seed_photos
    from ..routes.media import upload_dir

    with write_transactions():
        created = seed_demo(db.session, local_today(), display_zone())
        if created:
            seed_photos(db.session, upload_dir())
        db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present; nothing to do.")


@click.command("expire-holds")
def expire_holds_command() -> None:
    """Mark seat holds past their expiry as expired. Safe to run as often as you like."""
    with write_transactions():
        count = booking_service.expire_holds(db.session, utcnow())
        db.session.commit()
    click.echo(f"Expired {count} hold(s).")


@click.command("generate-departures")
@click.option("--days", default=60, show_default=True, help="How many days ahead to fill.")
def generate_departures_command(days: int) -> None:
    """Create departures from every schedule for the coming days (existing ones are kept)."""
    today = local_today()
    with write_transactions():
        total = 0
        for schedule in db.session.execute(select(Schedule)).scalars():
            total += len(
                schedule_service.generate_departures(
                    db.session, schedule, today, today + timedelta(days=days), display_zone()
                )
            )
        db.session.commit()
    click.echo(f"Created {total} departure(s).")


@click.command("send-reminders")
def send_reminders_command() -> None:
    """Email a reminder to every confirmed booking departing tomorrow (local date), once."""
    from flask import current_app

    from ..services.messages import outbox as notifications
    from ..services.messages.mail import get_mailer

    with write_transactions():
        queued = notifications.queue_reminders(db.session, local_today(), display_zone())
        db.session.commit()
        # After the commit: the outbox rows exist whatever happens to the mail server.
        sent = notifications.send_pending(db.session, get_mailer(current_app.config))
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
    from flask import current_app

    from ..services.messages import outbox as notifications
    from ..services.messages.mail import get_mailer

    with write_transactions():
        queued = notifications.queue_impact_receipts(
            db.session, utcnow(), timedelta(hours=after_hours), timedelta(days=within_days)
        )
        db.session.commit()
        sent = notifications.send_pending(db.session, get_mailer(current_app.config))
    click.echo(f"Queued {queued} impact receipt(s); sent {sent} email(s).")


@click.command("send-emails")
def send_emails_command() -> None:
    """Send the emails waiting in the outbox, retrying earlier failures."""
    from flask import current_app

    from ..services.messages import outbox as notifications
    from ..services.messages.mail import get_mailer

    with write_transactions():
        sent = notifications.send_pending(db.session, get_mailer(current_app.config))
    click.echo(f"Sent {sent} email(s).")


@click.command("reconcile-payments")
@click.option("--days", default=3, show_default=True, help="How far back to look.")
def reconcile_payments_command(days: int) -> None:
    """Ask Stripe about recent payments and repair bookings whose confirmation was missed."""
    from ..routes.effects import gateway, send_queued_emails
    from ..services.payments import online as payments

    stripe_gateway = gateway()
    if stripe_gateway is None:
        raise click.ClickException("Stripe is not configured (STRIPE_SECRET_KEY).")
    now = utcnow()
    with write_transactions():
        counts = payments.reconcile_payments(
            db.session, stripe_gateway, now, now - timedelta(days=days)
        )
        db.session.commit()
        send_queued_emails()
    click.echo(f"Checked {counts['checked']} payment(s), repaired {counts['changed']}.")


@click.command("cancel-departure")
@click.argument("departure_id", type=int)
@click.option("--reason", required=True, help="Shown to the tourists (weather, river level…).")
def cancel_departure_command(departure_id: int, reason: str) -> None:
    """Cancel a departure: every booking on it is refunded in full and notified."""
    from ..errors import DomainError
    from ..models import Departure
    from ..routes.effects import gateway, send_queued_emails

    with write_transactions():
        departure = db.session.get(Departure, departure_id)
        if departure is None:
            raise click.ClickException(f"No departure {departure_id}.")
        try:
            affected = refunds.cancel_departure(db.session, departure, reason, gateway(), utcnow())
        except DomainError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        send_queued_emails()
    click.echo(f"Departure {departure_id} cancelled; {len(affected)} booking(s) refunded and told.")


@click.command("ledger-check")
def ledger_check_command() -> None:
    """Check the ledger: balanced transactions, exact reversals, payments that match it.

    Prints every problem found and exits with status 1 if there is any (for monitoring).
    """
    problems = checks.check(db.session)
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) in the ledger.", err=True)
        raise SystemExit(1)
    click.echo("The ledger is sound.")


def register(app: Flask) -> None:
    for command in (
        seed_demo_command,
        expire_holds_command,
        generate_departures_command,
        send_reminders_command,
        send_impact_receipts_command,
        send_emails_command,
        reconcile_payments_command,
        cancel_departure_command,
        ledger_check_command,
    ):
        app.cli.add_command(command)
    cli_ledger.register(app)
    cli_backup.register(app)
    cli_translate.register(app)

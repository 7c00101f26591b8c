"""Commands that keep departures running: sweeping expired holds, filling the calendar from
the weekly schedules, cancelling a departure."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from sqlalchemy import select

from ..database import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import available_locales
from ..models import Departure, Schedule
from ..services.booking import lifecycle, privacy, waitlist
from ..services.messages import homestay_notices
from ..services.operations import minimums, recurrence
from ..services.payments import refunds
from ..services.payments.stripe_gateway import current_gateway
from ..services.routes import changes as route_changes
from ..timefmt import display_zone, local_today
from ..unit_of_work import unit_of_work
from .messages import send_mail_now


@click.command("expire-holds")
def expire_holds_command() -> None:
    """Mark seat holds past their expiry as expired. Safe to run as often as you like."""
    with unit_of_work():
        now = utcnow()
        count = lifecycle.expire_holds(db.session, now)
        routes = route_changes.expire_route_holds(db.session, now)
    click.echo(f"Expired {count} hold(s), {routes} of them route hold(s).")


@click.command("generate-departures")
@click.option("--days", default=60, show_default=True, help="How many days ahead to fill.")
def generate_departures_command(days: int) -> None:
    """Create departures from every schedule for the coming days (existing ones are kept)."""
    today = local_today()
    with unit_of_work():
        total = 0
        for schedule in db.session.execute(select(Schedule)).scalars():
            total += len(
                recurrence.generate_departures(
                    db.session, schedule, today, today + timedelta(days=days), display_zone()
                )
            )
    click.echo(f"Created {total} departure(s).")


@click.command("cancel-departure")
@click.argument("departure_id", type=int)
@click.option("--reason", required=True, help="Shown to the tourists (weather, river level…).")
def cancel_departure_command(departure_id: int, reason: str) -> None:
    """Cancel a departure: every booking on it is refunded in full and notified."""
    try:
        with unit_of_work():
            departure = db.session.get(Departure, departure_id)
            if departure is None:
                raise click.ClickException(f"No departure {departure_id}.")
            affected = refunds.cancel_departure(
                db.session, departure, reason, current_gateway(), utcnow()
            )
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    send_mail_now()
    click.echo(f"Departure {departure_id} cancelled; {len(affected)} booking(s) refunded and told.")


@click.command("forget-special-needs")
@click.option(
    "--after-days",
    type=click.IntRange(min=1),
    default=None,
    help="Days after the visit (default: SPECIAL_NEEDS_KEEP_DAYS, 30).",
)
def forget_special_needs_command(after_days: int | None) -> None:
    """Erase what visitors wrote about their needs (it may be health data) once their visit
    is that many days past, as the privacy notice promises. Run it daily."""
    days = after_days or current_app.config["SPECIAL_NEEDS_KEEP_DAYS"]
    with unit_of_work():
        count = privacy.forget_special_needs(db.session, utcnow(), timedelta(days=days))
        # The copies sent to host families (homestay notices) go after the same time.
        homestay_notices.forget_needs(db.session, utcnow(), timedelta(days=days))
    click.echo(f"Erased the special needs of {count} booking(s).")


@click.command("check-minimums")
def check_minimums_command() -> None:
    """Cancel, refund and tell every departure short of its experience's minimum at its
    cutoff; the others are marked to run. Each departure is decided once; run it often."""
    report = minimums.check_minimums(
        db.session,
        utcnow(),
        current_gateway(),
        reason_locale=current_app.config["BABEL_DEFAULT_LOCALE"],
    )
    send_mail_now()
    click.echo(
        f"{len(report.ran)} departure(s) reached their minimum; "
        f"{len(report.cancelled)} cancelled for want of visitors."
    )


@click.command("offer-waitlist")
def offer_waitlist_command() -> None:
    """Offer freed seats to the waiting lists (first in line whose party fits) and lapse
    offers not taken in time. Run it every few minutes."""
    report = waitlist.offer_waitlist(
        db.session,
        utcnow(),
        timedelta(minutes=current_app.config["WAITLIST_OFFER_MINUTES"]),
        available_locales(),
        card_ready=current_gateway() is not None,
    )
    send_mail_now()
    click.echo(f"{len(report.offered)} offer(s) made; {len(report.lapsed)} lapsed.")


def register(app: Flask) -> None:
    for command in (
        check_minimums_command,
        offer_waitlist_command,
        expire_holds_command,
        generate_departures_command,
        cancel_departure_command,
        forget_special_needs_command,
    ):
        app.cli.add_command(command)

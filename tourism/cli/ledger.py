"""Scheduled and one-off commands for the revenue ledger.

- ``flask ledger-check``: daily; proves the ledger sound, exits 1 with the problems.
- ``flask release-shares``: hourly; makes the shares of departures that ran available once
  their stops are confirmed (catches stops confirmed before the start, guides assigned
  late, cash recorded after the stops), and of routes paid ahead the extras and the
  curator's fee once the route has started, each night once it is over.
- ``flask ledger-backfill``: once, after upgrading a database that took payments before the
  ledger existed; posts what is missing. Safe to run again.
"""

from __future__ import annotations

import click
from flask import Flask

from ..database import utcnow
from ..extensions import db
from ..services.ledger import adjustments, checks, releases
from ..services.payments import processor_check
from ..services.payments.stripe_gateway import current_gateway
from ..services.routes import extra_releases as route_extras
from ..services.routes import night_releases as route_nights
from ..unit_of_work import unit_of_work


@click.command("release-shares")
@click.option("--days", default=30, show_default=True, help="How far back to look.")
def release_shares_command(days: int) -> None:
    """Release the shares of departures that started and have confirmed stops, and of
    routes paid ahead the extras and fee of those started and the nights that are over."""
    with unit_of_work():
        now = utcnow()
        count = releases.release_started_departures(db.session, now, days)
        started = route_extras.release_route_extras(db.session, now, days)
        routes = route_nights.release_route_nights(db.session, now, days)
    click.echo(f"Looked at {count} departure(s) with confirmed stops.")
    click.echo(f"Looked at {started} route booking(s) started, for extras and fees.")
    click.echo(f"Looked at {routes} route booking(s) with nights over.")


@click.command("ledger-backfill")
def ledger_backfill_command() -> None:
    """Post succeeded payments, refunds and disputes the ledger does not have yet."""
    with unit_of_work():
        counts = adjustments.backfill(db.session)
    click.echo(
        f"Posted {counts['payments']} payment(s), {counts['refunds']} refund(s) "
        f"and {counts['disputes']} dispute(s)."
    )


@click.command("ledger-check")
@click.option(
    "--against-processor",
    is_flag=True,
    help="Also compare every card payment and refund with Stripe's own record.",
)
def ledger_check_command(against_processor: bool) -> None:
    """Check the ledger: balanced transactions, exact reversals, payments that match it;
    with --against-processor, also that our payments and refunds match Stripe's.

    Prints every problem found and exits with status 1 if there is any (for monitoring).
    """
    problems = checks.check(db.session)
    for problem in problems:
        click.echo(problem)
    if against_processor:
        problems += _processor_problems()
    if problems:
        click.echo(f"{len(problems)} problem(s) in the ledger.", err=True)
        raise SystemExit(1)
    click.echo("The ledger is sound.")


def _processor_problems() -> list[str]:
    gateway = current_gateway()
    if gateway is None:
        raise click.ClickException("Stripe is not configured (STRIPE_SECRET_KEY).")
    report = processor_check.check_against_processor(db.session, gateway)
    for line in report.problems:
        click.echo(line)
    for line in report.mismatches:
        click.echo(f"mismatch (refused, refunded): {line}")
    for line in report.owed:
        click.echo(f"owed: {line}")
    click.echo(
        f"Compared {report.payments_checked} payment(s) and {report.refunds_checked} "
        f"refund(s) with Stripe: {len(report.problems)} disagreement(s), "
        f"{len(report.mismatches)} mismatched payment(s) refused, "
        f"{len(report.owed)} refund(s) still owed."
    )
    return report.problems


def register(app: Flask) -> None:
    for command in (ledger_check_command, release_shares_command, ledger_backfill_command):
        app.cli.add_command(command)

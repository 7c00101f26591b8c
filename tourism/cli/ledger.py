"""Scheduled and one-off commands for the revenue ledger.

- ``flask release-shares``: hourly; makes the shares of departures that ran available once
  their stops are confirmed (catches stops confirmed before the start, guides assigned
  late, cash recorded after the stops).
- ``flask ledger-backfill``: once, after upgrading a database that took payments before the
  ledger existed; posts what is missing. Safe to run again.
"""

from __future__ import annotations

import click
from flask import Flask

from ..database import utcnow, write_transactions
from ..extensions import db


@click.command("release-shares")
@click.option("--days", default=30, show_default=True, help="How far back to look.")
def release_shares_command(days: int) -> None:
    """Release the shares of departures that started and have confirmed stops."""
    from ..services.ledger import releases

    with write_transactions():
        count = releases.release_started_departures(db.session, utcnow(), days)
        db.session.commit()
    click.echo(f"Looked at {count} departure(s) with confirmed stops.")


@click.command("ledger-backfill")
def ledger_backfill_command() -> None:
    """Post succeeded payments, refunds and disputes the ledger does not have yet."""
    from ..services.ledger import adjustments as postings_later

    with write_transactions():
        counts = postings_later.backfill(db.session)
        db.session.commit()
    click.echo(
        f"Posted {counts['payments']} payment(s), {counts['refunds']} refund(s) "
        f"and {counts['disputes']} dispute(s)."
    )


def register(app: Flask) -> None:
    for command in (release_shares_command, ledger_backfill_command):
        app.cli.add_command(command)

"""Commands about seats.

- ``flask seat-check``: daily, next to ``ledger-check``; recounts every departure's confirmed
  seats against the counter kept on the departure row and exits 1 on any difference.
  ``--repair`` sets the counters to the recount (audited by the command's output).
"""

from __future__ import annotations

import click
from flask import Flask

from ..extensions import db
from ..services.booking import seat_check
from ..unit_of_work import unit_of_work


@click.command("seat-check")
@click.option("--repair", is_flag=True, help="Set every wrong counter to its recount.")
def seat_check_command(repair: bool) -> None:
    """Check that each departure's confirmed-seat counter equals its confirmed bookings."""
    found = seat_check.mismatches(db.session)
    for mismatch in found:
        click.echo(str(mismatch))
    if not found:
        click.echo("Every departure's seat counter matches its bookings.")
        return
    if repair:
        with unit_of_work():
            seat_check.repair(db.session, found)
        click.echo(f"Repaired {len(found)} counter(s).")
        return
    click.echo(f"{len(found)} departure(s) with a wrong seat counter.", err=True)
    raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(seat_check_command)

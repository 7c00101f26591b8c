"""``flask seed-demo``: the demo associations, experiences, departures and photos."""

from __future__ import annotations

import click
from flask import Flask

from ..demo import seed_demo
from ..demo.photos import seed_photos
from ..extensions import db
from ..timefmt import display_zone, local_today
from ..unit_of_work import unit_of_work
from ..uploads import upload_dir


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo associations, experiences and departures (once; later runs do nothing)."""
    with unit_of_work():
        created = seed_demo(db.session, local_today(), display_zone())
        if created:
            seed_photos(db.session, upload_dir())
    click.echo("Demo data loaded." if created else "Demo data already present; nothing to do.")


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)

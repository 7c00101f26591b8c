"""``flask seed-demo``: the demo associations, experiences, departures and photos."""

from __future__ import annotations

import click
from flask import Flask, current_app

from ..demo import seed_demo
from ..demo.groups import school_request
from ..demo.photos import seed_photos
from ..extensions import db
from ..services.messages.links import absolute_url
from ..timefmt import display_zone, local_today
from ..unit_of_work import unit_of_work
from ..uploads import upload_dir

#: The flag that lets ``seed-demo`` run under production settings anyway.
PRODUCTION_FLAG = "--i-know-this-is-production"


@click.command("seed-demo")
@click.option(
    "--i-know-this-is-production",
    "production_ok",
    is_flag=True,
    help="Load the demo data even though CHAKRA_ENV is production (a staging copy).",
)
def seed_demo_command(production_ok: bool) -> None:
    """Load the demo associations, experiences and departures (once; later runs do nothing).

    Refused under production settings unless asked for explicitly: the demo accounts' shared
    password is published in the README, so anyone could sign in to them."""
    if current_app.config.get("CHAKRA_ENV") == "production" and not production_ok:
        raise click.ClickException(
            "Refusing to load the demo data: CHAKRA_ENV is production. The demo accounts "
            "(admins, treasurers, guides) share the password printed in the README, so anyone "
            "could sign in with them. On a staging copy that must have them, run "
            f"'flask seed-demo {PRODUCTION_FLAG}'."
        )
    with unit_of_work():
        created = seed_demo(db.session, local_today(), display_zone())
        if created:
            seed_photos(db.session, upload_dir())
    click.echo("Demo data loaded." if created else "Demo data already present; nothing to do.")
    school = school_request(db.session)
    if school is not None:
        # The requester's side of a group request is reached only by its private link.
        link = absolute_url("groups.thread", token=school.token)
        click.echo(f"The demo school's group request, as the requester sees it: {link}")


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)

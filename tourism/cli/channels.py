"""Commands of the sales channels: sending the posts waiting for resellers' webhooks."""

from __future__ import annotations

import click
from flask import Flask, current_app

from ..database import utcnow
from ..extensions import db
from ..services.channels import webhooks


@click.command("deliver-webhooks")
def deliver_webhooks_command() -> None:
    """Send the resellers' webhook posts that are due (retries included). Safe to run often
    and on several machines at once: each post is taken by one run."""
    policy = webhooks.UrlPolicy.from_config(current_app.config)
    report = webhooks.deliver_due(db.session, utcnow(), policy=policy)
    db.session.remove()
    click.echo(
        f"Delivered {report.delivered}, retrying {report.retrying}, gave up {report.failed}."
    )


def register(app: Flask) -> None:
    app.cli.add_command(deliver_webhooks_command)

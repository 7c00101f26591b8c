"""``flask reconcile-payments``: the safety net for webhooks that never arrived."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from ..database import utcnow
from ..extensions import db
from ..services.payments import online
from ..services.payments.stripe_gateway import current_gateway
from ..unit_of_work import unit_of_work
from .messages import send_mail_now


@click.command("reconcile-payments")
@click.option("--days", default=3, show_default=True, help="How far back to look.")
def reconcile_payments_command(days: int) -> None:
    """Ask Stripe about recent payments and repair bookings whose confirmation was missed."""
    stripe_gateway = current_gateway()
    if stripe_gateway is None:
        raise click.ClickException("Stripe is not configured (STRIPE_SECRET_KEY).")
    now = utcnow()
    with unit_of_work():
        counts = online.reconcile_payments(
            db.session, stripe_gateway, now, now - timedelta(days=days)
        )
    send_mail_now()
    click.echo(f"Checked {counts['checked']} payment(s), repaired {counts['changed']}.")


def register(app: Flask) -> None:
    app.cli.add_command(reconcile_payments_command)

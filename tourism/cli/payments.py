"""``flask reconcile-payments``: the safety net for webhooks that never arrived."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask

from ..database import utcnow
from ..extensions import db
from ..services.payments import reconcile, refunds
from ..services.payments.stripe_gateway import current_gateway
from .messages import send_mail_now


@click.command("reconcile-payments")
@click.option("--days", default=3, show_default=True, help="How far back to look.")
def reconcile_payments_command(days: int) -> None:
    """Ask Stripe about recent payments and repair bookings whose confirmation was missed.

    Each payment is repaired and committed on its own; one that cannot be repaired is
    reported and the others still are. Exits 1 when any could not be, after trying all."""
    stripe_gateway = current_gateway()
    if stripe_gateway is None:
        raise click.ClickException("Stripe is not configured (STRIPE_SECRET_KEY).")
    now = utcnow()
    since = now - timedelta(days=days)
    report = reconcile.reconcile_payments(db.session, stripe_gateway, now, since)
    send_mail_now()
    click.echo(f"Checked {report.checked} payment(s), repaired {report.changed}.")
    for intent_id, why in report.failed:
        click.echo(f"Could not repair {intent_id}: {why}", err=True)
    if report.failed:
        click.echo(f"{len(report.failed)} payment(s) could not be repaired.", err=True)
        raise SystemExit(1)


@click.command("finish-refunds")
def finish_refunds_command() -> None:
    """Pay every refund recorded as owed and not paid yet (after a crash or while Stripe
    was down). Safe to run again: each refund is made once. Exits 1 if any is still owed."""
    stripe_gateway = current_gateway()
    if stripe_gateway is None:
        raise click.ClickException("Stripe is not configured (STRIPE_SECRET_KEY).")
    result = refunds.finish_refunds(db.session, stripe_gateway)
    send_mail_now()
    click.echo(
        f"Paid {len(result['paid'])} refund(s); {len(result['failed'])} refused by Stripe; "
        f"{len(result['owed'])} still owed."
    )
    for refund_id, why in result["owed"]:
        click.echo(f"Refund {refund_id} still owed: {why}", err=True)
    if result["owed"] or result["failed"]:
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(reconcile_payments_command)
    app.cli.add_command(finish_refunds_command)

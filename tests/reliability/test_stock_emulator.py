"""The README's local card flow against the emulator exactly as ``make stripe-emulator``
starts it: stock localstripe in its own process, none of the patches tests/stripe_emulator.py
installs in-process. One card payment and one deposit, from the card page to a confirmed
booking, through the same HTTP calls the browser and Stripe.js make."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from tests.factories import Factories
from tests.stripe_emulator import confirm_card_setup, free_port
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Payment, PaymentStatus
from tourism.services.booking.pricing import online_due

ROOT = Path(__file__).resolve().parents[2]
EN = {"Accept-Language": "en"}


def _makefile_command(port: int) -> list[str]:
    """The command ``make stripe-emulator`` runs (its recipe, read with ``make -n``)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    recipe = subprocess.run(  # noqa: S603 — make, reading the Makefile of this checkout
        [make, "-n", "--no-print-directory", "stripe-emulator", f"STRIPE_EMULATOR_PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [line] = [line for line in recipe.splitlines() if "localstripe" in line]
    return shlex.split(line)


@pytest.fixture(scope="module")
def stock_emulator():
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 — the Makefile's own recipe
        _makefile_command(port),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/js.stripe.com/v3/", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        else:
            pytest.fail("the emulator started as the Makefile does never answered")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


@pytest.fixture
def stock_app(make_app, stock_emulator):
    app = make_app(
        STRIPE_SECRET_KEY="sk_test_local",
        STRIPE_PUBLISHABLE_KEY="pk_test_local",
        STRIPE_WEBHOOK_SECRET="whsec_local",
        STRIPE_API_BASE=stock_emulator,
        STRIPE_JS_URL=f"{stock_emulator}/js.stripe.com/v3/",
    )
    with app.app_context():
        yield app


@pytest.mark.parametrize("method", ["card", "deposit"])
def test_card_and_deposit_payments_work_with_the_stock_emulator(stock_app, stock_emulator, method):
    make = Factories(db.session)
    experience = make.experience(payment_options="card,deposit,on_arrival", deposit_percent=30)
    booking = make.booking(make.departure(experience, capacity=8), status=BookingStatus.HELD)
    booking.payment_method = method
    booking.online_due_cents = online_due(booking.total_cents, method, 30)
    db.session.commit()
    token, due = booking.manage_token, booking.online_due_cents
    client = stock_app.test_client()

    page = client.get(f"/bookings/{token}/pay", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    setup_secret = re.search(r'data-setup-client-secret="([^"]+)"', html).group(1)

    # Stripe.js in the browser: the card goes to the emulator, never to us.
    setup_intent = confirm_card_setup(stock_emulator, "pk_test_local", setup_secret)
    paid = client.post(f"/bookings/{token}/pay", data={"setup_intent": setup_intent})
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert paid.json["next"].endswith("/processing")

    done = client.get(paid.json["next"])
    assert done.status_code == 303 and done.headers["Location"].endswith(token)
    db.session.expire_all()
    booking = db.session.scalars(select(Booking).where(Booking.manage_token == token)).one()
    assert booking.status == BookingStatus.CONFIRMED
    payment = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount_cents == due
    assert (due < booking.total_cents) == (method == "deposit")
    # The money check of the README's flow: the ledger against the emulator's own record.
    checked = stock_app.test_cli_runner().invoke(args=["ledger-check", "--against-processor"])
    assert checked.exit_code == 0, checked.output
    assert "Compared 1 payment(s)" in checked.output and "0 disagreement(s)" in checked.output


def test_the_stock_emulator_still_refuses_a_description(stock_emulator):
    """Negative control: the stock emulator is what we think it is. It refuses a
    PaymentIntent ``description`` (which real Stripe accepts), so the gateway must not send
    one, and a test emulator that accepted it would hide a broken local flow."""
    response = requests.post(
        f"{stock_emulator}/v1/payment_intents",
        data={"amount": 1000, "currency": "usd", "description": "KAL-7F3K9Q"},
        auth=("sk_test_local", ""),
        timeout=5,
    )
    assert response.status_code == 400
    assert "description" in response.text

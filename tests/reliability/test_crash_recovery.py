"""A gunicorn worker killed (SIGKILL) in the middle of a booking or a payment leaves no half.

Each test starts gunicorn (one sync worker) on the test database with ``CHAKRA_FAULT`` naming
a point in the booking or payment services (``tourism.faults``): the worker stops there and
reports its pid, the test kills it, and then checks what the database kept. A booking is all
there or not at all; a payment Stripe took while we were down is found and applied by
``flask reconcile-payments``, and running that again changes nothing.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from bench.gunicorn_harness import GunicornNode, node_environment
from tests.factories import Factories
from tests.routes.test_payments import form_for
from tests.stripe_emulator import confirm_card_setup
from tourism.database import utcnow
from tourism.extensions import db
from tourism.models import (
    Booking,
    BookingLine,
    BookingStatus,
    Departure,
    LedgerTransaction,
    Payment,
    PaymentStatus,
)
from tourism.services.booking import availability

pytestmark = pytest.mark.slow

#: Settings only these tests give their nodes: no limits and no CSRF (they test crashes).
NODE_SETTINGS = {
    "RATELIMIT_ENABLED": False,
    "WTF_CSRF_ENABLED": False,
    "OPEN_BOOKINGS_PER_EMAIL": 100,
    "OPEN_BOOKINGS_PER_ADDRESS": 100,
}


def _node(database_url, tmp_path, point: str, **settings) -> GunicornNode:
    env = node_environment(
        database_url,
        tmp_path,
        settings=NODE_SETTINGS | settings,
        CHAKRA_FAULT=f"{point}:60",
    )
    return GunicornNode(env, tmp_path / "gunicorn.log", workers=1)


def _kill_at_fault(node: GunicornNode, point: str, request) -> None:
    """Send ``request`` (a callable) from a thread; when the worker reports that it stopped at
    ``point``, SIGKILL it. The request must fail: it never got an answer."""
    outcome: dict = {}

    def send() -> None:
        try:
            outcome["status"] = request().status_code
        except requests.RequestException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=send)
    thread.start()
    pattern = re.compile(rf"CHAKRA_FAULT {re.escape(point)} reached in pid (\d+)")
    deadline = time.monotonic() + 60
    while not (found := pattern.search(node.log())):
        assert time.monotonic() < deadline, f"the worker never reached {point}:\n{node.log()}"
        assert thread.is_alive(), f"the request finished without reaching {point}: {outcome}"
        time.sleep(0.05)
    os.kill(int(found.group(1)), signal.SIGKILL)
    thread.join(60)
    assert "error" in outcome, f"the killed request still answered: {outcome}"


def _snapshot() -> dict:
    """Rows per table and every booking's and payment's status: what a repair would change."""
    db.session.rollback()
    counts = {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }
    counts["booking statuses"] = sorted(db.session.scalars(select(Booking.status)).all())
    counts["payment statuses"] = sorted(db.session.scalars(select(Payment.status)).all())
    return counts


def test_worker_killed_while_holding_seats_leaves_no_booking(app, database_url, tmp_path):
    make = Factories(db.session)
    departure = make.departure(capacity=2, starts_in=timedelta(days=3))
    make.booking(departure, quantities={"adult": 1})
    departure_id, form = departure.id, form_for(departure, "on_arrival", adults=1)
    db.session.commit()
    before = _snapshot()

    with _node(database_url, tmp_path, "booking.held") as node:
        url = f"{node.base_url}/departures/{departure_id}/book"
        _kill_at_fault(node, "booking.held", lambda: requests.post(url, data=form, timeout=90))

    after = _snapshot()
    assert after == before  # no booking, no line, no outbox row: nothing of the killed request
    assert (
        db.session.scalar(
            select(func.count(Booking.id)).where(
                ~select(BookingLine.id).where(BookingLine.booking_id == Booking.id).exists()
            )
        )
        == 0
    )
    departure = db.session.get(Departure, departure_id)
    assert availability.seats_left(db.session, departure, utcnow()) == 1
    # The dead worker's lock went with it: the last seat can be booked at once.
    booked = app.test_client().post(f"/departures/{departure_id}/book", data=form)
    assert booked.status_code == 303
    assert (
        availability.seats_left(db.session, db.session.get(Departure, departure_id), utcnow()) == 0
    )


@pytest.mark.parametrize("point", ["payments.charged", "payments.applied"])
def test_worker_killed_while_paying_is_repaired_by_reconcile(
    make_app, database_url, tmp_path, stripe_emulator, stripe_settings, gateway, point
):
    stripe_emulator.flush()
    app = make_app(
        MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"), **stripe_settings
    )
    with app.app_context():
        make = Factories(db.session)
        experience = make.experience(payment_options="card,on_arrival")
        departure = make.departure(experience, capacity=4)
        form = form_for(departure, "card", adults=1)
        db.session.commit()

        with _node(database_url, tmp_path, point, **stripe_settings) as node:
            client = requests.Session()
            booked = client.post(
                f"{node.base_url}/departures/{departure.id}/book",
                data=form,
                allow_redirects=False,
                timeout=60,
            )
            assert booked.status_code == 303 and booked.headers["Location"].endswith("/pay")
            token = booked.headers["Location"].rsplit("/", 2)[-2]
            page = client.get(f"{node.base_url}/bookings/{token}/pay", timeout=60)
            setup_secret = re.search(r'data-setup-client-secret="([^"]+)"', page.text).group(1)
            setup_intent = confirm_card_setup(
                stripe_emulator.base_url, stripe_settings["STRIPE_PUBLISHABLE_KEY"], setup_secret
            )
            _kill_at_fault(
                node,
                point,
                lambda: client.post(
                    f"{node.base_url}/bookings/{token}/pay",
                    data={"setup_intent": setup_intent},
                    timeout=90,
                ),
            )

        db.session.rollback()
        booking = db.session.scalars(select(Booking).where(Booking.manage_token == token)).one()
        payment = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id)).one()
        # Stripe took the money; we recorded nothing of it: no half-applied payment.
        assert gateway.retrieve_intent(payment.provider_ref).status == "succeeded"
        assert booking.status == BookingStatus.HELD
        assert payment.status == PaymentStatus.PENDING
        assert db.session.scalar(select(func.count(LedgerTransaction.id))) == 0

        runner = app.test_cli_runner()
        # The commands run in this app context: end its transaction so theirs start afresh
        # (on SQLite with BEGIN IMMEDIATE, as when cron runs them).
        db.session.rollback()
        first = runner.invoke(args=["reconcile-payments"])
        assert first.exit_code == 0, first.output
        assert "repaired 1." in first.output
        db.session.rollback()
        booking = db.session.get(Booking, booking.id)
        assert booking.status == BookingStatus.CONFIRMED
        assert db.session.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED
        assert db.session.scalar(select(func.count(LedgerTransaction.id))) > 0
        checked = runner.invoke(args=["ledger-check"])
        assert checked.exit_code == 0, checked.output

        repaired = _snapshot()
        db.session.rollback()
        second = runner.invoke(args=["reconcile-payments"])
        assert second.exit_code == 0 and "repaired 0." in second.output, second.output
        assert _snapshot() == repaired

"""Bounded waiting: every Stripe call has timeouts and a bounded number of retries, and no
Stripe call happens while a departure is locked (GET/POST of the card page, the processing
page, a cancelled departure's refunds). A hold has a hard maximum however often the card
page is opened."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.factories import Factories
from tests.stripe_emulator import confirm_card_setup
from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import Booking, BookingStatus, Refund, RefundStatus
from tourism.services.booking import availability
from tourism.services.booking import lifecycle as booking_service
from tourism.services.booking.pricing import online_due
from tourism.services.payments import intents
from tourism.services.payments import online as payments
from tourism.services.payments.stripe_gateway import GatewayError, StripeGateway

HOLD = timedelta(minutes=30)


# Timeouts and retries -------------------------------------------------------------------------


class SilentServer:
    """Accepts connections and never answers: a Stripe that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent_stripe():
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize("retries", [0, 2])
def test_a_hanging_stripe_gives_up_after_the_read_timeout_and_the_retries(silent_stripe, retries):
    gateway = StripeGateway.from_config(
        {
            "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
            "STRIPE_API_BASE": silent_stripe.url,
            "STRIPE_CONNECT_TIMEOUT": 1,
            "STRIPE_READ_TIMEOUT": 0.2,
            "STRIPE_MAX_RETRIES": retries,
        }
    )
    assert gateway.timeouts == (1.0, 0.2) and gateway.max_network_retries == retries
    with pytest.raises(GatewayError):
        gateway.retrieve_intent("pi_whatever")
    # One try, then exactly the configured retries (the control: 0 retries, one connection).
    assert len(silent_stripe.accepted) == 1 + retries


def test_the_defaults_are_bounded(make_app):
    app = make_app()
    assert app.config["STRIPE_CONNECT_TIMEOUT"] <= 10
    assert app.config["STRIPE_READ_TIMEOUT"] <= 30
    assert app.config["STRIPE_MAX_RETRIES"] <= 2
    gateway = StripeGateway("sk_test_x", "pk_test_x", "")
    assert gateway.timeouts == (5.0, 20.0)


# No Stripe call under a departure lock --------------------------------------------------------


class LockWatch:
    """Records every Stripe call made while this session holds a departure lock (from
    ``lock_departure`` to the end of its transaction)."""

    def __init__(self) -> None:
        self.locked = False
        self.calls: list[str] = []
        self.under_lock: list[str] = []

    def lock(self, original):
        def lock_departure(session, departure_id, *caps_counts):
            self.locked = True
            return original(session, departure_id, *caps_counts)

        return lock_departure

    def transaction_ended(self, session, transaction) -> None:
        if transaction.parent is None:
            self.locked = False

    def watch(self, gateway: StripeGateway) -> StripeGateway:
        watch = self

        class Watched:
            def __getattr__(self, name):
                value = getattr(gateway, name)
                if not callable(value):
                    return value

                def call(*args, **kwargs):
                    watch.calls.append(name)
                    if watch.locked:
                        watch.under_lock.append(name)
                    return value(*args, **kwargs)

                return call

        return Watched()


@pytest.fixture
def lock_watch(monkeypatch):
    watch = LockWatch()
    monkeypatch.setattr(availability, "lock_departure", watch.lock(availability.lock_departure))
    monkeypatch.setattr(
        availability, "lock_departure_state", watch.lock(availability.lock_departure_state)
    )
    event.listen(Session, "after_transaction_end", watch.transaction_ended)
    yield watch
    event.remove(Session, "after_transaction_end", watch.transaction_ended)


@pytest.fixture
def watched_app(make_app, stripe_settings, tmp_path, lock_watch, gateway):
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "out"), **stripe_settings)
    app.extensions["stripe_gateway"] = lock_watch.watch(gateway)
    with app.app_context():
        yield app


def held(make, departure=None) -> Booking:
    departure = departure or make.departure(capacity=10, starts_in=timedelta(days=5))
    booking = make.booking(departure, quantities={"adult": 2}, status=BookingStatus.HELD)
    booking.payment_method = "card"
    booking.online_due_cents = online_due(booking.total_cents, "card", 30)
    db.session.commit()
    return booking


def test_the_card_page_and_the_processing_page_call_stripe_with_no_lock_held(
    watched_app, lock_watch, gateway, stripe_settings
):
    booking = held(Factories(db.session))
    token = booking.manage_token
    client = watched_app.test_client()
    page = client.get(f"/bookings/{token}/pay")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    secret = html.split('data-setup-client-secret="')[1].split('"')[0]
    setup = confirm_card_setup(stripe_settings["STRIPE_API_BASE"], "pk_test_chakra", secret)
    paid = client.post(f"/bookings/{token}/pay", data={"setup_intent": setup})
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert client.get(f"/bookings/{token}/processing").status_code == 303
    assert {"create_intent", "create_setup_intent", "confirm_intent"} <= set(lock_watch.calls)
    assert lock_watch.under_lock == []


def test_a_cancelled_departure_refunds_everyone_after_the_lock(watched_app, lock_watch, gateway):
    make = Factories(db.session)
    departure = make.departure(capacity=10, starts_in=timedelta(days=5))
    for _ in range(3):
        booking = held(make, departure)
        with write_transactions():
            start = payments.start_payment(db.session, booking, gateway, utcnow(), HOLD)
            intent_id = start.payment.provider_ref
            db.session.commit()
        gateway.confirm_intent(intent_id, "pm_card_visa")
        intent = gateway.retrieve_intent(intent_id)
        with write_transactions():
            intents.apply_intent(db.session, intent, gateway, utcnow())
            db.session.commit()
    lock_watch.calls.clear()
    departure_id = departure.id
    db.session.commit()  # the command starts with no transaction open, as on its own
    result = watched_app.test_cli_runner().invoke(
        args=["cancel-departure", str(departure_id), "--reason", "Río crecido"]
    )
    assert result.exit_code == 0, result.output
    assert lock_watch.calls.count("refund") == 3  # one refund per booking
    assert lock_watch.under_lock == []
    db.session.expire_all()
    assert {r.status for r in db.session.scalars(select(Refund))} == {RefundStatus.SUCCEEDED}


def test_negative_control_the_watch_sees_a_call_made_under_the_lock(watched_app, lock_watch):
    booking = held(Factories(db.session))
    stripe = watched_app.extensions["stripe_gateway"]
    with write_transactions():
        availability.lock_departure(db.session, booking.departure_id)
        stripe.create_setup_intent(idempotency_key="watch-control")
        db.session.rollback()
    assert lock_watch.under_lock == ["create_setup_intent"]


# A hold's hard maximum --------------------------------------------------------------------------


@pytest.fixture
def pay_app(make_app, stripe_settings):
    app = make_app(**stripe_settings)
    with app.app_context(), write_transactions():
        yield app


@pytest.mark.parametrize("hold_max", [timedelta(minutes=60), None])
def test_reopening_the_card_page_extends_a_hold_only_up_to_its_maximum(pay_app, gateway, hold_max):
    booking = held(Factories(db.session))
    created = booking.created_at
    now = created
    for _ in range(6):  # someone reloads the card page every 25 minutes
        now += timedelta(minutes=25)
        if hold_max is not None and now >= created + hold_max:
            with pytest.raises(booking_service.HoldExpired):
                payments.start_payment(db.session, booking, gateway, now, HOLD, hold_max)
            break
        payments.start_payment(db.session, booking, gateway, now, HOLD, hold_max)
        if hold_max is not None:
            assert booking.hold_expires_at <= created + hold_max
    if hold_max is None:  # the control: without a maximum, the hold never ends
        assert booking.hold_expires_at > created + timedelta(hours=2)

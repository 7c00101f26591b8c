"""Webhooks to resellers, against a real HTTP receiver on this machine that fails on demand:
written with the change, signed, retried with growing pauses, given up in the end, and
never sent to a private or loopback address outside the tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tourism.database import utcnow, write_transactions
from tourism.extensions import db
from tourism.models import BookingStatus, WebhookDelivery
from tourism.services.channels import reservations, webhooks
from tourism.services.payments.refunds import cancel_departure
from tourism.unit_of_work import unit_of_work

LOCAL = webhooks.UrlPolicy(require_https=False, allow_private=True)
PRODUCTION = webhooks.UrlPolicy(require_https=True, allow_private=False)
TERMS = reservations.Terms(hold_max=timedelta(minutes=30), languages=["es", "en"])
GUEST = {
    "firstName": "Ana",
    "lastName": "Tapia",
    "emailAddress": "ana@example.org",
    "phoneNumber": "+593 99 765 4321",
    "country": "EC",
}


class Receiver:
    """An HTTP server that records what it receives and answers ``status`` (settable)."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/octo-hook?x=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def write_mode():
    with write_transactions():
        yield


@pytest.fixture
def world(app, make, receiver):
    experience = make.experience(prices={"adult": 3_000})
    departure = make.departure(experience, capacity=10, starts_in=timedelta(days=3))
    reseller, _ = make.reseller(experiences=[experience])
    admin = make.user()
    db.session.commit()
    with unit_of_work():
        secret = webhooks.set_webhook(db.session, admin, reseller, receiver.url, LOCAL, utcnow())
    body = {
        "productId": experience.slug,
        "optionId": "DEFAULT",
        "availabilityId": str(departure.id),
        "unitItems": [{"unitId": "adult"}],
        "resellerReference": "VCH-1",
    }
    with unit_of_work():
        channel = reservations.reserve(db.session, reseller, body, utcnow(), TERMS)
        reservations.confirm(db.session, channel, {"contact": GUEST}, utcnow(), TERMS)
    return {
        "reseller": reseller,
        "departure": departure,
        "channel": channel,
        "secret": secret,
        "admin": admin,
    }


def _cancel_for_weather(world, now):
    with unit_of_work():
        cancel_departure(db.session, world["departure"], "River too high", None, now)


def _delivery() -> WebhookDelivery:
    db.session.expire_all()
    return db.session.scalars(select(WebhookDelivery)).one()


def test_a_weather_cancellation_is_posted_signed(world, receiver):
    now = utcnow()
    _cancel_for_weather(world, now)
    delivery = _delivery()
    assert delivery.status == webhooks.PENDING and delivery.next_attempt_at == now
    report = webhooks.deliver_due(db.session, now, policy=LOCAL)
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [got] = receiver.received
    body = json.loads(got["body"])
    assert body["booking"]["uuid"] == world["channel"].uuid
    assert body["booking"]["status"] == "CANCELLED"
    assert body["booking"]["resellerReference"] == "VCH-1"
    assert body["booking"]["cancellationReason"] == "River too high"
    assert got["headers"][webhooks.EVENT_HEADER] == delivery.event_id == body["webhook"]["id"]
    # The reseller checks the signature with its secret over "<t>.<body>".
    parts = dict(p.split("=", 1) for p in got["headers"][webhooks.SIGNATURE_HEADER].split(","))
    expected = hmac.new(
        world["secret"].encode(), parts["t"].encode() + b"." + got["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    wrong = hmac.new(b"another", parts["t"].encode() + b"." + got["body"], hashlib.sha256)
    assert parts["v1"] != wrong.hexdigest()
    delivery = _delivery()
    assert delivery.status == webhooks.DELIVERED and delivery.attempts == 1
    # Nothing is due any more: a second run posts nothing.
    assert webhooks.deliver_due(db.session, now, policy=LOCAL).delivered == 0
    assert len(receiver.received) == 1


def test_a_failed_post_is_retried_with_growing_pauses_then_delivered(world, receiver):
    now = utcnow()
    _cancel_for_weather(world, now)
    receiver.status = 500
    webhooks.deliver_due(db.session, now, policy=LOCAL)
    assert _delivery().next_attempt_at == now + timedelta(minutes=1)
    # Not due before its time.
    assert webhooks.deliver_due(db.session, now + timedelta(seconds=59), policy=LOCAL).retrying == 0
    later = now + timedelta(minutes=1)
    webhooks.deliver_due(db.session, later, policy=LOCAL)
    delivery = _delivery()
    assert delivery.attempts == 2 and delivery.next_attempt_at == later + timedelta(minutes=2)
    assert delivery.last_status_code == 500 and delivery.status == webhooks.PENDING
    receiver.status = 204
    webhooks.deliver_due(db.session, later + timedelta(minutes=2), policy=LOCAL)
    delivery = _delivery()
    assert delivery.status == webhooks.DELIVERED and delivery.attempts == 3
    assert len(receiver.received) == 3
    # The same event id and body every time: the reseller applies it once.
    assert len({r["headers"][webhooks.EVENT_HEADER] for r in receiver.received}) == 1
    assert len({r["body"] for r in receiver.received}) == 1


def test_after_the_last_attempt_we_give_up(world, receiver):
    now = utcnow()
    _cancel_for_weather(world, now)
    receiver.status = 503
    for _ in range(webhooks.MAX_ATTEMPTS):
        delivery = _delivery()
        webhooks.deliver_due(db.session, delivery.next_attempt_at, policy=LOCAL)
    delivery = _delivery()
    assert delivery.status == webhooks.FAILED and delivery.next_attempt_at is None
    assert delivery.attempts == webhooks.MAX_ATTEMPTS == len(receiver.received)
    assert webhooks.deliver_due(db.session, now + timedelta(days=30), policy=LOCAL).failed == 0


def test_no_answer_is_retried(world):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world["reseller"].webhook_url = f"http://127.0.0.1:{port}/hook"
    db.session.commit()
    now = utcnow()
    _cancel_for_weather(world, now)
    report = webhooks.deliver_due(db.session, now, policy=LOCAL)
    delivery = _delivery()
    assert report.retrying == 1 and delivery.last_error.startswith("no answer")
    assert delivery.last_status_code is None


def test_the_backoff_doubles_up_to_six_hours():
    pauses = [webhooks.backoff(n) for n in range(1, 12)]
    assert pauses[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(pauses) == timedelta(hours=6)


def test_a_post_is_written_with_the_change_and_only_then(world):
    with pytest.raises(RuntimeError), unit_of_work():
        cancel_departure(db.session, world["departure"], "River too high", None, utcnow())
        raise RuntimeError("the change fails after the post was written")
    assert db.session.scalars(select(WebhookDelivery)).all() == []
    assert world["channel"].booking.status == BookingStatus.CONFIRMED


def test_the_resellers_own_cancellation_is_not_posted_back(world):
    with unit_of_work():
        reservations.cancel(db.session, world["channel"], {}, utcnow())
    assert db.session.scalars(select(WebhookDelivery)).all() == []


def test_a_web_booking_or_a_reseller_without_webhook_posts_nothing(world, make):
    make.booking(world["departure"], quantities={"adult": 1})
    with unit_of_work():
        webhooks.remove_webhook(db.session, world["admin"], world["reseller"], utcnow())
    _cancel_for_weather(world, utcnow())
    assert db.session.scalars(select(WebhookDelivery)).all() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://user:pw@93.184.216.34/hook",
        "ftp://93.184.216.34/hook",
        "https:///nohost",
        "not a url",
        "https://93.184.216.34:99999/hook",
        "https://93.184.216.34:0/hook",  # would have been posted to 443
        "https://93.184.216.34/a\r\nX-Injected: 1",
        "https://93.184.216.34/a b",
        "https://93.184.216.34/a\tb",
    ],
)
def test_unsafe_addresses_are_refused(world, url):
    before = world["reseller"].webhook_url
    with pytest.raises(webhooks.UnsafeAddress):
        webhooks.set_webhook(
            db.session, world["admin"], world["reseller"], url, PRODUCTION, utcnow()
        )
    db.session.rollback()
    assert world["reseller"].webhook_url == before


def test_a_public_https_address_is_accepted():
    assert webhooks.check_url("https://93.184.216.34/hook", PRODUCTION)[1] == "93.184.216.34"
    assert webhooks.resolve("93.184.216.34", 443, PRODUCTION) == "93.184.216.34"


def test_an_address_that_turned_private_is_not_posted_to(world, receiver):
    """Checked again at each post: the test receiver is loopback, refused by default."""
    now = utcnow()
    _cancel_for_weather(world, now)
    report = webhooks.deliver_due(db.session, now, policy=webhooks.UrlPolicy(False, False))
    assert report.retrying == 1 and receiver.received == []
    assert _delivery().last_error == "the address is not a public one"


def test_the_tests_config_refuses_private_addresses_unless_asked(app):
    assert webhooks.UrlPolicy.from_config(app.config).allow_private is False
    asked = dict(app.config, WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
    assert webhooks.UrlPolicy.from_config(asked).allow_private is True
    production = dict(asked, TESTING=False, CHAKRA_ENV="production")
    assert webhooks.UrlPolicy.from_config(production) == PRODUCTION


def test_the_command_sends_what_is_due(app, runner, world, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", True)
    _cancel_for_weather(world, utcnow())
    db.session.commit()
    result = runner.invoke(args=["deliver-webhooks"])
    assert result.exit_code == 0, result.output
    assert "Delivered 1" in result.output, _delivery().last_error
    assert len(receiver.received) == 1


def test_the_guest_cancelling_from_the_voucher_is_posted(world):
    from tourism.services.payments.refunds import cancel_with_refund

    with unit_of_work():
        cancel_with_refund(db.session, world["channel"].booking, None, utcnow())
    delivery = _delivery()
    assert json.loads(delivery.payload)["booking"]["status"] == "CANCELLED"


def test_the_association_cancelling_one_booking_is_posted(world):
    from tourism.services.payments.staff_cancellation import cancel_by_association

    booking = world["channel"].booking
    with unit_of_work():
        cancel_by_association(
            db.session, booking, "Guide ill", "full", world["admin"], None, utcnow()
        )
    delivery = _delivery()
    posted = json.loads(delivery.payload)["booking"]
    assert posted["status"] == "CANCELLED"
    assert posted["cancellationReason"] == webhooks.ASSOCIATION_CANCELLED

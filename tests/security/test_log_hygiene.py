"""No secret reaches the logs, even at DEBUG level.

A card payment (booking, card set up through the Stripe emulator as Stripe.js would, charge,
signed webhook, processing page), sign-in failures and successes, and a password reset all
run with every logger at DEBUG. The captured records, messages and tracebacks included,
must hold no password, card number, secret key, webhook secret, session or CSRF token,
manage token or reset token.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, Factories
from tests.routes.test_payments import form_for
from tests.stripe_emulator import GOOD_CARD, confirm_card_setup
from tourism.extensions import db
from tourism.models import Booking, Payment, User

CARD_NUMBER = GOOD_CARD  # must never reach a log
WRONG_PASSWORD = "not the password at all"
NEW_PASSWORD = "cacao and guayusa at dawn"
PUBLIC_URL = "https://chakra.example"


@pytest.fixture
def debug_logs(caplog, database_url):
    """Every logger at DEBUG into caplog, as in a fresh process whose operator set the root
    logger to DEBUG. Migrating the test database ran Alembic's logging setup, which disabled
    the loggers that existed then and set levels of its own: undo that for the test (the app,
    built after this fixture, then applies its own logging settings)."""
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.disabled, logger.level) for logger in loggers]
    for logger in loggers:
        logger.disabled = False
        logger.setLevel(logging.NOTSET)
    # The operator also asked for the SQL (INFO, which the app would otherwise cap away): the
    # statements are then logged, and their parameters must still not be.
    engine_logger = logging.getLogger("sqlalchemy.engine")
    saved.append((engine_logger, engine_logger.disabled, engine_logger.level))
    engine_logger.setLevel(logging.INFO)
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records reach caplog
    yield caplog
    for logger, disabled, level in saved:
        logger.disabled = disabled
        logger.setLevel(level)


def _logged(caplog) -> str:
    """Everything the records would print: formatted messages, arguments and tracebacks."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def _assert_absent(logs: str, secrets: dict[str, str]) -> None:
    for label, value in secrets.items():
        assert value and len(value) >= 8, f"{label}: not a meaningful secret to look for"
        assert value not in logs, f"the {label} appears in the logs"


@pytest.fixture
def pay_app(debug_logs, make_app, stripe_settings, tmp_path):
    app = make_app(
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        PUBLIC_URL=PUBLIC_URL,
        **stripe_settings,
    )
    with app.app_context():
        yield app


def test_a_card_payment_logs_no_secret(
    pay_app, stripe_settings, stripe_emulator, gateway, debug_logs
):
    make = Factories(db.session)
    experience = make.experience(payment_options="card,on_arrival")
    departure = make.departure(experience, capacity=8)
    client = pay_app.test_client()
    booked = client.post(f"/departures/{departure.id}/book", data=form_for(departure, "card"))
    assert booked.status_code == 303
    booking = db.session.scalars(select(Booking)).one()
    token = booking.manage_token

    html = client.get(f"/bookings/{token}/pay").get_data(as_text=True)
    setup_secret = re.search(r'data-setup-client-secret="([^"]+)"', html).group(1)
    setup_intent = confirm_card_setup(
        stripe_emulator.base_url, stripe_settings["STRIPE_PUBLISHABLE_KEY"], setup_secret
    )
    charged = client.post(f"/bookings/{token}/pay", data={"setup_intent": setup_intent})
    assert charged.status_code == 200, charged.get_json()

    payment = db.session.scalars(select(Payment)).one()
    event = {
        "id": "evt_log_hygiene",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": 1_700_000_000,
        "data": {"object": {"id": payment.provider_ref, "object": "payment_intent"}},
    }
    body, signature = stripe_emulator.sign_event(event, stripe_settings["STRIPE_WEBHOOK_SECRET"])
    hook = client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": signature})
    assert hook.status_code == 200
    # A forged delivery is logged (or not) without the secret it failed to match.
    client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": "t=1,v1=bad"})
    done = client.get(f"/bookings/{token}/processing")
    assert done.status_code == 303
    assert db.session.get(Booking, booking.id).status.value == "confirmed"

    logs = _logged(debug_logs)
    # Proof that capture works: the Stripe calls and the SQL that stored the token are there.
    assert "Request to Stripe api" in logs and "INSERT INTO bookings" in logs
    _assert_absent(
        logs,
        {
            "card number": CARD_NUMBER,
            "Stripe secret key": stripe_settings["STRIPE_SECRET_KEY"],
            "webhook secret": stripe_settings["STRIPE_WEBHOOK_SECRET"],
            "Flask secret key": pay_app.config["SECRET_KEY"],
            "manage token": token,
            "card setup client secret": setup_secret,
        },
    )


def _reset_link(outbox) -> str:
    [path] = sorted(outbox.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(re.escape(PUBLIC_URL) + r"(/password/reset/[A-Za-z0-9_\-]+)", text).group(1)


def test_sign_in_and_password_reset_log_no_secret(debug_logs, make_app, tmp_path):
    outbox = tmp_path / "outbox"
    app = make_app(
        MAIL_BACKEND="folder",
        MAIL_OUTBOX_DIR=str(outbox),
        PUBLIC_URL=PUBLIC_URL,
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        user = Factories(db.session).user(email="ana@example.org")
        db.session.commit()
        client = app.test_client()

        def csrf(path: str) -> str:
            html = client.get(path).get_data(as_text=True)
            return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

        form_token = csrf("/login")
        refused = client.post(
            "/login",
            data={"email": user.email, "password": WRONG_PASSWORD, "csrf_token": form_token},
        )
        assert refused.status_code == 400
        signed_in = client.post(
            "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": form_token}
        )
        assert signed_in.status_code == 303
        session_token = db.session.scalar(select(User.session_token).where(User.id == user.id))
        session_cookie = client.get_cookie("session").value
        assert client.post("/logout", data={"csrf_token": csrf("/")}).status_code == 303

        asked = client.post(
            "/password/forgot",
            data={"email": user.email, "csrf_token": csrf("/password/forgot")},
            buffered=True,
        )
        assert asked.status_code == 303
        link = _reset_link(outbox)
        changed = client.post(
            link,
            data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf(link)},
        )
        assert changed.status_code == 303

    logs = _logged(debug_logs)
    assert "UPDATE users SET" in logs, "the SQL that stored the tokens should be captured"
    _assert_absent(
        logs,
        {
            "password": PASSWORD,
            "wrong password": WRONG_PASSWORD,
            "new password": NEW_PASSWORD,
            "session token": session_token,
            "session cookie": session_cookie,
            "CSRF token": form_token,
            "reset token": link.rsplit("/", 1)[1],
            "Flask secret key": app.config["SECRET_KEY"],
        },
    )


def test_sql_is_not_logged_unless_an_operator_asks(caplog, make_app):
    """With the root logger at DEBUG and the engine's logger left alone, the app caps it at
    WARNING: no statement is logged, and none costs a log record."""
    engine_logger = logging.getLogger("sqlalchemy.engine")
    saved = engine_logger.level
    engine_logger.setLevel(logging.NOTSET)
    caplog.set_level(logging.DEBUG)
    try:
        app = make_app()
        assert engine_logger.level == logging.WARNING
        with app.app_context():
            app.test_client().get("/")
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.engine")]
    finally:
        engine_logger.setLevel(saved)

"""Fixtures: an app on a freshly migrated database (SQLite file, or PostgreSQL when
``TEST_DATABASE_URL`` is set), a client, a CLI runner, and data factories."""

from __future__ import annotations

import contextvars
import os

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, literal, select, text

from tourism import create_app
from tourism.extensions import db
from tourism.models.ledger import (
    APPEND_ONLY_TABLES,
    append_only_triggers_sql,
    drop_append_only_triggers_sql,
)

from . import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _test_config(url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        # Fifty threads race in the concurrency tests; give each its own connection.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 60, "pool_timeout": 60},
    }
    config.update(overrides)
    return config


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database migrated once per test session with the project's own migrations."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        _reset_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app(_test_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


class IsolatedClient(FlaskClient):
    """A test client whose requests run like production ones: in their own app context, with
    their own database session and transaction, seeing only what the test committed."""

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()  # make the test's factory data visible to the request
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database with config overrides; tables are emptied after."""
    apps = []

    def build(**overrides):
        app = create_app(_test_config(database_url, **overrides))
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


def _empty_tables() -> None:
    """Delete every row, the append-only ledger's included: its triggers (which refuse
    DELETE) are switched off for this one transaction when it has rows."""
    with db.engine.begin() as conn:
        dialect = conn.dialect.name
        ledger_used = any(
            conn.execute(select(literal(1)).select_from(db.metadata.tables[name]).limit(1)).first()
            for name in APPEND_ONLY_TABLES
        )
        if ledger_used and dialect == "postgresql":
            # Triggers do not fire for a replica; SET LOCAL ends with this transaction.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        elif ledger_used:
            for statement in drop_append_only_triggers_sql(dialect):
                conn.exec_driver_sql(statement)
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        if ledger_used and dialect != "postgresql":
            for statement in append_only_triggers_sql(dialect):
                conn.exec_driver_sql(statement)


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def make(app):
    """Factories bound to the test session: ``make.departure(capacity=3)`` and friends."""
    return factories.Factories(db.session)


def is_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


# Stripe: a real local emulator (localstripe), started once per test session -----------------


@pytest.fixture(scope="session")
def stripe_emulator(tmp_path_factory):
    """localstripe on 127.0.0.1 (a free port), empty, its state dump kept in a temp dir.

    A ``tests.stripe_emulator.StripeEmulator``: ``base_url``, ``js_url``,
    ``register_webhook(url, secret, events=None)``, ``unregister_webhook(id)``, ``flush()``,
    ``sign_event(payload, secret, timestamp=None)``."""
    from .stripe_emulator import StripeEmulator

    emulator = StripeEmulator(state_dir=tmp_path_factory.mktemp("localstripe")).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def stripe_settings(stripe_emulator) -> dict:
    """App config pointing Stripe (API and Stripe.js) at the emulator."""
    return {
        "STRIPE_SECRET_KEY": "sk_test_chakra",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_chakra",
        "STRIPE_WEBHOOK_SECRET": "whsec_test_chakra",
        "STRIPE_API_BASE": stripe_emulator.base_url,
        "STRIPE_JS_URL": stripe_emulator.js_url,
    }


@pytest.fixture
def gateway(stripe_settings):
    """A ``StripeGateway`` talking to the emulator."""
    from tourism.stripe_gateway import StripeGateway

    return StripeGateway.from_config(stripe_settings)

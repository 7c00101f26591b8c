"""Fixtures: an app on a freshly migrated database (SQLite file, or PostgreSQL when
``TEST_DATABASE_URL`` is set), a client, a CLI runner, and data factories."""

from __future__ import annotations

import contextvars
import os

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from tests import factories, template_cache, url_rules_cache
from tests.messaging_fake import RunningFake
from tourism import create_app
from tourism.extensions import db
from tourism.models.ledger import (
    APPEND_ONLY_TABLES,
    append_only_triggers_sql,
    drop_append_only_triggers_sql,
)
from tourism.services.booking import seat_check

url_rules_cache.install()

#: With pytest-xdist (``-n 2``) each worker gets its own PostgreSQL database and Redis
#: database, derived from the ones given, so workers never share rows, locks or rate limits.
#: Set in the environment too: test modules that read it themselves see the worker's own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _per_worker(url: str | None, kind: str) -> str | None:
    if not url or not WORKER:
        return url
    index = int(WORKER.removeprefix("gw") or 0)
    base, _, name = url.rpartition("/")
    if kind == "redis":
        return f"{base}/{(int(name or 0) - index) % 16}"
    return f"{base}/{name}_{WORKER}"


for _variable, _kind in (("TEST_DATABASE_URL", "postgresql"), ("TEST_REDIS_URL", "redis")):
    if os.environ.get(_variable):
        os.environ[_variable] = _per_worker(os.environ[_variable], _kind)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _test_config(url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Like the rate limits, the caps on open unpaid bookings per email and address are
        # off by default here (races book with one email); tests/test_hold_caps.py checks them.
        "OPEN_BOOKINGS_PER_EMAIL": 10_000,
        "OPEN_BOOKINGS_PER_ADDRESS": 10_000,
        "SERVER_NAME": "localhost",
        # One process: the in-process cache may hold the response cache (tests that start
        # several processes use Redis).
        "RESPONSE_CACHE_IN_PROCESS": True,
        # Fifty threads queue for one row on a loaded 2-core machine: a production lock
        # timeout (5 s) would turn the last of them into 503s. tests/reliability/
        # test_lock_timeout.py checks the timeout with its own short setting.
        "DATABASE_LOCK_TIMEOUT_MS": 60_000,
        # Fifty threads race in the concurrency tests; give each its own connection.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10, "max_overflow": 60, "pool_timeout": 60},
    }
    config.update(overrides)
    return config


def _reset_postgres(url: str) -> None:
    if WORKER:  # the worker's own database may not exist yet
        name = url.rpartition("/")[2]
        server = create_engine(url.rpartition("/")[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
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
        # Uploaded (and demo) photos go to the test's own folder, never to instance/.
        overrides = {"UPLOAD_DIR": str(tmp_path / "uploads"), **overrides}
        app = create_app(_test_config(database_url, **overrides))
        app.test_client_class = IsolatedClient
        app.jinja_env.bytecode_cache = template_cache.SHARED
        apps.append(app)
        return app

    yield build
    wrong_counters = []
    for app in apps:
        with app.app_context():
            db.session.remove()
            if not wrong_counters:
                # Whatever the test did, every departure's seat counter still matches its
                # confirmed bookings (models/seat_counter.py).
                wrong_counters = seat_check.mismatches(db.session)
                db.session.remove()
            _empty_tables()
            db.engine.dispose()
    assert not wrong_counters, "seat counters out of step: " + "; ".join(map(str, wrong_counters))


def _empty_tables() -> None:
    """Delete every row, the append-only ledger's included: its triggers (which refuse
    DELETE) are switched off for this one transaction when it has rows.

    The statements are plain text sent to the driver: each test has its own engine, so a
    SQLAlchemy statement would be compiled again for every test, some sixty a test."""
    # Table names come from our own models, not from input.
    with db.engine.begin() as conn:
        dialect = conn.dialect.name
        ledger_used = any(
            conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first()  # noqa: S608
            for name in APPEND_ONLY_TABLES
        )
        if ledger_used and dialect == "postgresql":
            # Triggers do not fire for a replica; SET LOCAL ends with this transaction.
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        elif ledger_used:
            for statement in drop_append_only_triggers_sql(dialect):
                conn.exec_driver_sql(statement)
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]  # noqa: S608
        if dialect == "postgresql":
            conn.exec_driver_sql("; ".join(statements))  # one round trip (psycopg sends all)
        else:
            for statement in statements:
                conn.exec_driver_sql(statement)
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
    from tests.stripe_emulator import StripeEmulator

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
    from tourism.services.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_config(stripe_settings)


@pytest.fixture
def messaging_fake():
    """The local WhatsApp and SMS providers (tests/messaging_fake.py) on a free loopback
    port, for this test only; ``messaging_fake.config()`` points the app at them."""
    fake = RunningFake()
    try:
        yield fake
    finally:
        fake.stop()


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL, leave out the tests marked ``no_database``: they never open a database,
    so the SQLite pass (``make test``) already ran exactly what they check. The count shows as
    "deselected"; a test so marked that does use the database fails here instead."""
    for item in items:
        if item.get_closest_marker("no_database") and "database_url" in item.fixturenames:
            raise pytest.UsageError(f"{item.nodeid} is marked no_database but uses the database")
    if not TEST_DATABASE_URL:
        return
    left = [item for item in items if item.get_closest_marker("no_database")]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not item.get_closest_marker("no_database")]

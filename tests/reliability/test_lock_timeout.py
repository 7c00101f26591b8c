"""A lock not obtained in time is a "busy, please try again" 503 with Retry-After, in the
visitor's language, and nothing written: PostgreSQL's lock_timeout, SQLite's busy_timeout.

Another connection holds the lock the booking needs (the departure's row on PostgreSQL,
SQLite's write lock); the booking waits the configured time, then gives up. The control: the
same booking once the other connection lets go goes through (so the 503 was the lock's)."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from bench.gunicorn_harness import plain_postgres_url
from tests.factories import Factories
from tests.routes.test_bookings import EN, ES, form_for
from tourism.extensions import db
from tourism.models import Booking

TIMEOUT_MS = 300


@pytest.fixture
def app(make_app):
    app = make_app(DATABASE_LOCK_TIMEOUT_MS=TIMEOUT_MS, SQLITE_BUSY_TIMEOUT_MS=TIMEOUT_MS)
    with app.app_context():
        yield app


@contextmanager
def lock_held(departure_id: int):
    """Another connection, outside the app, holding what a booking of the departure needs."""
    db.session.commit()
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        other = psycopg.connect(plain_postgres_url(url.render_as_string(hide_password=False)))
        other.execute("SELECT id FROM departures WHERE id = %s FOR UPDATE", (departure_id,))
    try:
        yield
    finally:
        other.rollback()
        other.close()


def _bookings() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(Booking.id)))


def test_a_booking_that_cannot_get_its_lock_is_told_to_try_again(app, client):
    make = Factories(db.session)
    departure = make.departure(make.experience(), capacity=6, starts_in=timedelta(days=3))
    db.session.commit()
    url, form = f"/departures/{departure.id}/book", form_for(departure)
    with lock_held(departure.id):
        busy = client.post(url, data=form, headers=EN)
        spanish = client.post(url, data=form, headers=ES)
    assert busy.status_code == spanish.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    assert "We are very busy right now" in busy.get_data(as_text=True)
    assert "Estamos muy ocupados" in spanish.get_data(as_text=True)
    assert _bookings() == 0
    # The control: without the other connection's lock, the same booking is made.
    assert client.post(url, data=form, headers=EN).status_code == 303
    assert _bookings() == 1


def test_the_timeout_is_set_on_postgresql_connections(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's busy timeout is a PRAGMA")
    assert db.session.scalar(select(func.current_setting("lock_timeout"))) == f"{TIMEOUT_MS}ms"

"""The application with the departure lock switched off: the negative control, nothing else.

``gunicorn bench.unlocked_wsgi:app`` serves the app after the same replacements that
``tests/test_concurrency.py`` makes with ``monkeypatch``: ``lock_departure`` (and
``lock_departure_state``) becomes a plain SELECT, a confirmed booking's seats are counted apart
from the UPDATE that claims them, and SQLite transactions are no longer opened with ``BEGIN
IMMEDIATE``. SQLite lets one writer at a time from a hold's insert to its commit, so a hold
that counts after inserting cannot race there even so; on SQLite the seat count is taken away
as well. The oversell battery runs it to show that overselling does happen without the lock, so
its zero with the lock means something. It lives in bench/, never in the package, and refuses
to load in production.
"""

from __future__ import annotations

import os

from sqlalchemy import select

from tourism import create_app, database
from tourism.extensions import db
from tourism.models import Departure
from tourism.services.booking import availability, hold_rows
from tourism.services.booking import caps as hold_caps

if os.environ.get("CHAKRA_ENV", "").strip().lower() == "production":
    raise RuntimeError("the unlocked application is a test control; never run it in production")


def _no_lock(session, departure_id: int) -> Departure:
    return session.execute(select(Departure).where(Departure.id == departure_id)).scalar_one()


# Each replaced name must exist: a renamed one would leave this control locked, silently.
for module, name in (
    (availability, "lock_departure"),
    (availability, "lock_departure_state"),
    (hold_rows, "CHECK_IN_UPDATE"),
):
    assert hasattr(module, name), f"{module.__name__}.{name} was renamed"
availability.lock_departure = _no_lock
# The hold reads the row it locks without an ORM object, and checks a confirmed booking's
# seats in the UPDATE that claims them: both go, as the lock does.
availability.lock_departure_state = availability.read_departure_state
hold_rows.CHECK_IN_UPDATE = False
hold_caps.lock_params = lambda *args: None  # nor the open-bookings cap's locks per email
database.sqlite_begin_statement = lambda: None

app = create_app()
with app.app_context():
    if db.engine.dialect.name == "sqlite":
        # No count: every hold fits (and still moves the confirmed-seat counter). Replace
        # the real function (a renamed one would leave this control locked, silently).
        assert hasattr(availability, "seats_taken_on"), "the seat count was renamed"
        availability.seats_taken_on = lambda *args: 0

"""Database plumbing: UTC timestamps, and models that match the migrations."""

from __future__ import annotations

import os
import warnings
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import StatementError

from tourism.extensions import db


def test_models_and_migrations_agree(app):
    """No pending autogenerate diff: every model change has its migration. SQLite cannot
    reflect an index on an expression (``lower(contact_email)``), so there that one index is
    checked by name; PostgreSQL compares it in full."""
    with db.engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
        indexes = (
            {row[1] for row in conn.exec_driver_sql("PRAGMA index_list('bookings')")}
            if (db.engine.dialect.name == "sqlite")
            else None
        )
    if indexes is not None:
        assert "ix_bookings_contact_email_lower" in indexes
        diff = [d for d in diff if not _is_expression_index(d, "ix_bookings_contact_email_lower")]
    assert diff == []


def _is_expression_index(change, name: str) -> bool:
    return change[0] in ("add_index", "remove_index") and change[1].name == name


def test_suite_runs_on_the_configured_database(app):
    """With TEST_DATABASE_URL set, the suite must really be talking to PostgreSQL."""
    expected = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    assert db.engine.dialect.name == expected


def test_timestamps_come_back_aware_in_utc(session, make):
    departure = make.departure()
    session.commit()
    session.expire_all()
    assert departure.starts_at.utcoffset().total_seconds() == 0


def test_naive_datetimes_are_refused(session, make):
    departure = make.departure()
    departure.starts_at = datetime(2027, 1, 1, 8, 0)
    with pytest.raises(StatementError):
        session.flush()
    session.rollback()

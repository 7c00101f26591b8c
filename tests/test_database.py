"""Database plumbing: UTC timestamps, and models that match the migrations."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import StatementError

from tourism.extensions import db


def test_models_and_migrations_agree(app):
    """No pending autogenerate diff: every model change has its migration."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


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

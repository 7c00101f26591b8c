"""Database plumbing: UTC timestamps, and models that match the migrations."""

from __future__ import annotations

import os
import socket
import time
import warnings
from datetime import datetime
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError, StatementError

from tourism.database import closed_by_the_server, engine_options
from tourism.extensions import db

postgres_only = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="the pool's check is PostgreSQL's"
)


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


# A connection the server closed while it sat in the pool (PostgreSQL restarted, a failover,
# pg_terminate_backend) is found when it is taken out, without a round trip, and replaced.


def _socket_connection(sock, closed=False, broken=False):
    return SimpleNamespace(closed=closed, broken=broken, fileno=sock.fileno)


def test_an_idle_connection_with_nothing_to_read_is_open_until_its_peer_closes():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        connection = _socket_connection(ours)
        assert not closed_by_the_server(connection)
        theirs.close()  # the server's end goes away
        assert closed_by_the_server(connection)


def test_a_connection_the_driver_knows_is_closed_or_broken_is_refused():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert closed_by_the_server(_socket_connection(ours, closed=True))
        assert closed_by_the_server(_socket_connection(ours, broken=True))


def _terminate(engine, pid: int) -> None:
    """Close ``pid``'s connection from the server's side, and wait until it is gone."""
    url = engine.url.render_as_string(hide_password=False)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(200):
                alive = other.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar()
                if not alive:
                    return
                time.sleep(0.01)
        raise AssertionError(f"backend {pid} still alive")
    finally:
        admin.dispose()


def _server_closes_the_pooled_connection(engine) -> int:
    with engine.connect() as connection:  # opened, then back in the pool
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    _terminate(engine, pid)
    return pid


@postgres_only
def test_a_connection_the_server_closed_in_the_pool_is_replaced_without_an_error(app, client):
    db.session.remove()
    engine = db.engine
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    pid = _server_closes_the_pooled_connection(engine)
    before = len(opened)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    assert len(opened) == before + 1  # the closed one replaced by a new one
    # And a page that reads the database, after the server closed the request's connection.
    _server_closes_the_pooled_connection(engine)
    assert client.get("/").status_code == 200


@postgres_only
def test_an_open_connection_is_kept_and_not_pinged(app):
    db.session.remove()
    engine = db.engine
    statements, opened = [], []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    with engine.connect():
        pass
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for _ in range(20):
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 2")
    assert opened == [1]
    assert statements == ["SELECT 2"] * 20  # no ping before each


@postgres_only
def test_negative_control_without_the_check_the_closed_connection_fails(app):
    url = db.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url, **engine_options(app.config))  # configure_engine not applied
    try:
        _server_closes_the_pooled_connection(engine)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    finally:
        engine.dispose()

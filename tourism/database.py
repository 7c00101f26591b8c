"""Database plumbing shared by every model: UTC timestamps and SQLite's write lock.

SQLite has a single writer. A transaction that reads seats and then writes a booking must take
the write lock *before* it reads, or two of them can count the same free seat (overselling) or
fail late with "database is locked". We therefore drive SQLite's transactions ourselves
(SQLAlchemy's documented pysqlite recipe) and start every transaction of a request that may
write (POST, PUT, PATCH, DELETE) or of a write block with ``BEGIN IMMEDIATE``. Read-only
requests use a plain ``BEGIN`` and, thanks to WAL mode, never wait for writers.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import DateTime, bindparam, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_forced_begin: ContextVar[str | None] = ContextVar("sqlite_forced_begin", default=None)


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC (never a naive local time)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as naive UTC and returns them aware, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def sqlite_begin_statement() -> str | None:
    """The statement that opens a SQLite transaction in the current context."""
    forced = _forced_begin.get()
    if forced is not None:
        return forced
    if has_request_context() and request.method not in SAFE_METHODS:
        return "BEGIN IMMEDIATE"
    return "BEGIN"


@contextmanager
def write_transactions() -> Iterator[None]:
    """Make SQLite transactions opened inside this block take the write lock up front.

    Used by CLI commands and background jobs that read then write outside a request.
    """
    token = _forced_begin.set("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        _forced_begin.reset(token)


def engine_options(config) -> dict:
    """``SQLALCHEMY_ENGINE_OPTIONS`` with the lock timeout: on PostgreSQL a statement waits
    at most ``DATABASE_LOCK_TIMEOUT_MS`` for a lock (``lock_timeout``), then fails, and the
    request answers "busy, please try again" (``is_busy``) instead of queueing without end."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        timeout = int(config.get("DATABASE_LOCK_TIMEOUT_MS", 5000))
        extra = connect_args.get("options", "")
        connect_args["options"] = f"{extra} -c lock_timeout={timeout}".strip()
        options["connect_args"] = connect_args
    return options


#: PostgreSQL's SQLSTATEs for "gave up waiting for a lock" (lock_timeout; NOWAIT).
BUSY_SQLSTATES = frozenset({"55P03"})


def is_busy(error: BaseException) -> bool:
    """True for an error that only says the database was busy: a lock not obtained within
    the timeout (PostgreSQL) or SQLite's write lock still taken after ``busy_timeout``."""
    original = getattr(error, "orig", error)
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return type(original).__module__.startswith("sqlite3") and "database is locked" in str(original)


#: SQLSTATEs that say the server cannot be reached or is not serving: connection exceptions
#: (class 08), and a server shutting down, crashed or still starting up (57P01–57P03).
UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_unreachable(error: BaseException) -> bool:
    """True for an error that says PostgreSQL could not be reached or dropped the connection
    (down, restarting, a network fault), as opposed to a fault in a statement. psycopg gives
    no SQLSTATE for a refused or broken connection."""
    if getattr(error, "connection_invalidated", False):
        return True
    original = getattr(error, "orig", error)
    if not type(original).__module__.startswith("psycopg"):
        return False
    sqlstate = getattr(original, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in UNREACHABLE_SQLSTATES


def closed_by_the_server(dbapi_connection) -> bool:
    """True when the server has closed this idle connection: on a restart, a failover or
    ``pg_terminate_backend`` PostgreSQL sends its last message and closes the socket, so
    the socket has something to read although nothing was asked. One ``poll`` of the
    socket, without a round trip to the server."""
    if dbapi_connection.closed or dbapi_connection.broken:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _refuse_a_closed_connection(dbapi_connection, _record, _proxy) -> None:
    if closed_by_the_server(dbapi_connection):
        # The pool drops it and opens another (SQLAlchemy's checkout protocol).
        raise exc.DisconnectionError("the server closed this connection while it was idle")


def configure_engine(engine: Engine, busy_timeout_ms: int = 30000) -> None:
    """On PostgreSQL, check each connection taken from the pool is still open; on SQLite,
    attach the transaction recipe."""
    if engine.dialect.name == "postgresql":
        # Instead of ``pool_pre_ping``'s ``SELECT 1`` round trip on every checkout.
        event.listen(engine, "checkout", _refuse_a_closed_connection)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let us emit BEGIN ourselves instead of the driver's late, implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        statement = sqlite_begin_statement()
        conn.info["sqlite_immediate"] = statement == "BEGIN IMMEDIATE"
        if statement:
            conn.exec_driver_sql(statement)


def holds_write_lock(session) -> bool:
    """True when the session's current transaction may write without racing another writer.

    PostgreSQL relies on row locks (``FOR UPDATE``) instead, so it always answers True.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return True
    return bool(connection.info.get("sqlite_immediate"))


def insert_once(insert, table, columns):
    """``INSERT … ON CONFLICT (key) DO NOTHING RETURNING id`` of ``columns``, each bound by
    its name, built with a dialect's ``insert``: a row whose unique ``key`` is taken (by an
    earlier call or a concurrent transaction) is refused without an error that would spoil
    the caller's transaction. On the table, not the class: a Core insert skips the ORM's
    bulk-insert bookkeeping."""
    return (
        insert(table)
        .values({column: bindparam(column) for column in columns})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )

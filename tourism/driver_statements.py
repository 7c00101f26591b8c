"""Core statements compiled once and run through the database driver's own cursor.

For every statement it runs, SQLAlchemy's ``Connection.execute`` computes the statement's
cache key, looks its compiled form up, builds an execution context, converts each parameter
and wraps the cursor in a result. On the hold's path (four statements per booking) that
work took more CPU than the driver's own (docs/PERFORMANCE.md). A ``DriverStatement`` does
it once per statement and database: it keeps the SQL SQLAlchemy compiled, its parameters'
and columns' type conversions and a row class, and runs on the session's own connection,
inside its transaction, through a plain driver cursor.

What it keeps of ``Connection.execute``:

- the same SQL, compiled by SQLAlchemy for the connection's dialect;
- the same conversions both ways (enums, dates), taken from the columns' types;
- the engine's ``before_cursor_execute`` listeners (statement counts and SQL logs);
- the engine's SQL log: an operator who sets ``sqlalchemy.engine`` to INFO sees these
  statements too, their parameters hidden as the engine hides them (``security.init_app``);
- driver errors raised as SQLAlchemy's (``exc.OperationalError``, ``exc.IntegrityError``),
  and a lost connection invalidated, so the pool does not hand it out again;
- the response cache's note of a write to a table it watches, which an ORM execute makes
  (``response_cache.note_write``).

Only statements that return rows (a ``SELECT``, or a write with ``RETURNING``) are run this
way, and only on PostgreSQL: elsewhere (SQLite, the embedded database of development and
the default test run) ``run`` hands the statement to ``Connection.execute``.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from typing import Any

from sqlalchemy import exc
from sqlalchemy.orm import Session

from . import response_cache

_REQUIRED = object()


class DriverStatement:
    """``statement`` (a Core ``SELECT``, or an ``INSERT``/``UPDATE`` with ``RETURNING``),
    to run with ``run(session, params)``: its rows, each with the columns as attributes."""

    __slots__ = ("statement", "_compiled", "_writes_watched")

    def __init__(self, statement) -> None:
        self.statement = statement
        self._compiled: dict[tuple, _Compiled] = {}
        self._writes_watched = response_cache.writes_watched_table(statement)

    def run(self, session: Session, params: dict[str, Any]) -> list:
        connection = session.connection()
        dialect = connection.dialect
        if dialect.name != "postgresql":
            rows = connection.execute(self.statement, params).all()
        else:
            key = (type(dialect), dialect.server_version_info)
            compiled = self._compiled.get(key)
            if compiled is None:
                compiled = self._compiled[key] = _Compiled(self.statement, dialect)
            rows = compiled.run(connection, params)
        if self._writes_watched:
            response_cache.note_write(session)
        return rows

    def first(self, session: Session, params: dict[str, Any]):
        """The first row, or None."""
        rows = self.run(session, params)
        return rows[0] if rows else None


class _Compiled:
    """One statement compiled for one dialect: its SQL, how each parameter is filled in and
    converted, and how each row's values are converted."""

    __slots__ = ("sql", "binds", "row", "converters")

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        #: (name in the SQL, key in the caller's parameters, value when not given, converter)
        self.binds = []
        for bind, name in compiled.bind_names.items():
            if bind.expanding or bind.literal_execute or bind.callable is not None:
                # Rendered or computed at each execution: not a statement to compile once.
                raise exc.ArgumentError(f"bind parameter {bind.key!r} cannot be compiled once")
            default = _REQUIRED if bind.required else bind.value
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self.binds.append((name, bind.key, default, convert))
        columns = list(statement.exported_columns)
        self.row = namedtuple("Row", [column.key for column in columns])
        converters = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        #: (column index, converter) of the columns that have one.
        self.converters = [(index, c) for index, c in enumerate(converters) if c is not None]

    def parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        values = {}
        for name, key, default, convert in self.binds:
            value = params.get(key, default)
            if value is _REQUIRED:
                raise exc.ArgumentError(f"A value is required for bind parameter {key!r}")
            values[name] = convert(value) if convert is not None else value
        return values

    def run(self, connection, params: dict[str, Any]) -> list:
        values = self.parameters(params)
        dialect = connection.dialect
        cursor = connection.connection.cursor()
        try:
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, self.sql, values, None, False)
            _log(connection.engine, self.sql, values)
            cursor.execute(self.sql, values)
            fetched = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
            if lost:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                self.sql,
                values,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()
        make = self.row._make
        if not self.converters:
            return [make(row) for row in fetched]
        rows = []
        for row in fetched:
            columns = list(row)
            for index, convert in self.converters:
                columns[index] = convert(columns[index])
            rows.append(make(columns))
        return rows


def _log(engine, sql: str, values: dict[str, Any]) -> None:
    """The statement as the engine logs its own, when its logger is on for INFO."""
    if not engine.logger.isEnabledFor(logging.INFO):
        return
    engine.logger.info(sql)
    if engine.hide_parameters:
        engine.logger.info("[SQL parameters hidden due to hide_parameters=True]")
    else:
        engine.logger.info("[compiled once] %r", values)

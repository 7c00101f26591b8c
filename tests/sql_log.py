"""The SQL statements a piece of code runs, for tests that bound them (no N+1, nothing on
a path that must stay lean)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements_run(session) -> Iterator[list[str]]:
    """``with statements_run(session) as run: …``: ``run`` lists, in order, the statements
    sent through the session's engine inside the block."""
    run: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        run.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield run
    finally:
        event.remove(engine, "before_cursor_execute", record)

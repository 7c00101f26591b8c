"""``flask backup-sqlite <path>``: a consistent copy of the embedded SQLite database, online.

It uses SQLite's online backup API (``sqlite3.Connection.backup``), which copies the database
page by page while the site keeps running: the copy is the last committed state, never a torn
mix of two transactions (a plain ``cp`` of a database in WAL mode can be). The copy is written
next to the target, checked with ``PRAGMA integrity_check``, and only then renamed into place.
Restoring is copying the file back while the site is stopped (docs/DEPLOY.md). PostgreSQL
deployments use ``pg_dump`` / ``pg_restore`` instead.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click
from flask import Flask

from ..extensions import db

#: Pages copied per step; between steps the site's writers get their turn.
PAGES_PER_STEP = 1024


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with the backup API and check the copy; returns bytes."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source_conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    target_conn = sqlite3.connect(partial)
    try:
        source_conn.backup(target_conn, pages=PAGES_PER_STEP, sleep=0.01)
        # One self-contained file: no -wal or -shm beside it.
        target_conn.execute("PRAGMA journal_mode=DELETE")
        result = target_conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        target_conn.close()
        source_conn.close()
    if result != [("ok",)]:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"the copy failed its integrity check: {result}")
    os.replace(partial, target)
    return target.stat().st_size


@click.command("backup-sqlite")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_sqlite_command(path: Path, force: bool) -> None:
    """Copy the embedded SQLite database to PATH while the site keeps running."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise click.ClickException(
            "backup-sqlite copies the embedded SQLite file; for PostgreSQL use pg_dump "
            "(docs/DEPLOY.md)."
        )
    source = Path(url.database)
    if path.resolve() == source.resolve():
        raise click.ClickException("PATH is the live database itself.")
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; give --force to replace it.")
    if not path.parent.is_dir():
        raise click.ClickException(f"{path.parent} is not a directory.")
    size = backup_sqlite(source, path)
    click.echo(f"Backed up {source} to {path} ({size} bytes); integrity check: ok.")


def register(app: Flask) -> None:
    app.cli.add_command(backup_sqlite_command)

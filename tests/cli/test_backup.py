"""Backups restore to the same database: the demo with six months of history, round-tripped.

SQLite: ``flask backup-sqlite`` (the online backup API) while a writer holds an open
transaction, then "restore" by copying the file back. PostgreSQL (``TEST_DATABASE_URL``):
``pg_dump --format=custom`` and ``pg_restore`` into a new database. Either way the restored
database has the same rows in every table and ``flask ledger-check`` passes on it.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from bench.gunicorn_harness import (
    drop_postgres_database,
    plain_postgres_url,
    recreate_postgres_database,
)
from tests.conftest import TEST_DATABASE_URL, _test_config
from tourism import create_app
from tourism.extensions import db
from tourism.models import Booking, LedgerEntry

pytestmark = pytest.mark.slow


def _app(url: str, tmp_path):
    return create_app(
        _test_config(
            url,
            UPLOAD_DIR=str(tmp_path / "uploads"),
            MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
        )
    )


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return counts


def _invoke(app, *args: str):
    """Run a project command as ``flask`` would: in a fresh app context of ``app``."""
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _ledger_check(app) -> None:
    result = _invoke(app, "ledger-check")
    assert result.exit_code == 0 and "The ledger is sound." in result.output, result.output


def _seeded(app) -> dict[str, int]:
    result = _invoke(app, "seed-demo")
    assert result.exit_code == 0, result.output
    counts = _row_counts(app)
    # Six months of history: bookings and ledger entries, not an empty catalog.
    assert counts[Booking.__tablename__] > 50 and counts[LedgerEntry.__tablename__] > 100
    return counts


def test_sqlite_online_backup_restores_the_same_database(tmp_path):
    live = tmp_path / "live.sqlite3"
    app = _app(f"sqlite:///{live}", tmp_path)
    with app.app_context():
        upgrade()
    counts = _seeded(app)

    # A writer in the middle of a transaction does not stop the backup, and its uncommitted
    # change is not in the copy.
    writer = sqlite3.connect(live, timeout=30)
    writer.isolation_level = None
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE departures SET capacity = capacity + 1000")
    backup = tmp_path / "backups" / "chakra.sqlite3"
    backup.parent.mkdir()
    try:
        result = _invoke(app, "backup-sqlite", str(backup))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert "integrity check: ok" in result.output

    refused = _invoke(app, "backup-sqlite", str(backup))
    assert refused.exit_code != 0 and "--force" in refused.output
    with app.app_context():
        db.engine.dispose()

    # Restore: copy the file back in place of a lost database.
    restored = tmp_path / "restored.sqlite3"
    shutil.copyfile(backup, restored)
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT max(capacity) FROM departures").fetchone()[0] < 1000
    restored_app = _app(f"sqlite:///{restored}", tmp_path)
    assert _row_counts(restored_app) == counts
    _ledger_check(restored_app)


def test_backup_sqlite_refuses_other_databases(tmp_path):
    app = _app("postgresql+psycopg://postgres@127.0.0.1:5432/unused", tmp_path)
    result = _invoke(app, "backup-sqlite", str(tmp_path / "x.sqlite3"))
    assert result.exit_code != 0 and "pg_dump" in result.output


@pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="pg_dump/pg_restore need PostgreSQL: set TEST_DATABASE_URL (.ci/run does)",
)
def test_pg_dump_and_pg_restore_round_trip(make_app, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"), MAIL_OUTBOX_DIR=str(tmp_path / "out"))
    counts = _seeded(app)
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    assert pg_dump and pg_restore, "install the PostgreSQL client tools (pg_dump, pg_restore)"
    dump = tmp_path / "chakra.dump"
    subprocess.run(
        [pg_dump, "--format=custom", "--file", str(dump), plain_postgres_url(TEST_DATABASE_URL)],
        check=True,
        timeout=120,
    )
    restore_url = TEST_DATABASE_URL + "_restore"
    recreate_postgres_database(restore_url)
    try:
        subprocess.run(
            [
                pg_restore,
                "--exit-on-error",
                "--no-owner",
                "--dbname",
                plain_postgres_url(restore_url),
                str(dump),
            ],
            check=True,
            timeout=120,
        )
        restored_app = _app(restore_url, tmp_path)
        assert _row_counts(restored_app) == counts
        _ledger_check(restored_app)
        with restored_app.app_context():
            db.engine.dispose()
    finally:
        drop_postgres_database(restore_url)

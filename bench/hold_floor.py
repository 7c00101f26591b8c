"""Where a hold's time goes: the app's hold POST in-process against the same statements sent
as raw SQL, on PostgreSQL, one client, no HTTP.

    .venv/bin/python bench/hold_floor.py [--holds 400]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench]

It (re)creates the benchmark database like ``bench/http_bench.py``, then times
1. the booking form POST through the Flask test client (the whole request: form, checks,
   caps, insert with the split rule, lock, claim, outbox and its job, commit), counting its
   SQL statements and its CPU time;
2. the same statements and commit sent by psycopg with no ORM, no Flask, as
   ``bench/raw_hold_wsgi.py`` sends them: the floor any implementation of this hold pays on
   this machine.
Each hold books one pay-on-arrival seat for a new email and address on one wide departure.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_bench import bench_environment, prepare_database  # noqa: E402


def clear_bookings(url: str, departure_id: int) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "DELETE FROM jobs WHERE key IN (SELECT 'email:booking:' || id || ':confirmed'"
            " FROM bookings WHERE departure_id = %s)",
            (departure_id,),
        )
        for table in ("notifications", "booking_lines"):
            conn.execute(
                f"DELETE FROM {table} WHERE booking_id IN"  # noqa: S608 — fixed names
                " (SELECT id FROM bookings WHERE departure_id = %s)",
                (departure_id,),
            )
        conn.execute("DELETE FROM bookings WHERE departure_id = %s", (departure_id,))


def time_app(env: dict, ids: dict, holds: int) -> tuple[float, float, float]:
    """Per hold: wall milliseconds, CPU milliseconds of this process, SQL statements."""
    os.environ.update(env)
    from sqlalchemy import event

    from tourism import create_app
    from tourism.extensions import db

    app = create_app()
    statements = [0]
    with app.app_context():
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda *a: statements.__setitem__(0, statements[0] + 1),
        )
    client = app.test_client(use_cookies=False)

    def post(n: int):
        form = {
            f"qty_{ids['adult_id']}": "1",
            "name": "Bench Tourist",
            "email": f"tourist{n}@example.org",
            "phone": "+593 99 000 0000",
            "country": "EC",
            "language": "es",
            "payment_method": "on_arrival",
        }
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        response = client.post(
            f"/departures/{ids['departure_id']}/book",
            data=form,
            environ_base={"REMOTE_ADDR": address},
        )
        assert response.status_code == 303, response.status_code

    for n in range(50):
        post(n)
    statements[0] = 0
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(50, 50 + holds):
        post(n)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall / holds * 1000, cpu / holds * 1000, statements[0] / holds


def time_raw(url: str, ids: dict, holds: int) -> tuple[float, int]:
    """Per hold: wall milliseconds of the same hold as ``bench/raw_hold_wsgi.py`` makes it
    (the app's four statements and commit, with the same checks), called directly; and
    the statements it sends."""
    os.environ["DATABASE_URL"] = url
    from psycopg import Cursor

    from bench import raw_hold_wsgi

    sent = [0]
    execute = Cursor.execute

    def counted(self, *args, **kwargs):
        sent[0] += 1
        return execute(self, *args, **kwargs)

    def hold(n: int) -> None:
        form = {
            "departure": str(ids["departure_id"]),
            f"qty_{ids['adult_id']}": "1",
            "name": "Bench Tourist",
            "email": f"raw{n}@example.org",
            "phone": "+593 99 000 0000",
            "country": "EC",
            "language": "es",
        }
        raw_hold_wsgi._hold(form, secrets.token_hex(16))

    for n in range(50):
        hold(n)
    Cursor.execute = counted
    try:
        start = time.perf_counter()
        for n in range(50, 50 + holds):
            hold(n)
        elapsed = time.perf_counter() - start
    finally:
        Cursor.execute = execute
    return elapsed / holds * 1000, round(sent[0] / holds)


def prepared(database_url: str) -> tuple[dict, dict, str]:
    """The benchmark database made afresh (demo data, one wide departure), the environment
    the app runs in (no CSRF, no rate limits, mail left to the worker), the departure's ids,
    and the database's address for psycopg."""
    settings = Path(tempfile.mkdtemp()) / "bench_settings.py"
    settings.write_text("WTF_CSRF_ENABLED = False\nRATELIMIT_ENABLED = False\n")
    env = bench_environment(database_url, settings, "worker")
    ids = prepare_database(database_url, env)
    return env, ids, database_url.replace("postgresql+psycopg://", "postgresql://")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=400)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench"
    )
    options = parser.parse_args()
    env, ids, raw_url = prepared(options.database_url)
    app_ms, app_cpu_ms, statements = time_app(env, ids, options.holds)
    clear_bookings(raw_url, ids["departure_id"])
    raw_ms, raw_statements = time_raw(raw_url, ids, options.holds)
    print(f"{options.holds} holds, one client, PostgreSQL")
    print(
        f"{'app hold POST (in-process)':<34}{app_ms:>8.2f} ms  {statements:.0f} statements + commit"
        f"  ({app_cpu_ms:.2f} ms of CPU in this process)"
    )
    print(
        f"{'same statements, raw psycopg':<34}{raw_ms:>8.2f} ms  "
        f"{raw_statements} statements + commit"
    )
    print(f"{'app / raw':<34}{app_ms / raw_ms:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

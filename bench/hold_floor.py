"""Where a hold's time goes: the app's hold POST in-process against the same statements sent
as raw SQL, on PostgreSQL, one client, no HTTP.

    .venv/bin/python bench/hold_floor.py [--holds 400]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench]

It (re)creates the benchmark database like ``bench/http_bench.py``, then times
1. the booking form POST through the Flask test client (the whole request: form, checks,
   caps, insert with the split rule, lock, claim, outbox and its job, commit), counting its
   SQL statements and its CPU time;
2. the same statements and commit sent by psycopg with no ORM, no Flask: the floor any
   implementation of this hold pays on this machine.
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

RAW_HOLD = [
    (
        "SELECT d.*, e.*, a.code FROM departures d JOIN experiences e ON e.id = d.experience_id"
        " JOIN associations a ON a.id = e.association_id"
        " LEFT JOIN price_categories pc ON pc.experience_id = e.id WHERE d.id = %(dep)s"
    ),
    (
        "SELECT pg_advisory_xact_lock(1128353793, hashtext(%(email)s)),"
        " pg_advisory_xact_lock(1128353794, hashtext(%(address)s))"
    ),
    (
        "SELECT (SELECT count(*) FROM (SELECT b.id FROM bookings b JOIN departures d"
        " ON d.id = b.departure_id WHERE lower(b.contact_email) = %(email)s"
        " AND b.status = 'held' AND b.hold_expires_at > now() LIMIT 3) x),"
        " (SELECT count(*) FROM (SELECT b.id FROM bookings b JOIN departures d"
        " ON d.id = b.departure_id WHERE b.held_from = %(address)s"
        " AND b.status = 'held' AND b.hold_expires_at > now() LIMIT 10) y)"
    ),
    (
        "INSERT INTO bookings (departure_id, reference, manage_token, held_from, status,"
        " payment_method, online_due_cents, contact_name, contact_email, contact_phone,"
        " country, language, special_needs, total_cents, currency, created_at, confirmed_at,"
        " split_rule_id)"
        " VALUES (%(dep)s, %(reference)s, %(token)s, %(address)s, 'confirmed', 'on_arrival',"
        " 0, 'Bench Tourist', %(email)s, '+593 99 000 0000', 'EC', 'es', '', 2500, 'USD',"
        " now(), now(), (SELECT id FROM split_rules WHERE experience_id = (SELECT experience_id"
        " FROM departures WHERE id = %(dep)s) AND effective_from <= now()"
        " ORDER BY effective_from DESC, version DESC LIMIT 1))"
        " ON CONFLICT DO NOTHING RETURNING id"
    ),
    (
        "INSERT INTO booking_lines (booking_id, price_category_id, quantity, unit_price_cents)"
        " VALUES (currval('bookings_id_seq'), %(adult)s, 1, 2500) RETURNING id"
    ),
    "SELECT status, starts_at, capacity FROM departures WHERE id = %(dep)s FOR NO KEY UPDATE",
    (
        "UPDATE departures SET seats_confirmed = seats_confirmed + 1 WHERE id = %(dep)s"
        " AND seats_confirmed + 1 + coalesce((SELECT sum(l.quantity) FROM booking_lines l"
        " JOIN bookings b ON b.id = l.booking_id WHERE b.departure_id = %(dep)s"
        " AND b.status = 'held' AND b.hold_expires_at > now()), 0) <= capacity RETURNING id"
    ),
    (
        "WITH queued AS (INSERT INTO notifications (key, kind, booking_id, recipient, language,"
        " context, created_at, attempts, last_error) VALUES ('booking:' ||"
        " currval('bookings_id_seq') || ':confirmed', 'confirmed', currval('bookings_id_seq'),"
        " %(email)s, 'es', '{}', now(), 0, '') ON CONFLICT (key) DO NOTHING RETURNING id),"
        " enqueued AS (INSERT INTO jobs (kind, key, payload, state, run_at, attempts,"
        " max_attempts, locked_by, last_error, created_at) SELECT 'send-email', 'email:booking:'"
        " || currval('bookings_id_seq') || ':confirmed', '{\"notification_id\": ' || id || '}',"
        " 'queued', now(), 0, 5, '', '', now() FROM queued ON CONFLICT (key) DO NOTHING"
        " RETURNING id) SELECT (SELECT id FROM queued), (SELECT id FROM enqueued)"
    ),
]


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


def time_raw(url: str, ids: dict, holds: int) -> float:
    import psycopg

    with psycopg.connect(url) as conn:

        def hold(n: int) -> None:
            params = {
                "dep": ids["departure_id"],
                "adult": ids["adult_id"],
                "email": f"raw{n}@example.org",
                "address": secrets.token_hex(16),
                "reference": "RAW-" + secrets.token_hex(4).upper(),
                "token": secrets.token_urlsafe(32),
            }
            with conn.transaction():
                for sql in RAW_HOLD:
                    cursor = conn.execute(sql, params)
                    if cursor.description is not None:
                        cursor.fetchall()

        for n in range(50):
            hold(n)
        start = time.perf_counter()
        for n in range(50, 50 + holds):
            hold(n)
        return (time.perf_counter() - start) / holds * 1000


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
    raw_ms = time_raw(raw_url, ids, options.holds)
    print(f"{options.holds} holds, one client, PostgreSQL")
    print(
        f"{'app hold POST (in-process)':<34}{app_ms:>8.2f} ms  {statements:.0f} statements + commit"
        f"  ({app_cpu_ms:.2f} ms of CPU in this process)"
    )
    print(
        f"{'same statements, raw psycopg':<34}{raw_ms:>8.2f} ms  "
        f"{len(RAW_HOLD)} statements + commit"
    )
    print(f"{'app / raw':<34}{app_ms / raw_ms:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does a hold cost the same on a departure with no bookings and with ten thousand?

    .venv/bin/python bench/flat_hold.py [--holds 300] [--bookings 10000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench]

It (re)creates the benchmark database like ``bench/http_bench.py``, then times the booking
form POST in-process (one client, no HTTP, as ``bench/hold_floor.py`` does) on a departure
with no bookings, then on one given ``--bookings`` confirmed bookings by SQL (their counter
filled as the migration fills it). It also times the seat count alone both ways: from the
departure's counter plus live holds (what the app does) and summed over every booking (what
it did before the counter). Prints milliseconds and the busy/empty ratios (1.00 = flat).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hold_floor import prepared, time_app  # noqa: E402

COUNT_NOW = (
    "SELECT d.seats_confirmed + coalesce((SELECT sum(l.quantity) FROM booking_lines l"
    " JOIN bookings b ON b.id = l.booking_id WHERE b.departure_id = %(dep)s"
    " AND b.status = 'held' AND b.hold_expires_at > now()), 0)"
    " FROM departures d WHERE d.id = %(dep)s"
)
COUNT_BEFORE = (
    "SELECT coalesce(sum(l.quantity), 0) FROM booking_lines l JOIN bookings b"
    " ON b.id = l.booking_id WHERE b.departure_id = %(dep)s AND (b.status = 'confirmed'"
    " OR (b.status = 'held' AND b.hold_expires_at > now()))"
)


def busy_departure(url: str, ids: dict, bookings: int) -> int:
    """Another departure of the same experience, wide, with ``bookings`` confirmed ones."""
    import psycopg

    with psycopg.connect(url) as conn:
        busy = conn.execute(
            "SELECT id FROM departures WHERE experience_id = (SELECT experience_id FROM"
            " departures WHERE id = %(dep)s) AND id <> %(dep)s AND status = 'scheduled'"
            " AND starts_at > now() + interval '2 days' ORDER BY starts_at LIMIT 1",
            {"dep": ids["departure_id"]},
        ).fetchone()[0]
        conn.execute("UPDATE departures SET capacity = 100000000 WHERE id = %s", (busy,))
        conn.execute(
            "INSERT INTO bookings (departure_id, reference, manage_token, status,"
            " payment_method, online_due_cents, contact_name, contact_email, contact_phone,"
            " country, language, special_needs, total_cents, currency, created_at,"
            " confirmed_at, cancel_reason)"
            " SELECT %(dep)s, 'BUSY-' || n, md5(n::text) || md5((n + 1)::text), 'confirmed',"
            " 'on_arrival', 0, 'Earlier Tourist', 'earlier' || n || '@example.org',"
            " '+593 99 000 0000', 'EC', 'es', '', 2500, 'USD', now(), now(), ''"
            " FROM generate_series(1, %(n)s) AS n",
            {"dep": busy, "n": bookings},
        )
        conn.execute(
            "INSERT INTO booking_lines (booking_id, price_category_id, quantity,"
            " unit_price_cents) SELECT id, %(adult)s, 1, 2500 FROM bookings"
            " WHERE departure_id = %(dep)s",
            {"dep": busy, "adult": ids["adult_id"]},
        )
        conn.execute(
            "UPDATE departures SET seats_confirmed = (SELECT count(*) FROM bookings"
            " WHERE departure_id = %(dep)s AND status = 'confirmed') WHERE id = %(dep)s",
            {"dep": busy},
        )
        conn.execute("ANALYZE")
    return busy


def time_count(url: str, sql: str, departure_id: int, repeat: int = 300) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            conn.execute(sql, {"dep": departure_id}).fetchone()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=300)
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench"
    )
    options = parser.parse_args()
    env, ids, raw_url = prepared(options.database_url)
    empty = ids["departure_id"]
    busy = busy_departure(raw_url, ids, options.bookings)

    empty_ms, _, empty_statements = time_app(env, ids, options.holds)
    busy_ms, _, busy_statements = time_app(env, ids | {"departure_id": busy}, options.holds)
    counts = {
        (label, name): time_count(raw_url, sql, dep)
        for label, sql in (
            ("counter + live holds", COUNT_NOW),
            ("sum of all bookings", COUNT_BEFORE),
        )
        for name, dep in (("empty", empty), ("busy", busy))
    }
    print(f"{options.holds} holds each, one client, PostgreSQL; busy = {options.bookings} bookings")
    print(f"{'':<34}{'empty':>10}{'busy':>10}{'busy/empty':>12}")
    print(
        f"{'hold POST (in-process), ms':<34}{empty_ms:>10.2f}{busy_ms:>10.2f}"
        f"{busy_ms / empty_ms:>12.2f}"
    )
    print(f"{'  statements per hold':<34}{empty_statements:>10.0f}{busy_statements:>10.0f}")
    for label in ("counter + live holds", "sum of all bookings"):
        e, b = counts[(label, "empty")], counts[(label, "busy")]
        print(f"{'seat count: ' + label + ', ms':<34}{e:>10.3f}{b:>10.3f}{b / e:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What does holding a whole route cost next to holding one activity?

    .venv/bin/python bench/route_hold.py [--holds 200] [--rounds 3]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench_routes]

It (re)creates the benchmark database (every table from the models), then builds, with the
test factories, a three-day route (three activities of three associations and two homestay
nights between them) and a one-day route (one activity), both on wide departures and
homestays so nothing sells out. It then books each in turn, in-process
(``routes.booking.book_route``: checks, inserts, the locks in their fixed order, the counts
under the locks, one commit and a new session per booking, as a web request), ``--holds``
bookings of two people per run, spread over ``--start-days`` start dates,
alternating the two routes for ``--rounds`` rounds so both see the same machine. Prints
bookings per second for each, their median over the rounds and the ratio route/one leg
(the goal is at least 0.5: a three-activity route costs at most twice one activity).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench_routes"
WIDE = 10**8


def fresh_database(url: str) -> None:
    import psycopg

    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def build(session, start_days: int):
    """The two routes, published, with departures for ``start_days`` consecutive start
    dates: (three-day route, one-day route, the start dates)."""
    from tests.factories import Factories
    from tourism.database import utcnow
    from tourism.models import ExperienceStatus, Route, RouteText
    from tourism.services.routes import curation
    from tourism.timefmt import local_to_utc

    make = Factories(session)
    start = (utcnow() + timedelta(days=5)).date()
    long = make.route(start_date=start, capacities=(WIDE,) * 3, beds=(WIDE, WIDE))
    starts = [start + timedelta(days=k) for k in range(start_days)]
    for leg in long.legs:
        if leg.experience is not None:
            for day in starts[1:]:
                when = local_to_utc(day + timedelta(days=leg.day - 1), leg.start_time)
                make.departure(leg.experience, capacity=WIDE, starts_at=when)
    association = make.association()
    experience = make.experience(association, duration_minutes=180)
    for day in starts:
        make.departure(experience, capacity=WIDE, starts_at=local_to_utc(day, clock(9)))
    short = Route(slug="one-leg", status=ExperienceStatus.DRAFT, max_people_per_booking=8)
    short.texts = [RouteText(locale="es", title="Un tramo"), RouteText(locale="en", title="One")]
    session.add(short)
    session.flush()
    curation.add_experience_leg(session, short, experience, 1, clock(9))
    curation.decide_participation(session, short, association, True, None, utcnow())
    curation.publish_route(session, short)
    session.commit()
    return long.id, short.id, starts


def run(app, route_id: int, starts, holds: int, tag: str) -> float:
    """Bookings per second over ``holds`` bookings of ``route_id``, spread over the start
    dates as visitors spread over the calendar."""
    from tourism.database import utcnow, write_transactions
    from tourism.extensions import db
    from tourism.services.booking.lifecycle import ContactDetails
    from tourism.services.routes import booking

    began = time.perf_counter()
    for n in range(holds):
        contact = ContactDetails(
            "Bench Visitor", f"{tag}-{n}@example.org", "+593 99 000 0000", "EC", "es"
        )
        request = booking.RouteBookingRequest(route_id, starts[n % len(starts)], 2, contact)
        with write_transactions():
            booking.book_route(db.session, request, utcnow(), ["es", "en"])
        db.session.commit()
        # A new session per booking, as each web request has.
        db.session.remove()
    return holds / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holds", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--start-days",
        type=int,
        default=30,
        help="consecutive start dates the bookings spread over (a homestay night of a real"
        " route holds a handful of bookings, not every one of the run)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()

    fresh_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    from tourism import create_app
    from tourism.extensions import db

    app = create_app(
        {
            "SECRET_KEY": "benchmark-only",
            "MAIL_BACKEND": "folder",
            "MAIL_OUTBOX_DIR": tempfile.mkdtemp(prefix="chakra-bench-route-"),
            "OPEN_BOOKINGS_PER_EMAIL": WIDE,
            "OPEN_BOOKINGS_PER_ADDRESS": WIDE,
        }
    )
    with app.app_context():
        db.create_all()
        long_id, short_id, starts = build(db.session, args.start_days)
        run(app, short_id, starts, 20, "warm-one")  # warm up both paths
        run(app, long_id, starts, 20, "warm-route")
        one, route = [], []
        for r in range(args.rounds):
            one.append(run(app, short_id, starts, args.holds, f"one-{r}"))
            route.append(run(app, long_id, starts, args.holds, f"route-{r}"))
            print(f"round {r + 1}: one leg {one[-1]:7.1f}/s   three-day route {route[-1]:7.1f}/s")
        one_rate, route_rate = statistics.median(one), statistics.median(route)
        print(f"one-leg route hold (1 activity):                 {one_rate:7.1f} bookings/s")
        print(f"three-day route hold (3 activities, 2 nights):   {route_rate:7.1f} bookings/s")
        print(f"ratio route / one leg: {route_rate / one_rate:.2f}  (goal >= 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Oversell battery over real HTTP: many people book the last seats of many departures at once.

    .venv/bin/python bench/oversell_battery.py [--database sqlite|postgres|both]
        [--attempts 1000] [--departures 20] [--workers 4] [--nodes 1] [--control]
        [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_reliability]
        [--redis-url redis://127.0.0.1:6379/14]

For each database it (re)creates a scratch database (a SQLite file in a temporary directory,
or the PostgreSQL database named by ``--postgres-url``; never the test suite's), migrates it,
creates ``--departures`` departures with small capacities (1 to 5 seats), starts ``--nodes``
gunicorn nodes with rate limits off, and then:

1. every attempt opens its own client session and fetches the booking form (a real CSRF token
   in a real session cookie); with two nodes it fetches from one node and posts to the other;
2. all attempts post a one-seat, pay-on-arrival booking at once, spread over the departures;
3. it checks: no departure sold beyond its capacity, every answer a 303 (booked) or a 409
   (sold out) and no 5xx, one booking per 303, and as many bookings as seats in total.

``--control`` runs the same battery once more against ``bench.unlocked_wsgi`` (the lock off)
and reports how far it oversold. Exit status 1 if a check fails. Figures go to
docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gunicorn_harness import (  # noqa: E402
    GunicornNode,
    flask,
    node_environment,
    recreate_postgres_database,
    scratch_dir,
)

CSRF_INPUT = re.compile(r"<input[^>]*\bname=\"csrf_token\"[^>]*>")
VALUE = re.compile(r"\bvalue=\"([^\"]+)\"")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/chakra_reliability"
CAPACITIES = (1, 2, 3, 4, 5)
#: Consecutive attempts aimed at the same departure.
BURST = 8


@dataclass(frozen=True)
class Target:
    departure_id: int
    adult_id: int
    capacity: int


@dataclass
class BatteryResult:
    attempts: int
    statuses: Counter
    seconds: float
    capacity: int
    #: departure id -> (capacity, seats taken) for every departure sold beyond its capacity.
    oversold: dict[int, tuple[int, int]] = field(default_factory=dict)
    seats_taken: int = 0
    bookings: int = 0
    bookings_without_lines: int = 0

    @property
    def excess_seats(self) -> int:
        return sum(taken - capacity for capacity, taken in self.oversold.values())

    def problems(self) -> list[str]:
        """What the locked application must never show; empty when the battery passed."""
        found = []
        unexpected = {code: n for code, n in self.statuses.items() if code not in (303, 409)}
        if unexpected:
            found.append(f"answers other than 303/409: {unexpected}")
        if self.oversold:
            found.append(f"{len(self.oversold)} departure(s) oversold: {self.oversold}")
        if self.bookings != self.statuses[303]:
            found.append(f"{self.statuses[303]} bookings answered, {self.bookings} recorded")
        if self.bookings_without_lines:
            found.append(f"{self.bookings_without_lines} booking(s) without ticket lines")
        if self.statuses[303] != self.capacity:
            found.append(f"{self.statuses[303]} seats sold of {self.capacity} offered")
        return found

    def summary(self) -> str:
        rate = self.attempts / self.seconds if self.seconds else 0.0
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.attempts} attempts in {self.seconds:.1f} s ({rate:.0f}/s); answers {codes}; "
            f"seats {self.seats_taken} taken of {self.capacity}; oversold departures "
            f"{len(self.oversold)} (+{self.excess_seats} seats)"
        )


def create_targets(session, capacities: list[int], starts_in=timedelta(days=3)) -> list[Target]:
    """Departures of one published experience, with the given capacities (committed)."""
    from tests.factories import Factories

    make = Factories(session)
    experience = make.experience()
    adult = next(pc for pc in experience.price_categories if pc.code == "adult")
    departures = [
        make.departure(experience, capacity=capacity, starts_in=starts_in + timedelta(hours=n))
        for n, capacity in enumerate(capacities)
    ]
    targets = [Target(d.id, adult.id, d.capacity) for d in departures]
    session.commit()
    return targets


def _form(target: Target, token: str | None, n: int) -> dict[str, str]:
    form = {
        f"qty_{target.adult_id}": "1",
        "name": f"Battery Tourist {n}",
        "email": f"battery{n}@example.org",
        "phone": "+593 99 555 0000",
        "country": "EC",
        "language": "es",
        "payment_method": "on_arrival",
    }
    if token is not None:
        form["csrf_token"] = token
    return form


def _prepare(base_url: str, target: Target) -> tuple[requests.Session, str]:
    """A fresh client session and the CSRF token of its booking form."""
    client = requests.Session()
    page = client.get(f"{base_url}/departures/{target.departure_id}/book", timeout=60)
    page.raise_for_status()
    match = CSRF_INPUT.search(page.text)
    value = VALUE.search(match.group(0)) if match else None
    if value is None:
        raise RuntimeError("the booking form has no CSRF token")
    return client, value.group(1)


def fire(nodes: list[str], targets: list[Target], attempts: int, threads: int = 64):
    """Fetch every attempt's form, then post them all at once. Returns (Counter, seconds).

    Attempt ``n`` fetches its form from node ``n`` and posts it to node ``n + 1`` (modulo
    the number of nodes): with two nodes, no session ever sees the same node twice."""
    # Bursts of consecutive attempts at one departure, so that the workers serving them at
    # the same moment really compete for the same seats.
    plan = [(n, targets[(n // BURST) % len(targets)]) for n in range(attempts)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        prepared = list(pool.map(lambda item: _prepare(nodes[item[0] % len(nodes)], item[1]), plan))

        def post(item) -> int:
            (n, target), (client, token) = item
            url = f"{nodes[(n + 1) % len(nodes)]}/departures/{target.departure_id}/book"
            try:
                response = client.post(
                    url, data=_form(target, token, n), allow_redirects=False, timeout=120
                )
                return response.status_code
            except requests.RequestException:
                return 0  # the connection failed: counted, and never a pass
            finally:
                client.close()

        started = time.monotonic()
        statuses = Counter(pool.map(post, zip(plan, prepared, strict=True)))
        seconds = time.monotonic() - started
    return statuses, seconds


def inspect(session, targets: list[Target]) -> dict:
    """Seats taken per departure as the application counts them, and booking sanity."""
    from sqlalchemy import func, select

    from tourism.database import utcnow
    from tourism.models import Booking, BookingLine, BookingStatus
    from tourism.services.booking import availability

    session.rollback()  # read what the nodes committed, not an earlier snapshot
    ids = [t.departure_id for t in targets]
    taken = availability.seats_taken(session, ids, utcnow())
    bookings = session.scalar(
        select(func.count(Booking.id)).where(
            Booking.departure_id.in_(ids), Booking.status == BookingStatus.CONFIRMED
        )
    )
    without_lines = session.scalar(
        select(func.count(Booking.id)).where(
            Booking.departure_id.in_(ids),
            ~select(BookingLine.id).where(BookingLine.booking_id == Booking.id).exists(),
        )
    )
    oversold = {
        t.departure_id: (t.capacity, taken[t.departure_id])
        for t in targets
        if taken[t.departure_id] > t.capacity
    }
    return {
        "oversold": oversold,
        "seats_taken": sum(taken.values()),
        "bookings": bookings,
        "bookings_without_lines": without_lines,
    }


def run_battery(session, nodes: list[str], targets: list[Target], attempts: int) -> BatteryResult:
    statuses, seconds = fire(nodes, targets, attempts)
    result = BatteryResult(
        attempts=attempts,
        statuses=statuses,
        seconds=seconds,
        capacity=sum(t.capacity for t in targets),
    )
    for key, value in inspect(session, targets).items():
        setattr(result, key, value)
    return result


def node_settings(redis_url: str | None) -> dict:
    """Rate limits off; or, with Redis, on as in production but with room for the battery.
    Every attempt comes from the same loopback address, so the cap on open unpaid bookings
    per address (services/hold_caps.py) is raised too."""
    room = {"OPEN_BOOKINGS_PER_EMAIL": 1_000_000, "OPEN_BOOKINGS_PER_ADDRESS": 1_000_000}
    if not redis_url:
        return room | {"RATELIMIT_ENABLED": False}
    return room | {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": f"chakra-battery-{time.time_ns()}",
        "BOOKING_RATE_LIMIT": "1000000 per minute",
    }


def _scratch_database(kind: str, workdir: Path, postgres_url: str) -> str:
    if kind == "sqlite":
        return "sqlite:///" + str(workdir / "battery.sqlite3")
    recreate_postgres_database(postgres_url)
    return postgres_url


def _one_database(kind: str, options, workdir: Path) -> list[str]:
    from tourism import create_app
    from tourism.extensions import db

    url = _scratch_database(kind, workdir, options.postgres_url)
    env = node_environment(url, workdir / kind, settings=node_settings(options.redis_url))
    flask("db", "upgrade", env=env)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"], "TESTING": True}
    )
    capacities = [CAPACITIES[n % len(CAPACITIES)] for n in range(options.departures)]
    failures = []
    runs = [("locked", "wsgi:app")] + ([("no lock", "bench.unlocked_wsgi:app")] * options.control)
    with app.app_context():
        for label, wsgi in runs:
            targets = create_targets(db.session, capacities)
            nodes = [
                GunicornNode(
                    env, workdir / kind / f"gunicorn-{n}.log", workers=options.workers, app=wsgi
                )
                for n in range(options.nodes)
            ]
            try:
                for node in nodes:
                    node.start()
                result = run_battery(
                    db.session, [node.base_url for node in nodes], targets, options.attempts
                )
            finally:
                for node in nodes:
                    node.stop()
            print(
                f"{kind:<10} {label:<8} {options.nodes} node(s) x {options.workers} sync workers, "
                f"{len(targets)} departures: {result.summary()}"
            )
            if label == "locked":
                failures += [f"{kind}: {problem}" for problem in result.problems()]
        db.session.remove()
        db.engine.dispose()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--departures", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--nodes", type=int, default=1, choices=[1, 2])
    parser.add_argument("--control", action="store_true", help="also run with the lock off")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument(
        "--redis-url", help="rate limits on, stored in this Redis (as several nodes need)"
    )
    options = parser.parse_args()
    if options.nodes == 2 and options.database != "postgres":
        parser.error("two nodes share one PostgreSQL database: use --database postgres")
    workdir = scratch_dir("oversell-battery-")
    kinds = ["sqlite", "postgres"] if options.database == "both" else [options.database]
    failures = []
    for kind in kinds:
        failures += _one_database(kind, options, workdir)
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""From a booking's commit to its WhatsApp message at the provider: p50/p99, on PostgreSQL.

    .venv/bin/python bench/message_latency.py [--bookings 200] [--interval 0.1] [--workers 2]
        [--poll 1.0 0.2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/message_bench]

It recreates the benchmark database (demo data, one wide departure, as ``http_bench.py``),
starts the local WhatsApp/SMS fake (``tests/messaging_fake.py``, which stamps each message it
accepts) and books ``--bookings`` seats one after another through the booking form (pay on
arrival, opted in to WhatsApp, a new phone number each), ``--interval`` seconds apart (0: a
burst, which measures the backlog), timing each booking's commit. Then,
for each delivery mode, the time from that commit to its confirmation reaching the fake:

* ``request`` (``MAIL_DELIVERY=request``, what ``make run`` does): the request's own
  send-message job runs in its process right after the commit;
* ``worker`` (``MAIL_DELIVERY=worker``, production): ``--workers`` ``flask worker``
  processes, looking for jobs every ``--poll`` seconds when idle, send it.

Figures drift between machines and runs. Each booking makes two jobs (its email and its
WhatsApp), so a burst faster than the workers drain them measures the queue, not the poll.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_bench import BIN, bench_environment, prepare_database  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/message_bench"
#: Second digits of Ecuadorian mobile numbers (09X): one per run, so no run reuses a number.
MOBILE_PREFIXES = "9863"


class StampedList(list):
    """The fake's record of accepted messages, each stamped with when it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}
        self._lock = threading.Lock()

    def append(self, item: dict) -> None:
        with self._lock:
            self.arrived.setdefault(item["to"], time.perf_counter())
            super().append(item)


def book_all(env: dict, ids: dict, run: int, count: int, interval: float) -> dict[str, float]:
    """Book ``count`` seats through the form, for visitors of run ``run`` (own numbers and
    emails); returns each booking's commit time by phone number."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tourism import create_app

    os.environ.update(env)
    app = create_app()
    committed: list[float] = []
    event.listen(Session, "after_commit", lambda _s: committed.append(time.perf_counter()))
    client = app.test_client(use_cookies=False)
    commits: dict[str, float] = {}
    for n in range(count):
        number = f"+5939{MOBILE_PREFIXES[run]}{n:07d}"
        del committed[:]
        response = client.post(
            f"/departures/{ids['departure_id']}/book",
            data={
                f"qty_{ids['adult_id']}": "1",
                "name": "Bench Tourist",
                "email": f"run{run}-{n}@example.org",
                "phone": number,
                "country": "EC",
                "language": "es",
                "payment_method": "on_arrival",
                "messages_opt_in": "y",
                "message_channel": "whatsapp",
            },
            environ_base={"REMOTE_ADDR": f"10.{run}.{n // 250 % 250}.{n % 250 + 1}"},
        )
        if response.status_code != 303:
            raise SystemExit(f"booking {n} answered {response.status_code}")
        commits[number] = committed[0]  # the booking's own commit comes first
        time.sleep(interval)
    return commits


def wait_for(arrived: dict, numbers, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(number in arrived for number in numbers):
            return
        time.sleep(0.05)
    missing = sum(number not in arrived for number in numbers)
    raise SystemExit(f"{missing} message(s) never reached the provider")


def figures(commits: dict, arrived: dict) -> tuple[float, float, float]:
    latencies = sorted((arrived[number] - at) * 1000 for number, at in commits.items())
    cuts = statistics.quantiles(latencies, n=100)
    return statistics.median(latencies), cuts[98], latencies[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--interval", type=float, default=0.1, help="seconds between bookings (0: a burst)"
    )
    parser.add_argument("--poll", type=float, nargs="+", default=[1.0, 0.2])
    parser.add_argument(
        "--database-url", default=os.environ.get("MESSAGE_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    options = parser.parse_args()
    if len(options.poll) >= len(MOBILE_PREFIXES):
        raise SystemExit(f"at most {len(MOBILE_PREFIXES) - 1} poll intervals")
    if options.database_url.rsplit("/", 1)[1] in ("test", "postgres"):
        raise SystemExit("refusing to use the test or postgres database")

    from tests.messaging_fake import RunningFake

    fake = RunningFake()
    fake.state.sent = StampedList()
    settings = Path(tempfile.mkdtemp()) / "bench_settings.py"
    settings.write_text("WTF_CSRF_ENABLED = False\nRATELIMIT_ENABLED = False\n")
    env = bench_environment(options.database_url, settings, "request") | {
        key: str(value) for key, value in fake.config().items()
    }
    ids = prepare_database(options.database_url, env)
    rows = []

    # request: delivered by the booking request's own process, after its commit.
    commits = book_all(env, ids, 0, options.bookings, options.interval)
    wait_for(fake.state.sent.arrived, commits)
    rows.append(("in the request, after its commit", *figures(commits, fake.state.sent.arrived)))

    # worker: flask worker processes send the jobs.
    for run, poll in enumerate(options.poll, start=1):
        worker_env = env | {"MAIL_DELIVERY": "worker"}
        workers = [
            subprocess.Popen(  # noqa: S603 — our own command
                [str(BIN / "flask"), "worker", "--poll", str(poll)],
                env=worker_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(options.workers)
        ]
        try:
            time.sleep(3)  # the workers are up and idle
            fake.state.sent.arrived.clear()
            commits = book_all(worker_env, ids, run, options.bookings, options.interval)
            wait_for(fake.state.sent.arrived, commits)
            label = f"{options.workers} workers, poll {poll:g} s"
            rows.append((label, *figures(commits, fake.state.sent.arrived)))
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)

    fake.stop()
    print(
        f"{options.bookings} bookings, {options.interval:g} s apart, PostgreSQL, "
        "WhatsApp to the local fake"
    )
    print("{:<40}{:>10}{:>10}{:>10}".format("delivery", "p50 ms", "p99 ms", "max ms"))
    for label, p50, p99, worst in rows:
        print(f"{label:<40}{p50:>10.1f}{p99:>10.1f}{worst:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

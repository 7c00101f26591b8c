"""Job queue benchmark: jobs drained per second by two worker processes on PostgreSQL.

    .venv/bin/python bench/jobs_bench.py [--jobs 5000] [--workers 2] [--handler-ms 0 20]
        [--batch 1] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/jobs_bench]

(``JOBS_BENCH_DATABASE_URL`` works too.) It recreates the benchmark database, migrates it with
the project's migrations, and for each ``--handler-ms`` enqueues ``--jobs`` jobs of a fake
kind whose handler waits that many milliseconds (0: the queue's own cost; 20: a fake mail
provider answering in 20 ms) and does nothing else. Then ``--workers`` processes, each a
``tourism.jobs.worker.Worker`` on its own connection, drain the queue; it prints jobs per
second from the first claim to the last job done, and checks that every job ran once.
Not the ``test`` database: refused by name.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/jobs_bench"
KIND = "bench-fake-send"


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop the database {name!r}")
    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def make_app(url: str):
    from tourism import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-only", "MAIL_DELIVERY": "worker"}
    )


def register_fake(handler_ms: float) -> None:
    from tourism.jobs.registry import job

    @job(KIND)
    def fake_send(_session, _payload, _key) -> None:
        if handler_ms:
            time.sleep(handler_ms / 1000)


def work(url: str, handler_ms: float, batch: int, start, results) -> None:
    register_fake(handler_ms)
    from tourism.extensions import db
    from tourism.jobs.worker import Worker

    app = make_app(url)
    with app.app_context():
        worker = Worker(kinds={KIND})
        db.session.execute(db.text("SELECT 1"))  # connect before the clock starts
        db.session.rollback()
        start.wait()
        began = time.perf_counter()
        while claimed := worker.claim(limit=batch):
            for claimed_job in claimed:
                worker.run_claimed(claimed_job)
        results.put((worker.name, worker.done, began, time.perf_counter()))
        db.engine.dispose()


def enqueue(app, count: int) -> None:
    from tourism.database import utcnow
    from tourism.extensions import db
    from tourism.jobs import store

    with app.app_context():
        db.session.execute(db.delete(db.metadata.tables["jobs"]))
        now = utcnow()
        for n in range(count):
            store.insert(db.session, KIND, {"n": n}, f"bench:{n}", now, 8, now)
        db.session.commit()


def check(app, count: int) -> Counter:
    from sqlalchemy import func, select

    from tourism.extensions import db
    from tourism.models import Job

    with app.app_context():
        states = Counter(
            dict(db.session.execute(select(Job.state, func.count()).group_by(Job.state)).all())
        )
        attempts = db.session.scalar(select(func.max(Job.attempts)))
        assert states.get("done") == count and attempts == 1, (states, attempts)
        return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1, help="jobs claimed per transaction")
    parser.add_argument("--handler-ms", type=float, nargs="+", default=[0.0, 20.0])
    parser.add_argument(
        "--database-url", default=os.environ.get("JOBS_BENCH_DATABASE_URL", DEFAULT_URL)
    )
    options = parser.parse_args()
    recreate_database(options.database_url)
    from flask_migrate import upgrade

    app = make_app(options.database_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    register_fake(0)
    context = multiprocessing.get_context("spawn")
    print(
        f"{options.jobs} jobs, {options.workers} worker processes, "
        f"{options.batch} job(s) per claim, PostgreSQL"
    )
    for handler_ms in options.handler_ms:
        enqueue(app, options.jobs)
        start = context.Barrier(options.workers)
        results = context.Queue()
        processes = [
            context.Process(
                target=work,
                args=(options.database_url, handler_ms, options.batch, start, results),
            )
            for _ in range(options.workers)
        ]
        for process in processes:
            process.start()
        finished = [results.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
        check(app, options.jobs)
        began = min(row[2] for row in finished)
        ended = max(row[3] for row in finished)
        per_worker = ", ".join(str(row[1]) for row in finished)
        rate = options.jobs / (ended - began)
        print(
            f"handler {handler_ms:g} ms: {rate:,.0f} jobs/s "
            f"({ended - began:.2f} s; per worker: {per_worker}; each job ran once)"
        )


if __name__ == "__main__":
    main()

"""HTTP benchmark: wrk against gunicorn on PostgreSQL, pages as a ratio of a bare route.

    .venv/bin/python bench/http_bench.py [--seconds 10] [--connections 32] [--workers 2]
        [--worker-class sync] [--warmup 1] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench]

It (re)creates the benchmark database, migrates it, loads the demo data, opens one departure
wide so holds keep succeeding, starts gunicorn on a free loopback port, runs wrk on each
target in turn and prints requests/s, p50/p99 latency and the ratio to the /healthz ceiling.
Figures drift between machines and runs; compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
HOLD_LUA = """
-- Each hold books for a new email, as real visitors do (the open-bookings cap serialises
-- the holds of one email; one shared email would measure that queue, not the hold).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  local body = string.gsub("%s", "EMAIL", "bench-" .. tid .. "-" .. n .. "@example.org")
  return wrk.format(nil, nil, nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str, env: dict) -> str:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout


def prepare_database(url: str, env: dict) -> dict:
    import psycopg

    admin = url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    run(str(BIN / "flask"), "db", "upgrade", env=env)
    run(str(BIN / "flask"), "seed-demo", env=env)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT d.id, pc.id FROM departures d JOIN experiences e ON e.id = d.experience_id "
            "JOIN price_categories pc ON pc.experience_id = e.id AND pc.code = 'adult' "
            "WHERE e.slug = 'kallari-cacao-route' AND d.starts_at > now() + interval '2 days' "
            "AND d.status = 'scheduled' ORDER BY d.starts_at LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE departures SET capacity = 100000000 WHERE id = %s", (row[0],))
    return {"departure_id": row[0], "adult_id": row[1]}


def bench_environment(database_url: str, settings: Path, mail_delivery: str) -> dict:
    """The environment the benchmarked app runs in: this database, these settings, emails
    written to a folder next to the settings."""
    return os.environ | {
        "FLASK_APP": "tourism",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "benchmark-only",
        "CHAKRA_SETTINGS": str(settings),
        "MAIL_BACKEND": "folder",
        "MAIL_DELIVERY": mail_delivery,
        "MAIL_OUTBOX_DIR": str(settings.parent / "outbox"),
    }


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": errors}


def worker_rss_mib(master_pid: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), from /proc."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master_pid):
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--warmup", type=int, default=1,
        help="seconds of the same load before each measured run, not counted: the first "
        "renders after start-up fill the response cache while the other connections queue",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument(
        "--mail-delivery",
        default="request",
        choices=["request", "worker"],
        help="worker: requests only queue emails (as recommended in production)",
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="the response cache, shared by the workers as in production",
    )
    options = parser.parse_args()

    settings = Path(tempfile.mkdtemp()) / "bench_settings.py"
    # One client address and one email hold over and over: rate limits and the caps on open
    # unpaid bookings would stop that at once (their checks still run, with huge caps).
    settings.write_text(
        "WTF_CSRF_ENABLED = False\nRATELIMIT_ENABLED = False\n"
        "OPEN_BOOKINGS_PER_EMAIL = 10**9\nOPEN_BOOKINGS_PER_ADDRESS = 10**9\n"
        f"CACHE_TYPE = 'RedisCache'\nCACHE_REDIS_URL = {options.redis_url!r}\n"
    )
    env = bench_environment(options.database_url, settings, options.mail_delivery)
    ids = prepare_database(options.database_url, env)
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "wsgi:app",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(options.workers),
            "--worker-class",
            options.worker_class,
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 — loopback
                break
            except OSError:
                time.sleep(0.1)
        body = (
            f"qty_{ids['adult_id']}=1&name=Bench+Tourist&email=EMAIL"
            "&phone=%2B593+99+000+0000&country=EC&language=es&payment_method=on_arrival"
        )
        script = settings.parent / "hold.lua"
        script.write_text(HOLD_LUA % body)
        targets = [
            ("ping (/healthz)", base + "/healthz", None),
            ("catalog (/)", base + "/", None),
            ("experience page", base + "/experiences/kallari-cacao-route", None),
            (
                "availability JSON",
                base + "/api/v1/experiences/kallari-cacao-route/availability",
                None,
            ),
            ("hold seats POST", base + f"/departures/{ids['departure_id']}/book", str(script)),
        ]
        results = []
        for label, url, lua in targets:
            if options.warmup:
                wrk(url, options.warmup, options.connections, lua)
            results.append((label, wrk(url, options.seconds, options.connections, lua)))
        ceiling = results[0][1]["rps"]
        print(
            f"gunicorn {options.workers} x {options.worker_class}, wrk -t2 "
            f"-c{options.connections} -d{options.seconds}s, PostgreSQL, "
            f"mail delivery: {options.mail_delivery}"
        )
        header = ("target", "req/s", "p50 ms", "p99 ms", "ratio", "non-2xx/3xx")
        print("{:<22}{:>10}{:>9}{:>9}{:>8}{:>13}".format(*header))
        for label, r in results:
            print(
                f"{label:<22}{r['rps']:>10.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
                f"{r['rps'] / ceiling:>8.2f}{r['errors']:>13}"
            )
        rss = worker_rss_mib(server.pid)
        print("worker RSS after the run (MiB): " + ", ".join(f"{m:.0f}" for m in rss))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

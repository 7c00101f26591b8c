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
import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
HOLD_LUA = """
-- Each hold books for a new email from a new client address, as real visitors do: the
-- open-bookings caps and the rate limits count per email and per address (behind the
-- proxy, the address is the X-Forwarded-For the proxy sets).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "COOKIE"
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  local body = string.gsub("BODY", "EMAIL", "NODE-RUNNO-" .. tid .. "-" .. n .. "@example.org")
  -- Each sending its own form page's key (22 characters, as the page draws them).
  body = string.gsub(body, "FORMKEY", string.format("KEYNO%04d%02d%011d", RUNNO % 10000, tid, n))
  local address = "OCTET." .. ((RUNNO * 2 + tid) % 250) .. "." .. (math.floor(n / 250) % 250)
    .. "." .. (n % 250 + 1)
  local headers = {["X-Forwarded-For"] = address}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format(nil, nil, headers, body)
end
"""
JSON_POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer KEY"
wrk.headers["Octo-Capabilities"] = "octo/pricing"
wrk.body = 'BODY'
"""
#: A secret key long enough for production's start-up checks, for this benchmark only.
BENCH_SECRET = "bench-only-" + "k" * 64


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
    analyze(url, vacuum=True)
    return {"departure_id": row[0], "adult_id": row[1]}


def analyze(url: str, vacuum: bool = False) -> None:
    """Statistics, as autovacuum keeps them on a production server. A server run with it
    off (as some test machines are) keeps the statistics of the 87 demo bookings while a
    run adds tens of thousands: the foreign-key checks' plans, made once per connection
    while the bookings table was a few pages, then read the whole table for every new
    booking's lines and email, a cost that grew with every round (docs/PERFORMANCE.md).
    Run before each measured run; an ``ANALYZE`` also makes the server plan them again."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def bench_environment(
    database_url: str, settings: Path, mail_delivery: str, production: bool = False
) -> dict:
    """The environment the benchmarked app runs in: this database, these settings, emails
    written to a folder next to the settings."""
    env = os.environ | {
        "FLASK_APP": "tourism",
        "DATABASE_URL": database_url,
        "SECRET_KEY": BENCH_SECRET if production else "benchmark-only",
        "CHAKRA_SETTINGS": str(settings),
        "MAIL_BACKEND": "folder",
        "MAIL_DELIVERY": mail_delivery,
        "MAIL_OUTBOX_DIR": str(settings.parent / "outbox"),
    }
    if production:
        env["CHAKRA_ENV"] = "production"
    return env


def settings_text(production: bool, redis_url: str) -> str:
    """Production: CSRF, rate limits and caps as shipped, rate limits and the response cache
    on Redis, behind one proxy. Development: CSRF and rate limits off, caps huge."""
    cache = f"CACHE_TYPE = 'RedisCache'\nCACHE_REDIS_URL = {redis_url!r}\n"
    if production:
        return cache + (
            f"RATELIMIT_STORAGE_URI = {redis_url!r}\nPROXY_FIX_X_FOR = 1\n"
            "PUBLIC_URL = 'https://bench.chakraroutes.example'\n"
        )
    return cache + (
        "WTF_CSRF_ENABLED = False\nRATELIMIT_ENABLED = False\n"
        "OPEN_BOOKINGS_PER_EMAIL = 10**9\nOPEN_BOOKINGS_PER_ADDRESS = 10**9\n"
    )


def create_reseller(env: dict) -> tuple[str, str]:
    """A reseller of the Cacao Route's association with a key: (product id, key)."""
    code = (
        "from tourism import create_app\n"
        "from tourism.database import utcnow\n"
        "from tourism.extensions import db\n"
        "from tourism.models import Experience\n"
        "from tourism.services.channels import resellers\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    e = db.session.query(Experience).filter_by(slug='kallari-cacao-route').one()\n"
        "    data = resellers.ResellerInput(\n"
        "        'Bench OTA', 'ota@example.org', '+593 2 555 0101', 1000, [e.id]\n"
        "    )\n"
        "    r, key = resellers.create_reseller(db.session, None, e.association, data, utcnow())\n"
        "    db.session.commit()\n"
        "    print(e.slug, key)\n"
    )
    out = run(str(BIN / "python"), "-c", code, env=env).split()
    return out[-2], out[-1]


def form_session(base: str, departure_id: int) -> tuple[str, str]:
    """A session cookie and its CSRF token from the booking form, as a browser gets them."""
    request = urllib.request.Request(  # noqa: S310 — loopback
        f"{base}/departures/{departure_id}/book", headers={"X-Forwarded-For": "10.255.0.1"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — loopback
        page = response.read().decode()
        cookies = [value.split(";", 1)[0] for value in response.headers.get_all("Set-Cookie") or []]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return "; ".join(cookies), token.group(1) if token else ""


def start_gunicorn(app: str, port: int, options, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            app,
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


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 — loopback
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


_RUNS = itertools.count(1)


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script and "RUNNO" in Path(script).read_text():
        # wrk starts its counters afresh each run: number the run, so the warm-up's and
        # earlier rounds' visitors (emails, addresses) are never the next run's.
        run = next(_RUNS)
        own = Path(script).with_suffix(f".run{run}.lua")
        own.write_text(Path(script).read_text().replace("RUNNO", str(run)))
        script = str(own)
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


def median_run(measured: list[dict]) -> dict:
    """Each figure's median over the rounds; errors added up."""
    return {
        "rps": statistics.median(r["rps"] for r in measured),
        "p50": statistics.median(r["p50"] for r in measured),
        "p99": statistics.median(r["p99"] for r in measured),
        "errors": sum(r["errors"] for r in measured),
    }


def node_script(text: str, node: int) -> str:
    """The hold script for one node: emails and client addresses no other node uses."""
    return (
        text.replace("NODE-", f"bench{node}-")
        .replace('"OCTET."', f'"{10 + node}."')
        .replace('"KEYNO%', f'"kn{node:03d}%')
    )


def wrk_nodes(urls: list[str], seconds: int, connections: int, script: str | None) -> dict:
    """wrk against every node at once, the connections split between them: requests/s and
    errors added up, latencies the worst node's."""
    share = max(2, connections // len(urls))
    scripts = [script] * len(urls)
    if script and "NODE-" in Path(script).read_text():
        # Each node's visitors are other people: their own emails and client addresses.
        scripts = []
        for index in range(len(urls)):
            own = Path(script).with_suffix(f".node{index}.lua")
            own.write_text(node_script(Path(script).read_text(), index))
            scripts.append(str(own))
    with ThreadPoolExecutor(len(urls)) as pool:
        runs = list(
            pool.map(
                lambda run: wrk(run[0], seconds, share, run[1]), zip(urls, scripts, strict=True)
            )
        )
    if len(runs) == 1:
        return runs[0]
    return {
        "rps": sum(r["rps"] for r in runs),
        "p50": max(r["p50"] for r in runs),
        "p99": max(r["p99"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


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
        "--warmup",
        type=int,
        default=1,
        help="seconds of the same load before each measured run, not counted: the first "
        "renders after start-up fill the response cache while the other connections queue",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument(
        "--settings",
        default="production",
        choices=["production", "development"],
        help="production: CHAKRA_ENV=production, CSRF, rate limits and caps on (Redis), a new "
        "client address per hold; development: CSRF and rate limits off",
    )
    parser.add_argument(
        "--mail-delivery",
        default="worker",
        choices=["request", "worker"],
        help="worker: requests only queue emails (as recommended in production)",
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench"
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="the response cache and rate limits, shared by the workers as in production",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated target names to run (default: all)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument(
        "--nodes",
        type=int,
        default=1,
        help="app nodes (gunicorn masters with --workers each) on the one PostgreSQL and "
        "Redis; wrk's connections are split between them and their figures added up",
    )
    options = parser.parse_args()
    production = options.settings == "production"

    workdir = Path(tempfile.mkdtemp())
    settings = workdir / "bench_settings.py"
    settings.write_text(settings_text(production, options.redis_url))
    env = bench_environment(options.database_url, settings, options.mail_delivery, production)
    # The demo data is loaded as in development: production refuses its shared passwords.
    setup_env = bench_environment(options.database_url, settings, options.mail_delivery)
    ids = prepare_database(options.database_url, setup_env)
    product_id, api_key = create_reseller(setup_env)
    _flush_redis(options.redis_url)
    ports = [free_port() for _ in range(options.nodes)]
    bare_port, flask_port, raw_port = free_port(), free_port(), free_port()
    servers = [start_gunicorn("wsgi:app", port, options, env) for port in ports]
    bare = start_gunicorn("bench.bare_wsgi:app", bare_port, options, env)
    bare_flask = start_gunicorn("bench.bare_flask:app", flask_port, options, env)
    raw = start_gunicorn("bench.raw_hold_wsgi:app", raw_port, options, env)
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    base = bases[0]
    try:
        for node in bases:
            wait_until_up(node + "/healthz")
        wait_until_up(f"http://127.0.0.1:{bare_port}/")
        wait_until_up(f"http://127.0.0.1:{flask_port}/healthz")
        wait_until_up(f"http://127.0.0.1:{raw_port}/")
        cookie, token = form_session(base, ids["departure_id"])
        body = (
            f"qty_{ids['adult_id']}=1&name=Bench+Tourist&email=EMAIL"
            "&phone=%2B593+99+000+0000&country=EC&language=es&payment_method=on_arrival"
            f"&csrf_token={token}&submission=FORMKEY"
        )
        hold_script = workdir / "hold.lua"
        hold_script.write_text(HOLD_LUA.replace("COOKIE", cookie).replace("BODY", body))
        today = date.today()
        scripts = {}
        for name, days in (("calendar", 365), ("availability", 30)):
            octo_body = json.dumps(
                {
                    "productId": product_id,
                    "optionId": "DEFAULT",
                    "localDateStart": today.isoformat(),
                    "localDateEnd": (today + timedelta(days=days - 1)).isoformat(),
                }
            )
            scripts[name] = workdir / f"{name}.lua"
            scripts[name].write_text(
                JSON_POST_LUA.replace("KEY", api_key).replace("BODY", octo_body)
            )
        targets = [
            ("ping (/healthz)", "/healthz", None),
            ("catalog (/)", "/", None),
            ("experience page", "/experiences/kallari-cacao-route", None),
            ("availability JSON", "/api/v1/experiences/kallari-cacao-route/availability", None),
            ("OCTO calendar 365 d", "/octo/availability/calendar", scripts["calendar"]),
            ("OCTO availability 30 d", "/octo/availability", scripts["availability"]),
            ("hold seats POST", f"/departures/{ids['departure_id']}/book", hold_script),
        ]
        # The hold's ceiling: its SQL alone from a bare WSGI app (bench/raw_hold_wsgi.py),
        # fed the same bodies; one node only, like the bare WSGI floor.
        raw_hold = ("raw hold WSGI", f"/departures/{ids['departure_id']}/book", hold_script)
        wanted = {name.strip() for name in options.only.split(",") if name.strip()}
        runs: dict[str, list[dict]] = {}
        for _ in range(options.repeat):
            # Each round measures every target once: rounds interleave, so a slower minute
            # of the machine falls on all targets alike.
            # The floors: the same gunicorn serving a WSGI app that does nothing, and a Flask
            # app with only a /healthz view.
            floors = (("bare WSGI", f"http://127.0.0.1:{bare_port}/"),)
            floors += (("bare Flask", f"http://127.0.0.1:{flask_port}/healthz"),)
            for label, url in floors:
                if options.nodes == 1 and (not wanted or label in wanted):
                    wrk(url, options.warmup, options.connections)
                    runs.setdefault(label, []).append(
                        wrk(url, options.seconds, options.connections)
                    )
            raw_wanted = options.nodes == 1 and (not wanted or raw_hold[0] in wanted)
            for label, path, lua in targets + ([raw_hold] if raw_wanted else []):
                if wanted and label not in wanted and label != "ping (/healthz)":
                    continue
                script = str(lua) if lua else None
                nodes = [f"http://127.0.0.1:{raw_port}"] if lua and label == raw_hold[0] else bases
                urls = [node + path for node in nodes]
                probe(urls[0], lua)
                if options.warmup:
                    wrk_nodes(urls, options.warmup, options.connections, script)
                analyze(options.database_url)
                runs.setdefault(label, []).append(
                    wrk_nodes(urls, options.seconds, options.connections, script)
                )
        results = [(label, median_run(measured)) for label, measured in runs.items()]
        # Each target's ratio to /healthz in the same round, then their median: a machine
        # whose speed moves from one minute to the next moves both figures of a pair alike.
        pings = [r["rps"] for r in runs["ping (/healthz)"]]
        ratios = {
            label: [r["rps"] / ping for r, ping in zip(measured, pings, strict=True)]
            for label, measured in runs.items()
        }
        print(
            f"{options.nodes} node(s) of gunicorn {options.workers} x {options.worker_class}, "
            "wrk -t2 "
            f"-c{options.connections} -d{options.seconds}s, PostgreSQL, "
            f"{options.settings} settings, mail delivery: {options.mail_delivery}, "
            f"medians of {options.repeat}"
        )
        print("ratio: the median of the rounds' ratios to /healthz, their range beside it")
        header = ("target", "req/s", "p50 ms", "p99 ms", "ratio", "range", "non-2xx/3xx")
        print("{:<24}{:>8}{:>9}{:>9}{:>8}{:>13}{:>13}".format(*header))
        for label, r in results:
            spread = f"{min(ratios[label]):.3f}-{max(ratios[label]):.3f}"
            print(
                f"{label:<24}{r['rps']:>8.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
                f"{statistics.median(ratios[label]):>8.3f}{spread:>13}{r['errors']:>13}"
            )
        if options.repeat > 1:
            print("each round's req/s, in order:")
            for label, measured in runs.items():
                print(f"  {label:<22}" + ", ".join(f"{r['rps']:.0f}" for r in measured))
        rss = [size for server in servers for size in worker_rss_mib(server.pid)]
        print("worker RSS after the run (MiB): " + ", ".join(f"{m:.0f}" for m in rss))
        print("oversold departures: " + str(oversold(options.database_url)))
    finally:
        for process in (*servers, bare, bare_flask, raw):
            process.terminate()
            process.wait(timeout=10)
    return 0


def probe(url: str, lua: Path | None) -> None:
    """One request as wrk will send it, which must succeed: a benchmark of error pages
    measures nothing."""
    headers, data = {"X-Forwarded-For": "10.254.0.1"}, None
    if lua is not None:
        text = lua.read_text()
        headers |= dict(re.findall(r'wrk.headers\["([^"]+)"\] = "([^"]*)"', text))
        body = re.search(r"wrk.body = '(.*)'", text)
        body = body or re.search(r'string.gsub\("(.*?)", "EMAIL"', text)
        run = next(_RUNS)
        data = body.group(1).replace("EMAIL", f"probe{run}%40example.org")
        data = data.replace("FORMKEY", f"probe{run:017d}").encode()
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 — loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — loopback
            response.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{url} answered {error.code}: {error.read()[:300]!r}") from None


def _flush_redis(url: str) -> None:
    """Start from an empty cache and empty rate-limit counters."""
    import redis

    redis.Redis.from_url(url).flushdb()


def oversold(url: str) -> int:
    """Departures whose confirmed seats exceed their capacity (must be 0)."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(
            "SELECT count(*) FROM departures WHERE seats_confirmed > capacity"
        ).fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())

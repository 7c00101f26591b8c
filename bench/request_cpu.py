"""CPU per request in production settings, in-process: `/healthz` and the hold seats POST.

    .venv/bin/python bench/request_cpu.py [--requests 400] [--profile] [--no-prepare]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench]
        [--redis-url redis://127.0.0.1:6379/14]

The app runs as ``bench/http_bench.py`` starts it (``CHAKRA_ENV=production``, CSRF on, rate
limits and the response cache on Redis, behind one proxy), but is called as a WSGI function
in this process, one request at a time, with no HTTP server: what is measured is the app's
own work per request. For each target it prints the CPU milliseconds of this process per
request, Python function calls per request (cProfile), and SQL statements and Redis
commands per request. On a machine shared with other work, CPU time and call counts move
far less than wall-clock throughput; compare two versions of the code alternately.
``--profile`` prints the functions with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_bench import (  # noqa: E402
    _flush_redis,
    bench_environment,
    prepare_database,
    settings_text,
)


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, *args, **kwargs) -> None:
        self.n += 1


def count_redis_commands(counter: Counter) -> None:
    """Count every command sent to Redis (pipelines count as one round trip)."""
    from redis.connection import Connection

    send = Connection.send_packed_command

    def counted(self, *args, **kwargs):
        counter()
        return send(self, *args, **kwargs)

    Connection.send_packed_command = counted


def wsgi_call(app, method: str, path: str, headers: dict, body: bytes = b""):
    """One request through the whole WSGI stack (the proxy fix included)."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(
        path=path,
        method=method,
        headers=headers,
        data=body,
        base_url="http://127.0.0.1:8000",
    )
    environ = builder.get_environ()
    builder.close()
    status, response_headers = [], []

    def start_response(code, hdrs, exc_info=None):
        status.append(code)
        response_headers.extend(hdrs)

    result = app(environ, start_response)
    try:
        payload = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0], response_headers, payload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--only", default="", help="healthz or hold (default: both)")
    parser.add_argument(
        "--no-prepare", action="store_true", help="reuse the database as it is (no re-seed)"
    )
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/chakra_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp())
    settings = workdir / "bench_settings.py"
    settings.write_text(settings_text(True, options.redis_url))
    setup_env = bench_environment(options.database_url, settings, "worker")
    if options.no_prepare:
        ids = existing_ids(options.database_url)
    else:
        ids = prepare_database(options.database_url, setup_env)
    _flush_redis(options.redis_url)
    os.environ.update(bench_environment(options.database_url, settings, "worker", True))

    from sqlalchemy import event

    from tourism import create_app
    from tourism.extensions import db

    app = create_app()
    statements, redis_commands = Counter(), Counter()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", statements)
    count_redis_commands(redis_commands)

    run_id = int(time.time())
    book = f"/departures/{ids['departure_id']}/book"
    status, headers, page = wsgi_call(app, "GET", book, {"X-Forwarded-For": "10.255.0.1"})
    cookie = "; ".join(v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()

    def healthz(n: int) -> None:
        status, _, _ = wsgi_call(app, "GET", "/healthz", {"X-Forwarded-For": "10.1.2.3"})
        assert status.startswith("200"), status

    def hold(n: int) -> None:
        body = urlencode(
            {
                f"qty_{ids['adult_id']}": "1",
                "name": "Bench Tourist",
                "email": f"cpu-{run_id}-{n}@example.org",
                "phone": "+593 99 000 0000",
                "country": "EC",
                "language": "es",
                "payment_method": "on_arrival",
                "csrf_token": token,
                "submission": f"cpu{run_id % 10**6:06d}{n:013d}",  # the form page's key
            }
        ).encode()
        address = f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}"
        status, _, payload = wsgi_call(
            app,
            "POST",
            book,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "X-Forwarded-For": address,
            },
            body,
        )
        assert status.startswith("303"), (status, payload[:300])

    targets = {"healthz": healthz, "hold": hold}
    wanted = [name for name in targets if not options.only or name in options.only.split(",")]
    print(f"in-process, production settings, PostgreSQL and Redis, {options.requests} requests")
    print(f"{'target':<10}{'CPU ms':>9}{'wall ms':>9}{'calls':>9}{'SQL':>6}{'Redis':>7}")
    offset = 0
    for name in wanted:
        call = targets[name]
        for n in range(offset, offset + 50):  # warm-up: caches, pools, first imports
            call(n)
        offset += 50
        statements.n = redis_commands.n = 0
        start, cpu = time.perf_counter(), time.process_time()
        for n in range(offset, offset + options.requests):
            call(n)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        offset += options.requests
        sql, redis_n = statements.n / options.requests, redis_commands.n / options.requests
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits on the database
        profiler.enable()
        for n in range(offset, offset + options.requests):
            call(n)
        profiler.disable()
        offset += options.requests
        if os.environ.get("PROFILE_DUMP"):
            profiler.dump_stats(f"{os.environ['PROFILE_DUMP']}.{name}")
        stats = pstats.Stats(profiler)
        calls = stats.total_calls / options.requests
        print(
            f"{name:<10}{cpu / options.requests * 1000:>9.3f}"
            f"{wall / options.requests * 1000:>9.3f}{calls:>9.0f}{sql:>6.1f}{redis_n:>7.1f}"
        )
        if options.profile:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(options.top)
            print(out.getvalue())
    return 0


def existing_ids(url: str) -> dict:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        row = conn.execute(
            "SELECT d.id, pc.id FROM departures d JOIN experiences e ON e.id = d.experience_id "
            "JOIN price_categories pc ON pc.experience_id = e.id AND pc.code = 'adult' "
            "WHERE d.capacity = 100000000 LIMIT 1"
        ).fetchone()
    return {"departure_id": row[0], "adult_id": row[1]}


if __name__ == "__main__":
    sys.exit(main())

"""Start real gunicorn nodes for the reliability scripts and tests (docs/RELIABILITY.md).

The same start-up as ``bench/http_bench.py``: a settings file for what the environment cannot
say (``CHAKRA_SETTINGS``), gunicorn with ``gunicorn.conf.py`` on a free loopback port, and a
wait for ``/healthz``. A node is a context manager that always stops its server, and kills it
if it does not stop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"

#: Variables of the calling shell that must not leak into a node's settings.
_CLEARED = ("CHAKRA_SETTINGS", "CHAKRA_FAULT", "CHAKRA_ENV", "DATABASE_URL", "FLASK_DEBUG")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plain_postgres_url(url: str) -> str:
    """A SQLAlchemy ``postgresql+psycopg://`` address as libpq (psycopg, pg_dump) takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database ``url`` names (never the one the test suite uses)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = plain_postgres_url(url).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = plain_postgres_url(url).rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def node_environment(
    database_url: str,
    workdir: Path,
    settings: dict | None = None,
    **variables: str,
) -> dict[str, str]:
    """The environment of a node: its database, a shared secret key, emails to a folder and
    sent by the worker command (so requests never wait for mail), plus ``settings`` written to
    a ``CHAKRA_SETTINGS`` file and any extra ``variables``."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings_file = workdir / "node_settings.py"
    settings_file.write_text(
        "".join(f"{key} = {value!r}\n" for key, value in (settings or {}).items())
    )
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update(
        {
            "FLASK_APP": "tourism",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "reliability-runs-only-" + "k" * 32,
            "CHAKRA_SETTINGS": str(settings_file),
            "MAIL_BACKEND": "folder",
            "MAIL_DELIVERY": "worker",
            "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
        }
    )
    env.update(variables)
    return env


def flask(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    """Run ``flask <args>`` (a project command) with ``env``; output captured as text."""
    return subprocess.run(
        [str(BIN / "flask"), *args],
        cwd=ROOT,
        env=env,
        check=check,
        capture_output=True,
        text=True,
        timeout=300,
    )


class GunicornNode:
    """``gunicorn -c gunicorn.conf.py <app>`` on a free loopback port, stderr to a log file."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        workers: int = 2,
        app: str = "wsgi:app",
        port: int | None = None,
        preload: bool = True,
    ) -> None:
        self.env = env
        #: ``--preload``: the app is imported once and the workers forked from it, so four
        #: workers answer in ~2 s instead of ~8 s on a busy 2-core machine. The app opens no
        #: database connection while it is created, so no socket is shared across the fork.
        self.preload = preload
        self.log_path = log_path
        self.workers = workers
        self.app = app
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> GunicornNode:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                self.app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--access-logfile",
                "/dev/null",
                *(["--preload"] if self.preload else []),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2):  # noqa: S310
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"gunicorn did not answer; see {self.log_path}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        """Quick shutdown (SIGINT): the runs are over, so no request needs to finish."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> GunicornNode:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))

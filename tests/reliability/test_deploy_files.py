"""The deployment examples in deploy/ parse, and agree with each other and with the app.

``systemd-analyze verify`` checks the units (with the install path pointed at this checkout,
so the commands exist); the compose file must be valid YAML naming the services docs/DEPLOY.md
describes; the worker and scheduler (systemd units and compose services) must run commands
the app really has, and the periodic jobs must cover what the timers used to run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALL_PATH = "/srv/chakra-routes/current"


def test_every_timer_has_its_service_and_a_schedule():
    timers = sorted((DEPLOY / "systemd").glob("*.timer"))
    # Only the backup is a timer (pg_dump as its own user); the rest are periodic jobs.
    assert [timer.name for timer in timers] == ["chakra-routes-backup.timer"]
    for timer in timers:
        assert timer.with_suffix(".service").exists(), timer.name
        assert re.search(r"^OnCalendar=\S", timer.read_text(), re.MULTILINE), timer.name


def test_worker_and_scheduler_units_run_the_real_commands(app):
    for unit, command in (
        ("chakra-routes-worker@.service", "worker"),
        ("chakra-routes-scheduler.service", "scheduler"),
    ):
        text = (DEPLOY / "systemd" / unit).read_text()
        found = re.search(r"^ExecStart=\S+/flask --app tourism (\S+)$", text, re.MULTILINE)
        assert found and found.group(1) == command, unit
        assert re.search(r"^Restart=always$", text, re.MULTILINE), unit
        assert command in app.cli.commands


def test_the_periodic_jobs_cover_what_the_timers_ran():
    from tourism.jobs.periodic import PERIODIC

    assert {entry.name for entry in PERIODIC} >= {
        "sweep-emails",
        "expire-holds",
        "reconcile-payments",
        "finish-refunds",
        "release-shares",
        "send-impact-receipts",
        "send-reminders",
        "generate-departures",
        "ledger-check",
        "seat-check",
        "forget-special-needs",
    }


def test_compose_file_describes_the_stack():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "scheduler", "db", "redis", "nginx"} <= set(services)
    web = services["web"]["environment"]
    assert web["CHAKRA_ENV"] == "production" and web["MAIL_DELIVERY"] == "worker"
    assert web["PROXY_FIX_X_FOR"] == "1" and web["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert services["worker"]["command"] == ["flask", "--app", "tourism", "worker"]
    assert services["scheduler"]["command"] == ["flask", "--app", "tourism", "scheduler"]
    assert services["worker"]["environment"]["MAIL_DELIVERY"] == "worker"
    # The compose file's own paths exist.
    assert (ROOT / services["web"]["build"]["dockerfile"]).exists()
    settings = web["CHAKRA_SETTINGS"].removeprefix("/app/")
    assert (ROOT / settings).exists()
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":")[0]
        if source.startswith("./nginx"):
            assert (DEPLOY / source).exists(), source


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path):
    units = []
    for unit in sorted((DEPLOY / "systemd").glob("chakra-routes-*")):
        if unit.suffix not in (".service", ".timer"):
            continue
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALL_PATH, str(ROOT)))
        units.append(str(copy))
    result = subprocess.run(
        ["systemd-analyze", "verify", *units],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Unknown keys are only warnings: any output at all fails the test.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


@pytest.mark.skipif(
    not (shutil.which("nginx") and shutil.which("openssl")), reason="nginx or openssl missing"
)
def test_nginx_configuration_is_accepted(tmp_path):
    """``nginx -t`` on the example, with a throwaway certificate and local paths."""
    tls = tmp_path / "tls"
    tls.mkdir()
    subprocess.run(
        [  # noqa: S607
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost",
            "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "chakra-routes.conf").read_text()
    site = (
        site.replace("server web:8000", "server 127.0.0.1:8000")
        .replace("/etc/nginx/tls", str(tls))
        .replace("/var/cache/nginx/chakra", str(tmp_path / "cache"))
    )
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-c", str(main), "-p", str(tmp_path)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr


def test_nginx_answers_only_the_site_name():
    """A default server ends requests for any other host (444, no TLS handshake); the site's
    server is reached only under its own name, never the catch-all ``_``."""
    site = (DEPLOY / "nginx" / "chakra-routes.conf").read_text()
    blocks = site.split("server {")[1:]
    default = [b for b in blocks if "default_server" in b]
    assert len(default) == 1
    assert "return 444;" in default[0] and "ssl_reject_handshake on;" in default[0]
    proxied = [b for b in blocks if "proxy_pass" in b]
    assert proxied and all("server_name reservas.chakraroutes.example;" in b for b in proxied)
    assert all("server_name _;" not in b for b in blocks if b not in default)
    assert "$host" not in "".join(b for b in blocks if "return 301" in b)

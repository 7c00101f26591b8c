"""The gunicorn access log keeps addresses' shape but not the tokens in them."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config

from tourism.access_log import RedactingLogger, redact

TOKEN = "Xq3v9KpL2mN8rT5wY7zB1cD4fG6hJ0kS-aE_uIoPlMn"  # like secrets.token_urlsafe(32)
CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _access_line(path: str, query: str = "", referer: str = "-") -> str:
    config = Config()
    config.set("logger_class", runpy.run_path(str(CONF))["logger_class"])
    logger = config.logger_class(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path + (f"?{query}" if query else ""),
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": referer,
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=512)
    request = SimpleNamespace(headers=[("REFERER", referer)])
    atoms = logger.atoms_wrapper_class(logger.atoms(response, request, environ, timedelta(0)))
    return (config.access_log_format + " %(U)s %(q)s %({referer}i)s") % atoms


def test_gunicorn_uses_the_redacting_logger():
    config = Config()
    config.set("logger_class", runpy.run_path(str(CONF))["logger_class"])
    assert config.logger_class is RedactingLogger


def test_tokens_leave_no_trace_in_the_access_log():
    line = _access_line(
        f"/bookings/{TOKEN}/pay",
        query=f"token={TOKEN}&lang=en",
        referer=f"https://chakra.example/statements/families/{TOKEN}",
    )
    assert TOKEN not in line
    assert "GET /bookings/[redacted]/pay?token=[redacted]&lang=en HTTP/1.1" in line
    assert '"https://chakra.example/statements/families/[redacted]"' in line
    assert "203.0.113.7" in line and " 200 " in line


def test_ordinary_addresses_are_logged_as_they_are():
    line = _access_line("/experiences/kallari-cacao-route", query="province=napo")
    assert "GET /experiences/kallari-cacao-route?province=napo HTTP/1.1" in line


def test_redact_keeps_the_shape_of_feeds_and_short_ids():
    assert redact(f"/calendar/{TOKEN}.ics") == "/calendar/[redacted].ics"
    assert redact("/manage/associations/12/payouts/7") == "/manage/associations/12/payouts/7"
    assert redact(None) is None and redact("") == ""

"""A local stand-in for the WhatsApp Business Cloud API and a Twilio-style SMS API.

It checks what the real providers check (authentication, the shape of each request, E.164
numbers, WhatsApp's 24-hour window for free text), answers as they answer, records every
accepted message, and fails on demand: a timeout, a 429, a 500 or a refusal.

Tests start one per test on a free loopback port (the ``messaging_fake`` fixture in
tests/services/messages/conftest.py); ``make messaging-fake`` runs one for development::

    python -m tests.messaging_fake --port 8430
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PHONE_NUMBER_ID = "100200300"
ACCESS_TOKEN = "wa-test-token"
APP_SECRET = "wa-app-secret"
ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "sms-auth-token"
SMS_FROM = "+593990000000"
GRAPH_VERSION = "v21.0"

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
WA_NUMBER = re.compile(r"[1-9][0-9]{6,14}")

#: ``fail_next`` modes.
MODES = ("timeout", "429", "500", "reject")


@dataclass
class FakeProviders:
    """The fake's state, shared with its request handler; tests read and steer it."""

    #: How long a "timeout" answer waits (longer than the client's read timeout).
    slow_seconds: float = 3.0
    sent: list[dict] = field(default_factory=list)
    #: WhatsApp numbers (digits) that wrote to us, so free text to them is accepted.
    window_open: set[str] = field(default_factory=set)
    _failures: dict[str, list[str]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Requests refused for their shape or auth (status, reason), for assertions.
    refused: list[tuple[int, str]] = field(default_factory=list)

    def fail_next(self, channel: str, mode: str, times: int = 1) -> None:
        """Make the next ``times`` sends on ``channel`` (``whatsapp``/``sms``) fail."""
        if mode not in MODES:
            raise ValueError(mode)
        with self._lock:
            self._failures.setdefault(channel, []).extend([mode] * times)

    def _take_failure(self, channel: str) -> str | None:
        with self._lock:
            queue = self._failures.get(channel) or []
            return queue.pop(0) if queue else None

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):08d}"

    def sent_on(self, channel: str) -> list[dict]:
        return [m for m in self.sent if m["channel"] == channel]


class _Handler(BaseHTTPRequestHandler):
    server_version = "MessagingFake/1"
    state: FakeProviders

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, status: int, reason: str, body: dict | None = None) -> None:
        self.state.refused.append((status, reason))
        self._answer(status, body or {"error": {"message": reason, "code": 100}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == f"/whatsapp/{GRAPH_VERSION}/{PHONE_NUMBER_ID}/messages":
            return self._whatsapp(raw)
        if self.path == f"/sms/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return self._sms(raw)
        return self._refuse(404, "no such endpoint")

    def _failure(self, channel: str) -> bool:
        mode = self.state._take_failure(channel)
        if mode is None:
            return False
        if mode == "timeout":
            time.sleep(self.state.slow_seconds)
            self._answer(504, {"error": {"message": "too late"}})
        elif mode == "429":
            self._answer(429, {"error": {"message": "rate limited", "code": 130429}})
        elif mode == "500":
            self._answer(500, {"error": {"message": "internal error", "code": 1}})
        else:
            self.state.refused.append((400, "reject on demand"))
            self._answer(
                400,
                {
                    "error": {"message": "recipient refused", "code": 131026},
                    "code": 21610,
                    "message": "recipient refused",
                },
            )
        return True

    def _whatsapp(self, raw: bytes) -> None:
        if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._refuse(401, "bad access token", {"error": {"code": 190}})
        try:
            payload = json.loads(raw)
        except ValueError:
            return self._refuse(400, "not JSON")
        to = payload.get("to")
        if payload.get("messaging_product") != "whatsapp" or not (
            isinstance(to, str) and WA_NUMBER.fullmatch(to)
        ):
            return self._refuse(400, "bad envelope")
        kind = payload.get("type")
        if kind == "template":
            template = payload.get("template") or {}
            language = (template.get("language") or {}).get("code")
            components = template.get("components") or []
            parameters = [
                p for c in components if c.get("type") == "body" for p in c.get("parameters", [])
            ]
            if not template.get("name") or language not in ("es", "en"):
                return self._refuse(400, "bad template")
            for parameter in parameters:
                text = parameter.get("text")
                if parameter.get("type") != "text" or not isinstance(text, str) or not text:
                    return self._refuse(400, "bad template parameter")
                if "\n" in text or "\t" in text or "    " in text:
                    return self._refuse(400, "new line in a template parameter")
            record = {
                "template": template["name"],
                "language": language,
                "variables": [p["text"] for p in parameters],
            }
        elif kind == "text":
            body = (payload.get("text") or {}).get("body")
            if not isinstance(body, str) or not body or len(body) > 4096:
                return self._refuse(400, "bad text")
            if to not in self.state.window_open:
                return self._refuse(
                    400,
                    "outside the 24-hour window",
                    {"error": {"message": "Re-engagement message", "code": 131047}},
                )
            record = {"body": body}
        else:
            return self._refuse(400, "unknown type")
        if self._failure("whatsapp"):
            return None
        message_id = "wamid." + self.state._next_id("FAKE")
        self.state.sent.append({"channel": "whatsapp", "to": "+" + to, "id": message_id, **record})
        return self._answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": message_id}],
            },
        )

    def _sms(self, raw: bytes) -> None:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._refuse(401, "bad credentials", {"code": 20003, "message": "auth"})
        if not (self.headers.get("Content-Type") or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return self._refuse(400, "not a form")
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        to, body = form.get("To", ""), form.get("Body", "")
        if not E164.fullmatch(to) or form.get("From") != SMS_FROM:
            return self._refuse(400, "bad To/From", {"code": 21211, "message": "bad number"})
        if not body or len(body) > 1600:
            return self._refuse(400, "bad Body", {"code": 21602, "message": "bad body"})
        if self._failure("sms"):
            return None
        sid = self.state._next_id("SM")
        self.state.sent.append(
            {
                "channel": "sms",
                "to": to,
                "id": sid,
                "body": body,
                "callback": form.get("StatusCallback", ""),
            }
        )
        return self._answer(201, {"sid": sid, "status": "queued", "to": to, "body": body})


class RunningFake:
    """A started fake: its ``state``, its base URLs, ``config`` for the app, and ``stop``."""

    def __init__(self, port: int = 0) -> None:
        self.state = FakeProviders()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> dict:
        """The app settings that point both channels at this fake."""
        return {
            "WHATSAPP_API_BASE": f"{self.url}/whatsapp/{GRAPH_VERSION}",
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": "verify-me",
            "SMS_API_BASE": f"{self.url}/sms",
            "SMS_ACCOUNT_SID": ACCOUNT_SID,
            "SMS_AUTH_TOKEN": AUTH_TOKEN,
            "SMS_FROM": SMS_FROM,
        }

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def whatsapp_signature(body: bytes, secret: str = APP_SECRET) -> str:
    """``X-Hub-Signature-256`` for a callback body, as Meta computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_callback(statuses=(), messages=()) -> bytes:
    """A callback body: ``statuses`` as (message id, status), ``messages`` as (id, from
    E.164, text)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "statuses": [
            {"id": mid, "status": status, "timestamp": "1764000000", "recipient_id": "1"}
            for mid, status in statuses
        ],
        "messages": [
            {
                "id": mid,
                "from": sender.lstrip("+"),
                "timestamp": "1764000000",
                "type": "text",
                "text": {"body": text},
            }
            for mid, sender, text in messages
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8430)
    port = parser.parse_args().port
    fake = RunningFake(port)
    print("Messaging fake on", fake.url, "- set in the environment:")
    for name, value in fake.config().items():
        print(f"  export {name}={value}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()

"""Sending email: one small interface, several backends chosen by ``MAIL_BACKEND``.

* ``folder`` writes each message as an RFC 822 ``.eml`` file into ``MAIL_OUTBOX_DIR`` (the
  default on a laptop: open the files with any mail client);
* ``console`` prints each message to standard output;
* ``smtp`` hands each message to ``MAIL_SERVER`` (STARTTLS when ``MAIL_USE_TLS``);
* ``memory`` keeps them in a list, for tests.

Nothing here touches the database: messages are built by ``tourism.services.messages.outbox``
and sent only after the transaction that queued them has committed.
"""

from __future__ import annotations

import itertools
import os
import smtplib
import ssl
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TextIO

#: The domain used in generated Message-IDs (never the machine's host name).
MESSAGE_ID_DOMAIN = "chakraroutes"


class Mailer:
    """Sends one ``EmailMessage`` at a time; raises on failure so the caller can retry."""

    def __init__(self, default_from: str = "") -> None:
        self.default_from = default_from

    def send(self, message: EmailMessage) -> None:
        self.deliver(self.prepare(message))

    def prepare(self, message: EmailMessage) -> EmailMessage:
        """Fill in the headers every message needs: From, Date and Message-ID."""
        if message["From"] is None and self.default_from:
            message["From"] = self.default_from
        if message["Date"] is None:
            message["Date"] = format_datetime(datetime.now(UTC))
        if message["Message-ID"] is None:
            message["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
        if message["To"] is None:
            raise ValueError("message has no recipient")
        return message

    def deliver(self, message: EmailMessage) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class FolderMailer(Mailer):
    """Writes ``<UTC time>-<sequence>-<random>.eml`` files, so a plain sort is send order."""

    _sequence = itertools.count()

    def __init__(self, directory: str | os.PathLike, default_from: str = "") -> None:
        super().__init__(default_from)
        self.directory = Path(directory)
        #: The file written last, handy in logs and tests.
        self.last_path: Path | None = None

    def deliver(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{next(self._sequence) % 1_000_000:06d}-{uuid.uuid4().hex[:12]}.eml"
        final = self.directory / name
        # Write under a name no reader picks up, then rename: a reader never sees half a file.
        partial = self.directory / f".{name}.part"
        partial.write_bytes(message.as_bytes())
        os.replace(partial, final)
        self.last_path = final


class ConsoleMailer(Mailer):
    """Prints each message, with a separator line, to ``stream`` (standard output)."""

    def __init__(self, stream: TextIO | None = None, default_from: str = "") -> None:
        super().__init__(default_from)
        self.stream = stream

    def deliver(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stdout
        stream.write(message.as_string())
        stream.write("\n" + "-" * 72 + "\n")
        stream.flush()


class MemoryMailer(Mailer):
    """Keeps the messages in ``outbox``; for tests and for dry runs."""

    def __init__(self, default_from: str = "") -> None:
        super().__init__(default_from)
        self.outbox: list[EmailMessage] = []

    def deliver(self, message: EmailMessage) -> None:
        self.outbox.append(message)


class SMTPMailer(Mailer):
    """One SMTP connection per message: simple, and nothing stale to reconnect."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        username: str = "",
        password: str = "",
        use_tls: bool = True,
        use_ssl: bool = False,
        timeout: float = 30.0,
        default_from: str = "",
    ) -> None:
        super().__init__(default_from)
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.use_tls = use_tls
        self.use_ssl = use_ssl
        self.timeout = timeout

    def connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def deliver(self, message: EmailMessage) -> None:
        with self.connect() as smtp:
            smtp.ehlo()
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


def get_mailer(app_config: Mapping) -> Mailer:
    """The mailer ``MAIL_BACKEND`` names, configured from the other ``MAIL_*`` settings."""
    backend = str(app_config.get("MAIL_BACKEND", "folder")).strip().lower()
    default_from = app_config.get("MAIL_FROM", "")
    if backend == "folder":
        return FolderMailer(app_config["MAIL_OUTBOX_DIR"], default_from=default_from)
    if backend == "console":
        return ConsoleMailer(default_from=default_from)
    if backend == "memory":
        return MemoryMailer(default_from=default_from)
    if backend == "smtp":
        return SMTPMailer(
            app_config.get("MAIL_SERVER", "localhost"),
            int(app_config.get("MAIL_PORT", 587)),
            username=app_config.get("MAIL_USERNAME", ""),
            password=app_config.get("MAIL_PASSWORD", ""),
            use_tls=bool(app_config.get("MAIL_USE_TLS", True)),
            use_ssl=bool(app_config.get("MAIL_USE_SSL", False)),
            timeout=float(app_config.get("MAIL_TIMEOUT", 30)),
            default_from=default_from,
        )
    raise ValueError(f"unknown MAIL_BACKEND {backend!r}: use folder, console, smtp or memory")

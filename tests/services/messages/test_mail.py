"""Mail backends: .eml files in a folder, the console, memory, and SMTP (against a fake server)."""

from __future__ import annotations

import base64
import email
import email.policy
import socketserver
import threading
from email.message import EmailMessage

import pytest

from tourism.services.messages.mail import (
    ConsoleMailer,
    FolderMailer,
    MemoryMailer,
    SMTPMailer,
    get_mailer,
)


def _message(subject: str = "Hola", to: str = "ana@example.org") -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Cuerpo con tildes: añadir, canción.\n")
    return message


def _read(path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_get_mailer_picks_the_configured_backend(tmp_path):
    base = {"MAIL_FROM": "Chakra <a@example.org>", "MAIL_OUTBOX_DIR": str(tmp_path)}
    assert isinstance(get_mailer(base | {"MAIL_BACKEND": "folder"}), FolderMailer)
    assert isinstance(get_mailer(base | {"MAIL_BACKEND": "console"}), ConsoleMailer)
    assert isinstance(get_mailer(base | {"MAIL_BACKEND": "memory"}), MemoryMailer)
    smtp = get_mailer(
        base
        | {
            "MAIL_BACKEND": "SMTP",
            "MAIL_SERVER": "mail.example.org",
            "MAIL_PORT": 2525,
            "MAIL_USERNAME": "user",
            "MAIL_PASSWORD": "secret",
            "MAIL_USE_TLS": False,
        }
    )
    assert isinstance(smtp, SMTPMailer)
    assert (smtp.host, smtp.port, smtp.username, smtp.use_tls) == (
        "mail.example.org",
        2525,
        "user",
        False,
    )
    with pytest.raises(ValueError, match="MAIL_BACKEND"):
        get_mailer(base | {"MAIL_BACKEND": "carrier-pigeon"})


def test_get_mailer_reads_the_app_config(app, tmp_path):
    app.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(tmp_path / "out"))
    mailer = get_mailer(app.config)
    assert isinstance(mailer, FolderMailer)
    assert mailer.directory == tmp_path / "out"
    assert mailer.default_from == app.config["MAIL_FROM"]


def test_folder_mailer_writes_parseable_eml_files_in_send_order(tmp_path):
    outbox = tmp_path / "does" / "not" / "exist" / "yet"
    mailer = FolderMailer(outbox, default_from="Chakra Routes <reservas@example.org>")
    for n in range(5):
        mailer.send(_message(subject=f"Mensaje {n}"))

    files = sorted(outbox.iterdir())
    assert [path.suffix for path in files] == [".eml"] * 5  # no half-written leftovers
    assert len({path.name for path in files}) == 5
    assert mailer.last_path == files[-1]
    parsed = [_read(path) for path in files]
    assert [m["Subject"] for m in parsed] == [f"Mensaje {n}" for n in range(5)]
    first = parsed[0]
    assert first["To"] == "ana@example.org"
    assert first["From"] == "Chakra Routes <reservas@example.org>"
    assert first["Date"] is not None
    assert first["Message-ID"].endswith("@chakraroutes>")
    assert "canción" in first.get_content()


def test_an_explicit_from_is_kept(tmp_path):
    mailer = MemoryMailer(default_from="Default <d@example.org>")
    message = _message()
    message["From"] = "Other <o@example.org>"
    mailer.send(message)
    assert mailer.outbox[0]["From"] == "Other <o@example.org>"


def test_a_message_without_recipient_is_refused(tmp_path):
    message = EmailMessage()
    message["Subject"] = "Nadie"
    message.set_content("x")
    mailer = FolderMailer(tmp_path)
    with pytest.raises(ValueError, match="recipient"):
        mailer.send(message)
    assert list(tmp_path.iterdir()) == []


def test_console_mailer_prints_the_message(capsys):
    ConsoleMailer(default_from="a@example.org").send(_message(subject="Por consola"))
    out = capsys.readouterr().out
    assert "Subject: Por consola" in out
    assert "To: ana@example.org" in out


def test_memory_mailer_keeps_messages():
    mailer = MemoryMailer()
    mailer.send(_message(subject="Uno"))
    mailer.send(_message(subject="Dos"))
    assert [m["Subject"] for m in mailer.outbox] == ["Uno", "Dos"]


# --- SMTP against a tiny fake server -----------------------------------------------------


class _FakeSMTPHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        server = self.server
        self.reply("220 fake.example ESMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            server.commands.append(line)
            if verb == "EHLO":
                self.wfile.write(b"250-fake.example\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                parts = line.split()
                if len(parts) < 3:
                    self.reply("334 ")
                    parts.append(self.rfile.readline().decode().strip())
                server.auth = base64.b64decode(parts[2]).split(b"\0")
                self.reply("235 2.7.0 Authentication successful")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                server.messages.append(b"".join(lines))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeSMTPHandler)
    server.daemon_threads = True
    server.commands, server.messages, server.auth = [], [], None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_smtp_mailer_sends_through_the_server(smtp_server):
    host, port = smtp_server.server_address
    mailer = get_mailer(
        {
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": host,
            "MAIL_PORT": port,
            "MAIL_USERNAME": "chakra",
            "MAIL_PASSWORD": "s3cret",
            "MAIL_USE_TLS": False,
            "MAIL_FROM": "Chakra Routes <reservas@example.org>",
            "MAIL_TIMEOUT": 5,
        }
    )
    mailer.send(_message(subject="Por SMTP"))

    assert smtp_server.auth == [b"", b"chakra", b"s3cret"]
    assert any(
        c.upper().startswith("MAIL FROM:<RESERVAS@EXAMPLE.ORG>") for c in smtp_server.commands
    )
    assert any(c.upper().startswith("RCPT TO:<ANA@EXAMPLE.ORG>") for c in smtp_server.commands)
    assert len(smtp_server.messages) == 1
    received = email.message_from_bytes(smtp_server.messages[0], policy=email.policy.default)
    assert received["Subject"] == "Por SMTP"
    assert "canción" in received.get_content()


def test_smtp_mailer_without_credentials_does_not_log_in(smtp_server):
    host, port = smtp_server.server_address
    SMTPMailer(host, port, use_tls=False, timeout=5, default_from="a@example.org").send(_message())
    assert smtp_server.auth is None
    assert len(smtp_server.messages) == 1


def test_smtp_failure_raises(smtp_server):
    host, port = smtp_server.server_address
    smtp_server.shutdown()
    smtp_server.server_close()
    mailer = SMTPMailer(host, port, use_tls=False, timeout=2, default_from="a@example.org")
    with pytest.raises(OSError):
        mailer.send(_message())

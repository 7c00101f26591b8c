"""The email outbox: queue in the transaction, deliver after the commit, once per message."""

from __future__ import annotations

import email
import email.policy
import smtplib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel.messages.extract import extract_from_file
from flask_babel import get_locale
from sqlalchemy import func, select

from tourism.database import utcnow
from tourism.models import BookingStatus, DepartureStatus, Notification, Payment, PaymentStatus
from tourism.services.messages import outbox as notifications
from tourism.services.messages.mail import FolderMailer, Mailer, MemoryMailer, get_mailer
from tourism.timefmt import display_zone, local_to_utc, local_today

PUBLIC_URL = "https://chakra.example"
GUAYAQUIL = ZoneInfo("America/Guayaquil")
EMAIL_TEMPLATES = Path(__file__).resolve().parents[3] / "tourism" / "templates" / "emails"


@pytest.fixture
def outbox(app, tmp_path) -> Path:
    """The app writes emails as .eml files here, with links to PUBLIC_URL."""
    folder = tmp_path / "outbox"
    app.config.update(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(folder), PUBLIC_URL=PUBLIC_URL)
    return folder


def _eml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _read(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _deliver(session, app) -> int:
    sent = notifications.deliver_pending(session, get_mailer(app.config))
    session.commit()
    return sent


def _december_departure(make, **kw):
    """A departure at 13:30 UTC on 2 December next year: 8:30 in Guayaquil (UTC-5)."""
    starts_at = datetime(utcnow().year + 1, 12, 2, 13, 30, tzinfo=UTC)
    return make.departure(starts_at=starts_at, **kw)


def _paid_online(session, booking, cents: int) -> None:
    session.add(
        Payment(
            booking=booking,
            provider="stripe",
            provider_ref=f"pi_test_{booking.id}",
            amount_cents=cents,
            status=PaymentStatus.SUCCEEDED,
            succeeded_at=utcnow(),
        )
    )
    session.flush()


def _paid_by_transfer(session, booking, cents: int) -> None:
    session.add(
        Payment(
            booking=booking,
            provider="bank_transfer",
            amount_cents=cents,
            status=PaymentStatus.SUCCEEDED,
            succeeded_at=utcnow(),
        )
    )
    session.flush()


def _parts(message, content_type: str) -> list:
    return [part for part in message.walk() if part.get_content_type() == content_type]


def _bodies(message) -> tuple[str, str]:
    return (
        message.get_body(preferencelist=("plain",)).get_content(),
        message.get_body(preferencelist=("html",)).get_content(),
    )


# --- The confirmation email --------------------------------------------------------------


def test_confirmation_email_has_everything_for_the_day(app, session, make, outbox):
    departure = _december_departure(make)
    booking = make.booking(
        departure=departure,
        quantities={"adult": 2},
        language="en",
        contact_email="visitor@example.org",
        payment_method="deposit",
    )
    _paid_online(session, booking, 2700)
    notifications.queue(session, booking, "confirmed")
    session.commit()

    assert _deliver(session, app) == 1
    [path] = _eml_files(outbox)
    message = _read(path)

    assert message["To"] == "visitor@example.org"
    assert message["From"] == app.config["MAIL_FROM"]
    title = departure.experience.text("en").title
    assert booking.reference in message["Subject"]
    assert title in message["Subject"]
    manage_link = f"{PUBLIC_URL}/bookings/{booking.manage_token}"
    text, html = _bodies(message)
    for body in (text, html):
        assert booking.reference in body
        assert title in body
        assert "8:30" in body  # 13:30 UTC in Guayaquil
        assert "13:30" not in body and "1:30" not in body
        assert "December" in body
        assert "Tena square" in body  # meeting point, in the booking's language
        assert manage_link in body
        assert "$90.00" in body  # total
        assert "$27.00" in body  # paid online
        assert "$63.00" in body  # due on arrival
        assert "48 hours before the departure: full refund" in body  # the policy in words
    assert f'href="{manage_link}"' in html

    [png] = _parts(message, "image/png")
    assert png.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    content_id = png["Content-ID"].strip("<>")
    assert content_id
    assert f'src="cid:{content_id}"' in html
    assert png.get_content_disposition() == "inline"

    [ics] = _parts(message, "text/calendar")
    assert ics.get_filename().endswith(".ics")
    calendar = icalendar.Calendar.from_ical(ics.get_content().encode())
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.reference}@chakraroutes"
    assert str(event["SUMMARY"]) == title
    assert str(event["LOCATION"]) == "Tena square"
    assert event["DTSTART"].params["TZID"] == "America/Guayaquil"
    start = event.decoded("DTSTART")
    assert start == datetime(start.year, 12, 2, 8, 30, tzinfo=GUAYAQUIL)
    assert (start.hour, start.minute, start.utcoffset()) == (8, 30, timedelta(hours=-5))
    assert event.decoded("DTEND") - start == timedelta(minutes=240)
    assert booking.reference in str(event["DESCRIPTION"])
    assert manage_link in str(event["DESCRIPTION"])


def test_everything_paid_online_leaves_nothing_due(app, session, make, outbox):
    booking = make.booking(departure=_december_departure(make), language="en")
    _paid_online(session, booking, booking.total_cents)
    notifications.queue(session, booking, "confirmed")
    session.commit()
    _deliver(session, app)
    text, _ = _bodies(_read(_eml_files(outbox)[0]))
    assert "nothing to pay on arrival" in text
    assert "To pay on arrival" not in text


@pytest.mark.parametrize(
    ("language", "month", "other_month", "amount"),
    [("en", "December", "diciembre", "$45.00"), ("es", "diciembre", "December", "$45,00")],
)
def test_email_is_in_the_bookings_language(
    app, session, make, outbox, language, month, other_month, amount
):
    booking = make.booking(departure=_december_departure(make), language=language)
    notifications.queue(session, booking, "confirmed")
    session.commit()
    _deliver(session, app)
    message = _read(_eml_files(outbox)[0])
    text, html = _bodies(message)
    assert month in text and month in html
    assert other_month not in text
    assert amount in text
    assert f'<html lang="{language}">' in html
    assert message["Content-Language"] == language
    # The experience's own texts come in the booking's language too.
    title = booking.departure.experience.text(language).title
    assert title in message["Subject"]


def test_a_language_the_site_does_not_speak_falls_back_to_the_default(app, session, make, outbox):
    booking = make.booking(departure=_december_departure(make), language="qu")
    notifications.queue(session, booking, "confirmed")
    session.commit()
    _deliver(session, app)
    text, _ = _bodies(_read(_eml_files(outbox)[0]))
    assert "diciembre" in text


def test_rendering_inside_a_request_uses_the_bookings_language_not_the_visitors(
    app, session, make, outbox
):
    booking = make.booking(departure=_december_departure(make), language="es")
    notifications.queue(session, booking, "confirmed")
    session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert str(get_locale()) == "en"
        assert _deliver(session, app) == 1
        assert str(get_locale()) == "en"  # the visitor's page is still in English
    text, _ = _bodies(_read(_eml_files(outbox)[0]))
    assert "diciembre" in text
    assert f"{PUBLIC_URL}/bookings/{booking.manage_token}" in text


# --- The other kinds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "context", "paid", "expected"),
    [
        ("reminder", {}, 0, ["Tomorrow: ", "See you tomorrow", "Boots and a raincoat"]),
        ("cancelled", {"refund_cents": 2250}, 4500, ["cancelled", "$22.50", "refunding"]),
        ("cancelled", {"refund_cents": 0}, 4500, ["not refunded"]),
        ("cancelled", {"refund_cents": 0}, 0, ["nothing to refund"]),
        (
            "departure_cancelled",
            {"reason": "The river is in flood", "refund_cents": 4500},
            4500,
            ["has been cancelled", "The river is in flood", "$45.00", "refunding"],
        ),
        (
            "late_payment_refunded",
            {"refund_cents": 4500},
            4500,
            ["sorry", "full payment of $45.00", "refunded"],
        ),
        (
            "refunded",
            {"refund_cents": 4500},
            4500,
            ["refunded in full", "$45.00 goes back", "not valid for the visit"],
        ),
    ],
)
def test_each_kind_says_what_happened(app, session, make, kind, context, paid, expected):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    departure = _december_departure(make)
    departure.experience.text("en").what_to_bring = "Boots and a raincoat.\n\nWater."
    booking = make.booking(departure=departure, language="en")
    if paid:
        _paid_online(session, booking, paid)
    notification = notifications.queue(session, booking, kind, **context)
    assert notification.kind == kind
    assert notification.key == f"booking:{booking.id}:{kind}"
    assert notification.recipient == booking.contact_email
    session.commit()

    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer) == 1
    [message] = mailer.outbox
    text, html = _bodies(message)
    combined = message["Subject"] + "\n" + text
    for phrase in expected:
        assert phrase in combined
    assert f"{PUBLIC_URL}/bookings/{booking.manage_token}" in html
    for wrong in ("None", "{{", "{%", "%("):
        assert wrong not in text
        assert wrong not in html
    has_qr = bool(_parts(message, "image/png"))
    assert has_qr == (kind in ("confirmed", "reminder"))


def test_a_transfer_cancelled_with_nothing_back_says_it_is_not_refunded(app, session, make):
    """A group that paid by bank transfer and cancels too late to get money back is told the
    policy refunds nothing, not that it paid nothing."""
    booking = make.booking(departure=_december_departure(make), language="en")
    _paid_by_transfer(session, booking, 4500)
    notifications.queue(session, booking, "cancelled", refund_cents=0)
    session.commit()
    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer) == 1
    text, html = _bodies(mailer.outbox[0])
    assert "not refunded" in text and "not refunded" in html
    assert "nothing to refund" not in text + html


def test_cancellation_tells_the_calendar_to_drop_the_event(app, session, make):
    booking = make.booking(departure=_december_departure(make), language="en")
    notifications.queue(session, booking, "cancelled", refund_cents=0)
    session.commit()
    mailer = MemoryMailer()
    notifications.deliver_pending(session, mailer)
    [ics] = _parts(mailer.outbox[0], "text/calendar")
    calendar = icalendar.Calendar.from_ical(ics.get_content().encode())
    assert str(calendar["METHOD"]) == "CANCEL"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.reference}@chakraroutes"
    assert str(event["STATUS"]) == "CANCELLED"


def test_unknown_kinds_are_refused(session, make):
    with pytest.raises(ValueError, match="kind"):
        notifications.queue(session, make.booking(), "birthday")


# --- Once and only once --------------------------------------------------------------------


def _notification_count(session) -> int:
    return session.scalar(select(func.count(Notification.id)))


def test_queueing_twice_keeps_one_row_and_sends_nothing_yet(app, session, make, outbox):
    booking = make.booking()
    first = notifications.queue(session, booking, "confirmed", refund_cents=1)
    again = notifications.queue(session, booking, "confirmed", refund_cents=2)
    session.commit()
    assert first is not None
    assert again is None
    assert _notification_count(session) == 1
    assert first.sent_at is None
    assert _eml_files(outbox) == []  # queueing never sends: that waits for the commit
    # A later transaction (e.g. a replayed webhook) cannot queue it again either.
    assert notifications.queue(session, booking, "confirmed") is None
    session.commit()
    assert _notification_count(session) == 1
    # Another kind for the same booking is another message.
    assert notifications.queue(session, booking, "reminder") is not None


def test_a_concurrent_duplicate_is_refused_by_the_unique_key_without_spoiling_the_rest(
    session, make, monkeypatch
):
    booking = make.booking()
    notifications.queue(session, booking, "confirmed")
    # Pretend the check ran before a concurrent transaction inserted the same key.
    monkeypatch.setattr(session, "scalar", lambda *args, **kwargs: None)
    assert notifications.queue(session, booking, "confirmed") is None
    monkeypatch.undo()
    booking.contact_phone = "+593 99 765 4321"  # the caller's transaction is still usable
    session.commit()
    assert _notification_count(session) == 1
    session.expire_all()
    assert booking.contact_phone == "+593 99 765 4321"


def test_delivering_twice_sends_one_email(app, session, make, outbox):
    booking = make.booking()
    notifications.queue(session, booking, "confirmed")
    session.commit()
    assert _deliver(session, app) == 1
    assert _deliver(session, app) == 0
    assert len(_eml_files(outbox)) == 1
    notification = session.scalar(select(Notification))
    assert notification.sent_at is not None
    assert notification.attempts == 1


class BrokenMailer(Mailer):
    def __init__(self, fails_for: str | None = None) -> None:
        super().__init__("Chakra <a@example.org>")
        self.fails_for = fails_for
        self.sent: list = []

    def deliver(self, message) -> None:
        if self.fails_for is None or message["To"] == self.fails_for:
            raise smtplib.SMTPServerDisconnected("the mail server went away")
        self.sent.append(message)


def test_a_failure_is_counted_and_retried_later(app, session, make, outbox):
    booking = make.booking()
    notifications.queue(session, booking, "confirmed")
    session.commit()

    assert notifications.deliver_pending(session, BrokenMailer()) == 0
    session.commit()
    notification = session.scalar(select(Notification))
    assert notification.sent_at is None
    assert notification.attempts == 1
    assert "the mail server went away" in notification.last_error

    assert _deliver(session, app) == 1
    assert notification.sent_at is not None
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert len(_eml_files(outbox)) == 1


def test_after_five_failures_a_message_is_left_alone(app, session, make, outbox):
    notifications.queue(session, make.booking(), "confirmed")
    session.commit()
    for _ in range(notifications.MAX_ATTEMPTS + 2):
        notifications.deliver_pending(session, BrokenMailer())
        session.commit()
    notification = session.scalar(select(Notification))
    assert notification.attempts == notifications.MAX_ATTEMPTS
    assert _deliver(session, app) == 0
    assert _eml_files(outbox) == []


def test_one_failing_message_does_not_hold_up_the_others(session, make):
    departure = make.departure()
    bad = make.booking(departure=departure, contact_email="bounces@example.org")
    good = make.booking(departure=departure, contact_email="fine@example.org")
    notifications.queue(session, bad, "confirmed")
    notifications.queue(session, good, "confirmed")
    session.commit()
    mailer = BrokenMailer(fails_for="bounces@example.org")
    assert notifications.deliver_pending(session, mailer) == 1
    assert [m["To"] for m in mailer.sent] == ["fine@example.org"]


def test_deliver_pending_respects_the_limit_and_send_pending_sends_all(session, make):
    departure = make.departure()
    for n in range(5):
        booking = make.booking(departure=departure, contact_email=f"v{n}@example.org")
        notifications.queue(session, booking, "confirmed")
    session.commit()
    mailer = MemoryMailer()
    assert notifications.deliver_pending(session, mailer, limit=2) == 2
    session.commit()
    # Oldest first: the first two queued went out.
    assert [m["To"] for m in mailer.outbox] == ["v0@example.org", "v1@example.org"]
    assert notifications.send_pending(session, mailer, batch_size=2) == 3
    assert len(mailer.outbox) == 5


# --- Commands --------------------------------------------------------------------------------


def test_send_reminders_emails_tomorrows_confirmed_bookings_once(
    app, session, make, runner, outbox
):
    zone = display_zone()
    today = local_today()
    tomorrow = today + timedelta(days=1)
    experience = make.experience()

    def booking_at(day, at, email, status=BookingStatus.CONFIRMED, **departure_kw):
        departure = make.departure(
            experience=experience, starts_at=local_to_utc(day, at, zone), **departure_kw
        )
        return make.booking(departure=departure, status=status, contact_email=email, language="en")

    booking_at(today, time(20, 0), "today@example.org")  # 01:00 UTC tomorrow
    early = booking_at(tomorrow, time(7, 0), "early@example.org")
    early_departure = early.departure
    for status in (BookingStatus.CANCELLED, BookingStatus.HELD):
        make.booking(
            departure=early_departure, status=status, contact_email=f"{status.value}@example.org"
        )
    late = booking_at(tomorrow, time(23, 30), "late@example.org")
    booking_at(
        tomorrow,
        time(10, 0),
        "called-off@example.org",
        status=BookingStatus.CONFIRMED,
        status_departure=None,
    ) if False else None
    called_off = make.departure(
        experience=experience,
        starts_at=local_to_utc(tomorrow, time(10, 0), zone),
        status=DepartureStatus.CANCELLED,
    )
    make.booking(departure=called_off, contact_email="called-off@example.org")
    booking_at(today + timedelta(days=2), time(0, 0), "day-after@example.org")
    session.commit()

    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0, first.output
    assert "Queued 2 reminder(s); sent 2 email(s)." in first.output
    messages = [_read(path) for path in _eml_files(outbox)]
    assert sorted(m["To"] for m in messages) == ["early@example.org", "late@example.org"]
    assert all(m["Subject"].startswith("Tomorrow: ") for m in messages)
    keys = set(session.scalars(select(Notification.key)))
    assert keys == {f"booking:{early.id}:reminder", f"booking:{late.id}:reminder"}

    again = runner.invoke(args=["send-reminders"])
    assert again.exit_code == 0, again.output
    assert "Queued 0 reminder(s); sent 0 email(s)." in again.output
    assert len(_eml_files(outbox)) == 2


def test_send_emails_retries_what_failed(app, session, make, runner, outbox, tmp_path):
    notifications.queue(session, make.booking(), "confirmed")
    session.commit()
    # A file where the outbox folder should be: the folder mailer fails.
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    app.config["MAIL_OUTBOX_DIR"] = str(blocked)
    failed = runner.invoke(args=["send-emails"])
    assert failed.exit_code == 0, failed.output
    assert "Sent 0 email(s)." in failed.output
    session.expire_all()
    notification = session.scalar(select(Notification))
    assert notification.attempts == 1
    assert notification.sent_at is None
    assert notification.last_error

    app.config["MAIL_OUTBOX_DIR"] = str(outbox)
    retried = runner.invoke(args=["send-emails"])
    assert "Sent 1 email(s)." in retried.output
    assert len(_eml_files(outbox)) == 1
    assert "Sent 0 email(s)." in runner.invoke(args=["send-emails"]).output


# --- Translations ------------------------------------------------------------------------------


def _messages(paths) -> set[str]:
    found = set()
    for path in paths:
        for _line, message, _comments, _context in extract_from_file("jinja2", str(path)):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_plain_text_templates_use_only_strings_the_html_ones_have():
    """babel.cfg extracts ``*.html`` only: a string only in a ``.txt`` would never be
    translated, so every plain-text string must also appear in an HTML twin."""
    text_strings = _messages(sorted(EMAIL_TEMPLATES.glob("*.txt")))
    html_strings = _messages(sorted(EMAIL_TEMPLATES.glob("*.html")))
    assert len(text_strings) > 20
    assert text_strings - html_strings == set()


def test_folder_mailer_is_what_the_app_uses_by_default(app, outbox):
    assert isinstance(get_mailer(app.config), FolderMailer)

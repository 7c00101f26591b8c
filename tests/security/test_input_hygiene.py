"""Control characters never get in, and what got in before cannot break what reads it:
single-line fields refuse them (every form derives from tourism/forms/base.py), the offline
sync reports a bad action without losing the batch, JSON too deeply nested is a 400, an
email's subject stays one line whatever a title holds, and no token reaches a log line."""

from __future__ import annotations

import email
import email.policy
import importlib
import inspect
import logging
import pkgutil
from datetime import timedelta

import flask_wtf
import pytest
import wtforms
from sqlalchemy import func, select

import tourism.forms
from tests.factories import Factories
from tests.routes.test_bookings import EN, ES, form_for
from tests.routes.test_guide import login as guide_login
from tourism.database import utcnow
from tourism.extensions import db
from tourism.forms import base
from tourism.models import Booking, ExperienceText
from tourism.services.access import accounts
from tourism.services.booking import lifecycle


def _form_classes():
    for module in pkgutil.iter_modules(tourism.forms.__path__):
        loaded = importlib.import_module(f"tourism.forms.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, wtforms.Form) and cls.__module__.startswith("tourism.forms"):
                yield cls


def test_every_form_derives_from_the_clean_text_bases():
    classes = list(_form_classes())
    assert len(classes) > 20  # the scan found the forms: it can fail
    for cls in classes:
        assert issubclass(cls, (base.FlaskForm, base.Form)), cls
    # The control: flask_wtf's own class is not one of them.
    assert not issubclass(flask_wtf.FlaskForm, (base.FlaskForm, base.Form))


@pytest.mark.parametrize("bad", ["Ana\r\nBcc: x@example.org", "Ana\x00", "Ana\u2028Quispe"])
def test_a_one_line_field_refuses_control_characters(client, make, bad):
    departure = make.departure(make.experience(), capacity=8, starts_in=timedelta(days=3))
    db.session.commit()
    url = f"/departures/{departure.id}/book"
    refused = client.post(url, data=form_for(departure, name=bad), headers=EN)
    assert refused.status_code == 400
    if "\x00" not in bad:  # a NUL is refused before any form reads it (routes/guards.py)
        assert "Please write this on one line" in refused.get_data(as_text=True)
        spanish = client.post(url, data=form_for(departure, name=bad), headers=ES)
        assert "en una sola línea" in spanish.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Booking.id))) == 0
    # The control: the same booking with a clean name, and line breaks where text may
    # hold them (the visitor's needs), is made.
    made = client.post(
        url, data=form_for(departure, special_needs="Vegetarian\r\nNo nuts"), headers=EN
    )
    assert made.status_code == 303


def test_an_old_title_with_a_line_break_still_sends_its_email(make_app, tmp_path):
    outbox = tmp_path / "outbox"
    app = make_app(MAIL_BACKEND="folder", MAIL_OUTBOX_DIR=str(outbox), MAIL_DELIVERY="request")
    with app.app_context():
        make = Factories(db.session)
        experience = make.experience()
        departure = make.departure(experience, capacity=8, starts_in=timedelta(days=3))
        db.session.commit()
        for text in db.session.scalars(select(ExperienceText)):
            text.title = "Cacao\r\nBcc: someone@example.org"  # stored before the forms refused it
        db.session.commit()
        assert "\r\n" in experience.texts[0].title  # the control: it is really there
        booked = app.test_client().post(
            f"/departures/{departure.id}/book", data=form_for(departure), headers=EN
        )
        assert booked.status_code == 303
    sent = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in outbox.glob("*.eml")]  # fmt: skip
    assert sent, "the confirmation was not sent"
    for message in sent:
        assert "\n" not in message["Subject"] and "Bcc" not in message.keys()


# Offline sync --------------------------------------------------------------------------------


@pytest.fixture
def trip(make):
    association = make.association()
    experience = make.experience(association)
    departure = make.departure(
        experience, starts_at=utcnow().replace(microsecond=0) + timedelta(minutes=30)
    )
    guide = make.guide(association)
    make.assign(departure, guide)
    booking = make.booking(departure, {"adult": 1})
    db.session.commit()
    return dict(departure=departure, guide=guide, booking=booking)


def _action(trip, action_id: str, reference: str) -> dict:
    return {
        "id": action_id,
        "type": "check_in",
        "departure_id": trip["departure"].id,
        "booking_reference": reference,
        "at": utcnow().isoformat(),
    }


@pytest.mark.parametrize("bad", ["KAL-\x00", "KAL\r\n", "K" * 41])
def test_a_bad_reference_is_one_error_and_the_batch_still_syncs(client, trip, bad):
    guide_login(client, db.session, trip["guide"])
    actions = [_action(trip, "a1", bad), _action(trip, "a2", trip["booking"].reference)]
    synced = client.post("/guide/sync", json={"actions": actions}, headers=EN)
    assert synced.status_code == 200
    statuses = [(r["id"], r["status"]) for r in synced.get_json()["results"]]
    assert statuses == [("a1", "error"), ("a2", "applied")]
    bad_id = client.post(
        "/guide/sync", json={"actions": [_action(trip, "a\x003", trip["booking"].reference)]}
    )
    assert [r["status"] for r in bad_id.get_json()["results"]] == ["error"]


def test_json_nested_too_deeply_is_a_400(client, trip):
    guide_login(client, db.session, trip["guide"])
    deep = '{"actions": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    response = client.post("/guide/sync", data=deep, content_type="application/json")
    assert response.status_code == 400
    # The control: a shallow body of the same shape is read.
    shallow = '{"actions": [' + "[" * 3 + "]" * 3 + "]}"
    assert (
        client.post("/guide/sync", data=shallow, content_type="application/json").status_code == 200
    )


# Logs ----------------------------------------------------------------------------------------


@pytest.fixture
def error_logs(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("tourism"), "disabled", False)
    caplog.set_level(logging.ERROR)
    return caplog


def _fail(*_args, **_kwargs):
    raise RuntimeError("a failure in the middle of a request")


def _logged(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_a_failed_request_logs_no_manage_or_reset_token(make_app, make, error_logs, monkeypatch):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    booking = make.booking(make.departure(capacity=5))
    db.session.commit()
    token = booking.manage_token
    reset_token = "r" * 20 + "Q" * 23
    monkeypatch.setattr(lifecycle, "find_by_token", _fail)
    client = app.test_client()
    assert client.get(f"/bookings/{token}").status_code == 500
    assert client.get(f"/api/v1/bookings/{token}").status_code == 500
    monkeypatch.setattr(accounts, "valid_link", _fail)
    assert client.get(f"/password/reset/{reset_token}").status_code == 500
    logs = _logged(error_logs)
    assert "Exception on /bookings/[redacted] [GET]" in logs  # the failures were logged
    assert "a failure in the middle of a request" in logs
    assert token not in logs and reset_token not in logs


def test_negative_control_without_redaction_the_token_is_logged(
    make_app, make, error_logs, monkeypatch
):
    """The same failure in a process whose log records are made plainly: the token is in
    the log line, so the test above can fail."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    booking = make.booking(make.departure(capacity=5))
    db.session.commit()
    monkeypatch.setattr(lifecycle, "find_by_token", _fail)
    saved = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)
    try:
        assert app.test_client().get(f"/bookings/{booking.manage_token}").status_code == 500
    finally:
        logging.setLogRecordFactory(saved)
    assert booking.manage_token in _logged(error_logs)

"""A database that cannot be reached (down, restarting, a network fault) is an outage, not a
bug: every page and API answers 503 with Retry-After, in the visitor's language, and the log
gets one line per request instead of a traceback. A fault in a statement stays a 500."""

from __future__ import annotations

import logging
import socket
import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from tests.conftest import _test_config
from tourism import create_app
from tourism.database import is_unreachable

ES = {"Accept-Language": "es"}
EN = {"Accept-Language": "en"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once closed


@pytest.fixture
def unreachable(tmp_path):
    """The app pointed at a PostgreSQL that is not there."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/chakra"
    app = create_app(_test_config(url, UPLOAD_DIR=str(tmp_path / "uploads")))
    yield app


@pytest.mark.no_database
def test_pages_answer_503_in_the_visitors_language_with_retry_after(
    unreachable, caplog, monkeypatch
):
    # Migrating the test database (Alembic's logging setup) disables the loggers that existed
    # then; a server process never migrates in-process.
    monkeypatch.setattr(logging.getLogger("tourism.routes.errors"), "disabled", False)
    client = unreachable.test_client()
    with caplog.at_level(logging.WARNING):
        spanish = client.get("/", headers=ES)
        english = client.get("/", headers=EN)
    assert spanish.status_code == english.status_code == 503
    assert spanish.headers["Retry-After"] == english.headers["Retry-After"] == "5"
    assert spanish.headers["Cache-Control"] == "no-store"
    assert "no podemos consultar nuestro registro de reservas" in spanish.get_data(as_text=True)
    assert "cannot reach our booking records" in english.get_data(as_text=True)
    assert "went through" in english.get_data(as_text=True)
    outage = [r for r in caplog.records if "database unreachable" in r.getMessage()]
    assert len(outage) == 2
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in outage)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.no_database
def test_the_json_api_and_a_booking_sent_answer_503_too(unreachable):
    client = unreachable.test_client()
    api = client.get("/api/v1/experiences/kallari-cacao-route/availability", headers=EN)
    assert api.status_code == 503
    assert "cannot reach our booking records" in api.get_json()["error"]["message"]
    booking = client.post("/departures/1/book", data={"name": "Ana"}, headers=ES)
    assert booking.status_code == 503


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection"), True),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
        (psycopg.errors.ConnectionFailure("connection failure"), True),
        # Faults of a statement, or a lock not obtained (the "busy" 503): not an outage.
        (psycopg.errors.LockNotAvailable("lock timeout"), False),
        (psycopg.errors.QueryCanceled("statement timeout"), False),
        (sqlite3.OperationalError("no such table: bookings"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
@pytest.mark.no_database
def test_which_errors_mean_the_database_cannot_be_reached(error, unreachable):
    wrapped = OperationalError("SELECT 1", {}, error)
    assert is_unreachable(wrapped) is unreachable


@pytest.mark.no_database
def test_a_connection_lost_during_a_request_is_unreachable_whatever_the_driver_said():
    lost = OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))
    lost.connection_invalidated = True
    assert is_unreachable(lost)


@pytest.mark.no_database
def test_a_reseller_is_told_to_retry_not_that_its_key_is_wrong(unreachable):
    """An OTA that read 401 would take its key for revoked; the outage is a 503 to retry."""
    client = unreachable.test_client()
    key = {"Authorization": "Bearer chk_" + "a" * 43}
    answer = client.post(
        "/octo/availability",
        json={
            "productId": "kallari-cacao-route",
            "optionId": "DEFAULT",
            "localDateStart": "2026-12-10",
            "localDateEnd": "2026-12-11",
        },
        headers=key,
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.get_json()["error"] == "INTERNAL_SERVER_ERROR"  # OCTO's only server error

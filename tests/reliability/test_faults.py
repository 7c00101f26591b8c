"""Fault injection stops only where it is told to, and never in production."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from tourism import create_app, faults
from tourism.security import InsecureSettingsError


def test_unknown_points_are_refused_even_when_inactive(monkeypatch):
    monkeypatch.delenv("CHAKRA_FAULT", raising=False)
    with pytest.raises(ValueError, match="unknown fault point"):
        faults.point("booking.helt")


def test_inactive_unless_named(monkeypatch, capsys):
    monkeypatch.delenv("CHAKRA_FAULT", raising=False)
    faults.point("booking.held")
    monkeypatch.setenv("CHAKRA_FAULT", "payments.charged:30")
    started = time.monotonic()
    faults.point("booking.held")  # another point: no stop
    assert time.monotonic() - started < 1
    assert capsys.readouterr().err == ""


def test_the_named_point_reports_its_pid_and_waits(monkeypatch, capsys):
    monkeypatch.setenv("CHAKRA_ENV", "development")
    monkeypatch.setenv("CHAKRA_FAULT", "booking.held:0.2")
    started = time.monotonic()
    faults.point("booking.held")
    assert time.monotonic() - started >= 0.2
    assert "CHAKRA_FAULT booking.held reached in pid" in capsys.readouterr().err


def test_production_ignores_it(monkeypatch, capsys):
    monkeypatch.setenv("CHAKRA_FAULT", "booking.held:30")
    app = Flask(__name__)
    app.config["CHAKRA_ENV"] = "production"
    started = time.monotonic()
    with app.app_context():
        faults.point("booking.held")
    assert time.monotonic() - started < 1
    assert capsys.readouterr().err == ""


def test_production_refuses_to_start_with_it(monkeypatch, database_url):
    monkeypatch.setenv("CHAKRA_FAULT", "booking.held")
    with pytest.raises(InsecureSettingsError) as refused:
        create_app(
            {
                "CHAKRA_ENV": "production",
                "SECRET_KEY": "k" * 48,
                "SQLALCHEMY_DATABASE_URI": database_url,
            }
        )
    assert refused.value.setting == "CHAKRA_FAULT"

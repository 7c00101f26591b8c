"""Production refuses to start with unsafe settings, and names the setting to fix.

Each refusal test starts from settings that do start in production (checked first) and
changes one thing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tourism import create_app
from tourism.extensions import db
from tourism.security import InsecureSettingsError

STRONG_SECRET = "k" * 48


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Settings come from the test, not from whatever the shell running pytest exported."""
    for name in (
        "CHAKRA_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "FLASK_DEBUG",
        "CHAKRA_SETTINGS",
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def production(database_url) -> dict:
    return {
        "CHAKRA_ENV": "production",
        "SECRET_KEY": STRONG_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
    }


def refusal(config: dict) -> InsecureSettingsError:
    with pytest.raises(InsecureSettingsError) as refused:
        create_app(config)
    assert "Refusing to start in production" in str(refused.value)
    return refused.value


def test_sound_production_settings_start(make_app, production):
    app = make_app(**production)
    assert app.config["CHAKRA_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_starts_with_anything(make_app):
    app = make_app(SECRET_KEY="dev", DEBUG=True, STRIPE_SECRET_KEY="sk_test_x")
    assert app.config["CHAKRA_ENV"] == "development"


def test_an_unknown_environment_name_is_refused(production):
    error = refusal(production | {"CHAKRA_ENV": "prod"})
    assert error.setting == "CHAKRA_ENV" and "'prod'" in str(error)


def test_a_missing_secret_key_is_refused(production, monkeypatch):
    # From the environment, as in a real deployment: production generates no key of its own.
    monkeypatch.setenv("CHAKRA_ENV", "production")
    config = {k: v for k, v in production.items() if k != "SECRET_KEY"}
    error = refusal(config)
    assert error.setting == "SECRET_KEY" and "not set" in str(error)


def test_a_short_secret_key_is_refused(production):
    error = refusal(production | {"SECRET_KEY": "change-me"})
    assert error.setting == "SECRET_KEY" and "shorter than 32" in str(error)


def test_the_per_machine_development_key_is_refused(make_app, production):
    development = make_app()  # reads (or writes) the key kept under instance/ for laptops
    machine_key = (Path(development.instance_path) / "secret_key").read_text().strip()
    error = refusal(production | {"SECRET_KEY": machine_key})
    assert error.setting == "SECRET_KEY" and "instance/" in str(error)


def test_debug_is_refused(production):
    error = refusal(production | {"DEBUG": True})
    assert error.setting == "DEBUG"


def test_flask_debug_from_the_environment_is_refused(production, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert refusal(production).setting == "DEBUG"


def test_csrf_protection_switched_off_is_refused(production):
    assert refusal(production | {"WTF_CSRF_ENABLED": False}).setting == "WTF_CSRF_ENABLED"


def test_stripe_without_a_webhook_secret_is_refused(make_app, production):
    stripe = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PUBLISHABLE_KEY": "pk_live_x"}
    error = refusal(production | stripe | {"STRIPE_WEBHOOK_SECRET": ""})
    assert error.setting == "STRIPE_WEBHOOK_SECRET" and "STRIPE_SECRET_KEY" in str(error)
    make_app(**production, **stripe, STRIPE_WEBHOOK_SECRET="whsec_live_x")  # with one: starts


def test_the_embedded_sqlite_default_is_refused(production):
    config = {k: v for k, v in production.items() if k != "SQLALCHEMY_DATABASE_URI"}
    error = refusal(config)
    assert error.setting == "DATABASE_URL" and "embedded SQLite" in str(error)


def test_an_explicit_sqlite_database_is_a_deliberate_choice(production, tmp_path):
    # One machine on purpose (DATABASE_URL=sqlite:///...): allowed, documented in the README.
    url = "sqlite:///" + str(tmp_path / "one-node.sqlite3")
    app = create_app(production | {"SQLALCHEMY_DATABASE_URI": url})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    with app.app_context():
        db.engine.dispose()

"""Settings from the environment: a malformed number or yes/no stops the app with a message
that names the setting, instead of a bare ValueError from deep inside the start-up."""

from __future__ import annotations

import pytest

from tourism import create_app
from tourism.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("HOLD_MINUTES", "thirty", "HOLD_MINUTES='thirty' is not a whole number."),
        ("HOLD_MINUTES", "0", "HOLD_MINUTES='0' must be at least 1."),
        ("RESPONSE_CACHE_SECONDS", "1.5", "RESPONSE_CACHE_SECONDS='1.5' is not a whole number."),
        ("OPEN_BOOKINGS_PER_EMAIL", "-3", "OPEN_BOOKINGS_PER_EMAIL='-3' must be at least 0."),
        ("MAIL_USE_TLS", "maybe", "MAIL_USE_TLS='maybe' is not a yes/no setting"),
        ("RATELIMIT_ENABLED", "tru", "RATELIMIT_ENABLED='tru' is not a yes/no setting"),
        ("LANGUAGE_MIN_COMPLETENESS", "ninety", "LANGUAGE_MIN_COMPLETENESS='ninety' is not"),
        ("LANGUAGE_MIN_COMPLETENESS", "90", "must be between 0.0 and 1.0"),
    ],
)
def test_a_malformed_setting_names_itself(monkeypatch, tmp_path, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_config(str(tmp_path))
    assert says in str(refused.value)
    # The app refuses to start with the same message.
    with pytest.raises(ConfigError, match=name):
        create_app()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("YES", True), (" 1 ", True), ("off", False), ("0", False), ("", False)],
)
def test_yes_no_settings_take_the_usual_words(monkeypatch, tmp_path, value, expected):
    monkeypatch.setenv("MAIL_USE_SSL", value)
    assert load_config(str(tmp_path))["MAIL_USE_SSL"] is expected


def test_blank_numbers_keep_their_default(monkeypatch, tmp_path):
    monkeypatch.setenv("HOLD_MINUTES", "  ")
    assert load_config(str(tmp_path))["HOLD_MINUTES"] == 30

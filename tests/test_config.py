"""Settings: layering, validation, and the shipped .env.example."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from mailer.config import ENV_NAMES, Settings, load_settings
from mailer.errors import ConfigError

ENV_EXAMPLE = Path(__file__).resolve().parent.parent / ".env.example"


def test_defaults_match_the_documented_names():
    settings = load_settings(env_file=None, environ={})
    assert settings.db_path == settings.project_root / "subscribers.db"
    assert settings.project_root == Path.cwd()
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.smtp_security == "starttls"


def test_environment_wins_over_env_file_and_options_win_over_both(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SMTP_HOST=from-file\nSMTP_PORT=2525\nNEWSLETTER_DB=file.db\n")
    settings = load_settings(
        {"db_path": "option.db"}, env_file=env_file, environ={"SMTP_HOST": "from-env"}
    )
    assert settings.smtp_host == "from-env"
    assert settings.smtp_port == 2525
    assert settings.db_path == Path("option.db")


def test_unset_options_fall_through_to_the_environment():
    settings = load_settings({"db_path": None}, env_file=None, environ={"NEWSLETTER_DB": "x.db"})
    assert settings.db_path == Path.cwd() / "x.db"  # relative to the project root


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("SMTP_SECURITY", "tls", "SMTP_SECURITY"),
        ("SMTP_PORT", "smtp", "SMTP_PORT"),
        ("SMTP_PORT", "70000", "SMTP_PORT"),
        ("NEWSLETTER_BASE_URL", "news.example.se", "NEWSLETTER_BASE_URL"),
        ("NEWSLETTER_FROM", "nobody", "NEWSLETTER_FROM"),
        ("NEWSLETTER_REPLY_TO", "a@example.se\r\nBcc: x@example.se", "line breaks"),
        ("SEND_CONNECTIONS", "0", "SEND_CONNECTIONS"),
        ("SMTP_TIMEOUT", "0", "SMTP_TIMEOUT"),
        ("SMTP_TIMEOUT", "-5", "SMTP_TIMEOUT"),
    ],
)
def test_invalid_settings_are_refused_with_the_variable_named(name, value, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_settings(env_file=None, environ={name: value})


def test_secrets_stay_out_of_repr():
    settings = load_settings(
        {"secret_key": "s3cret-value-123456", "smtp_password": "hunter2-password"},
        env_file=None,
        environ={},
    )
    assert "s3cret" not in repr(settings)
    assert "hunter2" not in repr(settings)


def test_missing_secret_key_names_the_setting():
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET_KEY"):
        Settings().require_secret_key()


def test_env_example_lists_every_setting_and_no_secret():
    values = dotenv_values(ENV_EXAMPLE)
    assert set(values) == set(ENV_NAMES)
    for name in (
        "NEWSLETTER_SECRET_KEY",
        "SMTP_PASSWORD",
        "DKIM_PRIVATE_KEY",
        "SMTP_OAUTH2_CLIENT_SECRET",
    ):
        assert not values[name], f"{name} must be empty in .env.example"
    load_settings(env_file=ENV_EXAMPLE, environ={})  # the example itself is valid


def test_a_path_given_for_a_text_setting_becomes_text(tmp_path):
    key_file = tmp_path / "dkim.pem"
    settings = load_settings({"dkim_private_key": key_file}, env_file=None, environ={})
    assert settings.dkim_private_key == str(key_file)


def test_an_unusable_dkim_key_is_named_but_not_repeated():
    """A pasted key with its header lost must not end up on screen or in a CI log."""
    mangled = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 20
    settings = load_settings(
        env_file=None,
        environ={"DKIM_DOMAIN": "example.se", "DKIM_SELECTOR": "s1", "DKIM_PRIVATE_KEY": mangled},
    )
    with pytest.raises(ConfigError, match="DKIM_PRIVATE_KEY") as error:
        settings.dkim_key_bytes()
    assert "MIIEvQ" not in str(error.value)


def test_a_sender_without_angle_brackets_is_refused_with_how_to_write_it():
    import re

    import pytest

    from mailer.config import load_settings
    from mailer.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_settings({"from_address": "Nyhetsbrev info@example.se"}, env_file=None, environ={})
    assert "angle brackets" in str(caught.value)
    assert "NEWSLETTER_FROM=Nyhetsbrev <info@example.se>" in str(caught.value)
    written = re.escape("NEWSLETTER_FROM=Nyhetsbrev <info@example.se>")
    with pytest.raises(ConfigError, match=written):
        load_settings({"from_address": "info@example.se Nyhetsbrev"}, env_file=None, environ={})
    plain = load_settings({"from_address": "info@example.se"}, env_file=None, environ={})
    assert plain.from_address == "info@example.se"  # a bare address is fine

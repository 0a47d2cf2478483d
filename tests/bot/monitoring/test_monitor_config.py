"""The [health], [metrics] and [alerts] sections: defaults, secrets from the environment,
and errors that name the key (never a secret's value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=env or {})


def test_defaults_watch_with_no_email_and_metrics_for_this_machine_only(tmp_path: Path) -> None:
    config = load(tmp_path, "")
    assert config.health.channel_silence_seconds == 120
    assert config.health.outbox_max_age_seconds == 600
    assert config.metrics.token == "" and config.metrics.allow == ()
    assert not config.alerts.enabled and config.alerts.unreachable_seconds == 300


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    env = {"LK3_METRICS_TOKEN": "t" * 20, "LK3_SMTP_PASSWORD": "pw"}
    config = load(tmp_path, '[alerts]\nemail_to = ["sup@lk3.test"]\n', env)
    assert config.metrics.token == "t" * 20 and config.alerts.smtp_password == "pw"
    assert config.alerts.enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[metrics]\ntoken = "short-secret"\n', "Config 'metrics.token' is too short"),
        ('[alerts]\nemail_to = ["not an address"]\n', "Config 'alerts.email_to'"),
        ('[alerts]\nsmtp_security = "ssl"\n', "Config 'alerts.smtp_security'"),
        ("[alerts]\nunreachable_seconds = 1\n", "Config 'alerts.unreachable_seconds'"),
        ("[alerts]\nsms_to = []\n", "Config 'alerts.sms_to' is not a known setting"),
        ("[health]\noutbox_max_age_seconds = 0\n", "Config 'health.outbox_max_age_seconds'"),
    ],
)
def test_a_bad_value_names_its_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value).startswith(message)
    assert "short-secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "refused"),
    [("smtp.example.org", True), ("192.0.2.25", True), ("127.0.0.1", False), ("localhost", False)],
)
def test_credentials_never_go_to_another_machine_in_the_clear(
    tmp_path: Path, host: str, refused: bool
) -> None:
    text = f'[alerts]\nsmtp_host = "{host}"\nsmtp_security = "none"\nsmtp_user = "lk3"\n'
    env = {"LK3_SMTP_PASSWORD": "rahasia-smtp"}
    if not refused:
        assert load(tmp_path, text, env).alerts.smtp_host == host
        return
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    assert str(caught.value).startswith("Config 'alerts.smtp_security' has value 'none'")
    assert "rahasia-smtp" not in str(caught.value)
    with_tls = text.replace('"none"', '"starttls"')
    assert load(tmp_path, with_tls, env).alerts.smtp_security == "starttls"

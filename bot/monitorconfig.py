"""The monitoring sections of the configuration: `[health]`, `[metrics]`, `[alerts]`
(read by `bot.config`, used by `bot.monitoring`).

    [health]   when `/readyz` says "not ready": a polling channel silent too long, the
               outbox's oldest due reply too old
    [metrics]  who may read `/metrics`: loopback only, or anyone with the bearer token
    [alerts]   the supervisors' second route (email over SMTP), for faults the
               channels cannot report themselves
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.configvalues import ConfigError, read_int, read_str, read_url

__all__ = [
    "MONITORING_ENV_SECRETS",
    "MONITORING_SECTIONS",
    "Alerts",
    "Health",
    "Metrics",
    "alerts_section",
    "health_section",
    "metrics_section",
]


@dataclass(frozen=True, slots=True)
class Health:
    # A channel that polls (Telegram getUpdates answers at least every poll timeout)
    # and has not been answered for this long is not ready.
    channel_silence_seconds: int = 120
    # A webhook channel silent this long is not ready (0: never; nights are quiet).
    webhook_silence_seconds: int = 0
    # The oldest reply due and unsent older than this: the sender is stuck.
    outbox_max_age_seconds: int = 600


@dataclass(frozen=True, slots=True)
class Metrics:
    # Empty: `/metrics` answers only requests from this machine that no proxy forwarded.
    token: str = ""
    # Addresses besides loopback that may read `/metrics` without a token (a
    # Prometheus on the office's private network); ignored when a token is set.
    allow: tuple[str, ...] = ()


SMTP_SECURITY = ("none", "starttls", "tls")


@dataclass(frozen=True, slots=True)
class Alerts:
    email_to: tuple[str, ...] = ()
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "lk3@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    # Telegram (or a polling channel) failing this long is told by the second route.
    unreachable_seconds: int = 300
    # A fault still there is told again after this long.
    remind_minutes: int = 60
    # Where the notices name the console (a case code is looked up there).
    console_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.email_to)


MONITORING_SECTIONS: dict[str, frozenset[str]] = {
    "health": frozenset(
        {"channel_silence_seconds", "webhook_silence_seconds", "outbox_max_age_seconds"}
    ),
    "metrics": frozenset({"token", "allow"}),
    "alerts": frozenset(
        {
            "email_to",
            "smtp_host",
            "smtp_port",
            "smtp_from",
            "smtp_user",
            "smtp_password",
            "smtp_security",
            "unreachable_seconds",
            "remind_minutes",
            "console_url",
        }
    ),
}

MONITORING_ENV_SECRETS: dict[tuple[str, str], str] = {
    ("metrics", "token"): "LK3_METRICS_TOKEN",
    ("alerts", "smtp_password"): "LK3_SMTP_PASSWORD",
}


def health_section(table: Mapping[str, Any]) -> Health:
    d = Health()
    return Health(
        channel_silence_seconds=read_int(
            table, "channel_silence_seconds", d.channel_silence_seconds, 1, 86400, "health"
        ),
        webhook_silence_seconds=read_int(
            table, "webhook_silence_seconds", d.webhook_silence_seconds, 0, 7 * 86400, "health"
        ),
        outbox_max_age_seconds=read_int(
            table, "outbox_max_age_seconds", d.outbox_max_age_seconds, 1, 86400, "health"
        ),
    )


def metrics_section(table: Mapping[str, Any]) -> Metrics:
    token = read_str(table, "token", "", "metrics")
    if token and len(token) < 16:
        raise ConfigError(
            "Config 'metrics.token' is too short. Use at least 16 random characters "
            "(for example the output of `openssl rand -hex 16`)."
        )
    return Metrics(token=token, allow=_strings(table, "allow", "metrics"))


def alerts_section(table: Mapping[str, Any]) -> Alerts:
    d = Alerts()
    email_to = _strings(table, "email_to", "alerts")
    for address in email_to:
        if "@" not in address or any(c.isspace() for c in address):
            raise ConfigError(f"Config 'alerts.email_to' has value {address!r}. Not an address.")
    security = read_str(table, "smtp_security", d.smtp_security, "alerts")
    if security not in SMTP_SECURITY:
        raise ConfigError(
            f"Config 'alerts.smtp_security' has value {security!r}. Use "
            + ", ".join(repr(s) for s in SMTP_SECURITY)
        )
    host = read_str(table, "smtp_host", d.smtp_host, "alerts")
    user = read_str(table, "smtp_user", d.smtp_user, "alerts")
    password = read_str(table, "smtp_password", d.smtp_password, "alerts")
    if security == "none" and (user or password) and not _loopback(host):
        raise ConfigError(
            f"Config 'alerts.smtp_security' has value 'none' with a user and password for"
            f" {host!r}, which is not this machine: they would cross the network in the"
            " clear. Use 'starttls' or 'tls' (or a relay on 127.0.0.1)."
        )
    return Alerts(
        email_to=email_to,
        smtp_host=host,
        smtp_port=read_int(table, "smtp_port", d.smtp_port, 1, 65535, "alerts"),
        smtp_from=read_str(table, "smtp_from", d.smtp_from, "alerts"),
        smtp_user=user,
        smtp_password=password,
        smtp_security=security,
        unreachable_seconds=read_int(
            table, "unreachable_seconds", d.unreachable_seconds, 5, 86400, "alerts"
        ),
        remind_minutes=read_int(table, "remind_minutes", d.remind_minutes, 5, 10080, "alerts"),
        console_url=read_url(table, "console_url", "", "alerts"),
    )


def _loopback(host: str) -> bool:
    """Whether a mail host is this machine (a name other than localhost is not assumed)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _strings(table: Mapping[str, Any], key: str, section: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"Config '{section}.{key}' must be a list of non-empty strings.")
    return tuple(value)

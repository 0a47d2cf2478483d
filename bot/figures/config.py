"""`[webhooks.<name>]`: the receivers of signed case events.

    [webhooks.provinsi]
    url = "https://kasus.maluku.example/lk3"
    secret = "..."                   # or LK3_WEBHOOK_SECRET_PROVINSI in the environment

A secret is at least 32 characters (`lk3 webhook secret` prints a fresh one); a
ConfigError names the key, never the secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.configvalues import ConfigError, read_str, read_url

__all__ = ["FiguresSettings", "Webhook", "figures_section", "secret_env"]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MIN_SECRET = 32


@dataclass(frozen=True, slots=True)
class Webhook:
    name: str
    url: str
    secret: str

    def __repr__(self) -> str:  # never the secret in a log or a traceback
        return f"Webhook(name={self.name!r}, url={self.url!r})"


@dataclass(frozen=True, slots=True)
class FiguresSettings:
    webhooks: tuple[Webhook, ...] = ()


def secret_env(name: str) -> str:
    return "LK3_WEBHOOK_SECRET_" + name.upper()


def figures_section(webhooks: Mapping[str, Any], env: Mapping[str, str]) -> FiguresSettings:
    found: list[Webhook] = []
    for name, table in webhooks.items():
        section = f"webhooks.{name}"
        if not _NAME.fullmatch(name):
            raise ConfigError(f"Config '{section}': a webhook name is lowercase letters, digits, _")
        if not isinstance(table, dict):
            raise ConfigError(f"Config '{section}' must be a table")
        extra = sorted(set(table) - {"url", "secret"})
        if extra:
            raise ConfigError(f"Config '{section}' has an unknown key '{extra[0]}'")
        url = read_url(table, "url", "", section)
        if not url:
            raise ConfigError(f"Config '{section}.url' is empty: the receiver's http(s) address")
        secret = env.get(secret_env(name)) or read_str(table, "secret", "", section)
        if len(secret) < MIN_SECRET:
            raise ConfigError(
                f"Config '{section}.secret' (or {secret_env(name)}) must be at least"
                f" {MIN_SECRET} characters"
            )
        found.append(Webhook(name, url, secret))
    return FiguresSettings(webhooks=tuple(found))

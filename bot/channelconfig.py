"""The channel sections of the configuration: Telegram and WhatsApp (Twilio).

Secrets (`token`, `auth_token`, `webhook_secret`) are kept out of `repr` and out
of every error message; a section enabled without what it needs stops start-up
naming the setting (and its environment variable).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.configvalues import (
    KNOWN_LANGUAGES,
    ConfigError,
    read_bool,
    read_str,
    read_url,
)
from bot.digits import digits

__all__ = ["Telegram", "WhatsApp", "WhatsAppTemplates", "telegram_section", "whatsapp_section"]


@dataclass(frozen=True, slots=True)
class Telegram:
    enabled: bool = False
    token: str = field(default="", repr=False)
    mode: str = "polling"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    api_base_url: str = "https://api.telegram.org/bot"


@dataclass(frozen=True, slots=True)
class WhatsAppTemplates:
    """Twilio content template SIDs ("HX…") the office set up; "" where there is none.

    `reminder`, `new_message` and `follow_up` go outside WhatsApp's 24-hour window
    (approved by WhatsApp); `choices` maps a number of choices to an in-session
    quick-reply (up to 3) or list-picker (up to 10) template. See config.example.toml.
    """

    reminder: str = ""
    new_message: str = ""
    follow_up: str = ""
    choices: tuple[tuple[int, str], ...] = ()

    def choice_template(self, count: int) -> str:
        return next((sid for n, sid in self.choices if n == count), "")


@dataclass(frozen=True, slots=True)
class WhatsApp:
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    from_number: str = ""
    api_base_url: str = "https://api.twilio.com"
    templates: WhatsAppTemplates = WhatsAppTemplates()
    # Versions of the templates in another language ("en"), where the office has them.
    templates_by_language: tuple[tuple[str, WhatsAppTemplates], ...] = ()

    def templates_for(self, language: str) -> WhatsAppTemplates:
        """The templates for a family writing in `language` (else the default ones)."""
        return next((t for lang, t in self.templates_by_language if lang == language), None) or (
            self.templates
        )


def telegram_section(table: Mapping[str, Any]) -> Telegram:
    d = Telegram()
    mode = read_str(table, "mode", d.mode, "telegram")
    if mode not in ("polling", "webhook"):
        raise ConfigError(f"Config 'telegram.mode' has value {mode!r}. Use 'polling' or 'webhook'.")
    token = read_str(table, "token", "", "telegram")
    enabled = read_bool(table, "enabled", bool(token), "telegram")
    if enabled and not token:
        raise ConfigError(
            "Config 'telegram.token' is empty. "
            "Set it, or the environment variable LK3_TELEGRAM_TOKEN."
        )
    webhook_url = read_url(table, "webhook_url", "", "telegram")
    secret = read_str(table, "webhook_secret", "", "telegram")
    if enabled and mode == "webhook" and (not webhook_url or len(secret) < 16):
        raise ConfigError(
            "Config 'telegram.mode' is 'webhook': 'telegram.webhook_url' and a "
            "'telegram.webhook_secret' of at least 16 characters are required."
        )
    return Telegram(
        enabled=enabled,
        token=token,
        mode=mode,
        webhook_url=webhook_url,
        webhook_secret=secret,
        api_base_url=read_url(table, "api_base_url", d.api_base_url, "telegram"),
    )


def whatsapp_section(table: Mapping[str, Any]) -> WhatsApp:
    d = WhatsApp()
    sid = read_str(table, "account_sid", "", "whatsapp")
    token = read_str(table, "auth_token", "", "whatsapp")
    enabled = read_bool(table, "enabled", bool(sid and token), "whatsapp")
    sender = read_str(table, "from_number", "", "whatsapp")
    if enabled:
        if not sid or not token:
            raise ConfigError(
                "Config 'whatsapp.account_sid' and 'whatsapp.auth_token' are required when "
                "WhatsApp is enabled (or LK3_TWILIO_ACCOUNT_SID / LK3_TWILIO_AUTH_TOKEN)."
            )
        if not sender.startswith("whatsapp:+"):
            raise ConfigError("Config 'whatsapp.from_number' must look like 'whatsapp:+62…'.")
    templates = table.get("templates", {})
    if not isinstance(templates, dict):
        raise ConfigError("Config 'whatsapp.templates' must be a table of content template SIDs.")
    default = _templates(templates, WhatsAppTemplates(), "whatsapp.templates")
    by_language = tuple(
        (lang, _templates(templates[lang], default, f"whatsapp.templates.{lang}"))
        for lang in KNOWN_LANGUAGES
        if lang in templates
    )
    return WhatsApp(
        enabled=enabled,
        account_sid=sid,
        auth_token=token,
        from_number=sender,
        api_base_url=read_url(table, "api_base_url", d.api_base_url, "whatsapp"),
        templates=default,
        templates_by_language=by_language,
    )


_TEMPLATE_KEYS = ("reminder", "new_message", "follow_up")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


def _template_sid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _CONTENT_SID.fullmatch(value):
        raise ConfigError(
            f"Config '{where}' has value {value!r}. Not a content template SID "
            "('HX' and 32 hexadecimal digits, from Twilio's Content Template Builder)."
        )
    return value


def _templates(table: Any, base: WhatsAppTemplates, where: str) -> WhatsAppTemplates:
    """One set of template SIDs; keys not given are taken from `base`."""
    if not isinstance(table, dict):
        raise ConfigError(f"Config '{where}' must be a table of content template SIDs.")
    nested = set(KNOWN_LANGUAGES) if where == "whatsapp.templates" else set()
    for key in table:
        if key not in (*_TEMPLATE_KEYS, "choices") and key not in nested:
            raise ConfigError(
                f"Config '{where}.{key}' is not a known setting (see config.example.toml)"
            )
    sids = {k: _template_sid(table[k], f"{where}.{k}") for k in _TEMPLATE_KEYS if k in table}
    choices = dict(base.choices)
    raw = table.get("choices", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"Config '{where}.choices' must be a table like {{ 2 = \"HX…\" }}.")
    for count, sid in raw.items():
        if not digits(str(count)) or not 1 <= int(count) <= 10:
            raise ConfigError(
                f"Config '{where}.choices' has key {count!r}. Use a number of choices, 1 to 10."
            )
        choices[int(count)] = _template_sid(sid, f"{where}.choices.{count}")
    return WhatsAppTemplates(
        reminder=sids.get("reminder", base.reminder),
        new_message=sids.get("new_message", base.new_message),
        follow_up=sids.get("follow_up", base.follow_up),
        choices=tuple(sorted(choices.items())),
    )

"""Configuration: one TOML file, secrets optionally from the environment.

Every setting has a default that runs the bot on the embedded store, so
`lk3 chat` works with no file at all. A bad value stops start-up with a
`ConfigError` that names the key and what is wrong with its value, never
the value itself when the key holds a secret.

    ConfigError
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import BotError
from flows.effects import BOOKING_MODES

__all__ = [
    "NO_CHANNEL",
    "BookingSettings",
    "Config",
    "ConfigError",
    "Escalation",
    "Hotline",
    "Office",
    "Retention",
    "Telegram",
    "WhatsApp",
    "WhatsAppTemplates",
    "Web",
    "load_config",
]

_KNOWN_LANGUAGES = ("id", "en")


class ConfigError(BotError):
    """A setting is missing, unknown or has a value the bot cannot use."""


@dataclass(frozen=True, slots=True)
class Hotline:
    name: str
    number: str


@dataclass(frozen=True, slots=True)
class Office:
    name: str = "LK3 Kota Ambon"
    address: str = "Dinas Sosial Kota Ambon, Jl. Sultan Hasanudin, Kota Ambon, Maluku"
    hours: str = "Senin–Jumat, 08.00–16.00 WIT"
    hours_en: str = "Monday–Friday, 08:00–16:00 WIT"
    phone: str = ""
    timezone: str = "Asia/Jayapura"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Retention:
    closed_case_days: int = 365
    first_contact_days: int = 30
    log_days: int = 14


@dataclass(frozen=True, slots=True)
class Escalation:
    realert_minutes: int = 5
    widen_after_minutes: int = 15
    remind_family_minutes: int = 10


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


@dataclass(frozen=True, slots=True)
class Web:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    # The operator console at /console/ (served whenever the web server runs).
    console: bool = True
    # The public web chat at /chat (a family talks to the bot from a browser).
    webchat: bool = False


REMINDER_WORDINGS = ("discreet", "detailed")


@dataclass(frozen=True, slots=True)
class BookingSettings:
    """How consultations are booked; see `[booking]` in config.example.toml."""

    modes: tuple[str, ...] = BOOKING_MODES
    slot_minutes: int = 60
    lead_hours: int = 2
    horizon_days: int = 14
    urgent_share: float = 0.25
    urgent_release_hours: int = 3
    hold_minutes: int = 10
    reminder_wording: str = "discreet"


NO_CHANNEL = (
    "no channel is enabled; set [telegram] token in the configuration "
    "(or the environment variable LK3_TELEGRAM_TOKEN), or [whatsapp] account_sid, "
    "auth_token and from_number (or LK3_TWILIO_ACCOUNT_SID / LK3_TWILIO_AUTH_TOKEN), "
    "or [web] webchat = true"
)


@dataclass(frozen=True, slots=True)
class Config:
    office: Office = Office()
    languages: tuple[str, ...] = ("id", "en")
    hotlines: tuple[Hotline, ...] = (
        Hotline("SAPA 129 (Kementerian PPPA)", "129"),
        Hotline("WhatsApp SAPA", "08111-129-129"),
        Hotline("Darurat / Emergency", "112"),
        Hotline("Polisi / Police", "110"),
    )
    consent_version: str = "2026-12"
    data_dir: Path = Path("var")
    key_file: Path | None = None
    flows_dir: Path | None = None
    max_message_chars: int = 2000
    retention: Retention = Retention()
    escalation: Escalation = Escalation()
    telegram: Telegram = Telegram()
    whatsapp: WhatsApp = WhatsApp()
    web: Web = Web()
    booking: BookingSettings = BookingSettings()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "lk3.db"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file if self.key_file is not None else self.data_dir / "master.key"

    @property
    def channels(self) -> tuple[str, ...]:
        """The names of the channels enabled, as `bot.channels.registry` builds them."""
        enabled = (
            ("telegram", self.telegram.enabled),
            ("whatsapp", self.whatsapp.enabled),
            ("webchat", self.web.webchat),
        )
        return tuple(name for name, on in enabled if on)

    def hotline_text(self) -> str:
        """The hotline list as one block of lines, for the `{hotlines}` placeholder."""
        return "\n".join(f"• {h.name}: {h.number}" for h in self.hotlines)

    def context_values(self, language: str) -> dict[str, str]:
        """The placeholder values flows may use, in the given language."""
        hours = (
            self.office.hours_en if language == "en" and self.office.hours_en else self.office.hours
        )
        return {
            "office_name": self.office.name,
            "office_address": self.office.address,
            "office_hours": hours,
            "office_phone": self.office.phone or "-",
            "hotlines": self.hotline_text(),
            "consent_version": self.consent_version,
            "retention_case_days": str(self.retention.closed_case_days),
            "retention_first_contact_days": str(self.retention.first_contact_days),
        }


# --- loading -----------------------------------------------------------------

_SECTIONS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "languages",
            "consent_version",
            "data_dir",
            "key_file",
            "flows_dir",
            "max_message_chars",
            "office",
            "hotlines",
            "retention",
            "escalation",
            "telegram",
            "whatsapp",
            "web",
            "booking",
        }
    ),
    "office": frozenset({"name", "address", "hours", "hours_en", "phone", "timezone"}),
    "retention": frozenset({"closed_case_days", "first_contact_days", "log_days"}),
    "escalation": frozenset({"realert_minutes", "widen_after_minutes", "remind_family_minutes"}),
    "telegram": frozenset(
        {"enabled", "token", "mode", "webhook_url", "webhook_secret", "api_base_url"}
    ),
    "whatsapp": frozenset(
        {"enabled", "account_sid", "auth_token", "from_number", "api_base_url", "templates"}
    ),
    "web": frozenset({"host", "port", "public_url", "console", "webchat"}),
    "booking": frozenset(
        {
            "modes",
            "slot_minutes",
            "lead_hours",
            "horizon_days",
            "urgent_share",
            "urgent_release_hours",
            "hold_minutes",
            "reminder_wording",
        }
    ),
}

# Secrets may come from the environment instead of the file; the environment wins.
_ENV_SECRETS: dict[tuple[str, str], str] = {
    ("telegram", "token"): "LK3_TELEGRAM_TOKEN",
    ("telegram", "webhook_secret"): "LK3_TELEGRAM_WEBHOOK_SECRET",
    ("whatsapp", "account_sid"): "LK3_TWILIO_ACCOUNT_SID",
    ("whatsapp", "auth_token"): "LK3_TWILIO_AUTH_TOKEN",
}


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """Reads and validates the configuration file (None: defaults only)."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
    return _build(raw, env, base=path.parent if path is not None else Path("."))


def _build(raw: dict[str, Any], env: Mapping[str, str], base: Path) -> Config:
    _check_keys("", raw)
    for section in ("office", "retention", "escalation", "telegram", "whatsapp", "web", "booking"):
        value = raw.get(section, {})
        if not isinstance(value, dict):
            raise ConfigError(f"Config '{section}' must be a table, not {type(value).__name__}")
        _check_keys(section, value)
    sections = {s: dict(raw.get(s, {})) for s in _SECTIONS if s}
    for (section, key), var in _ENV_SECRETS.items():
        if env.get(var):
            sections[section][key] = env[var]

    default = Config()
    office = _office(sections["office"])
    languages = _languages(raw.get("languages", list(default.languages)))
    hotlines = _hotlines(raw["hotlines"]) if "hotlines" in raw else default.hotlines
    data_dir = _path(raw, "data_dir", base) or default.data_dir
    if "LK3_DATA_DIR" in env:
        data_dir = Path(env["LK3_DATA_DIR"])
    telegram = _telegram(sections["telegram"])
    whatsapp = _whatsapp(sections["whatsapp"])
    web = _web(sections["web"])
    if whatsapp.enabled and not web.public_url:
        raise ConfigError(
            "Config 'web.public_url' is empty. WhatsApp needs the https address Twilio calls "
            "(for example 'https://lk3.example.org'); webhooks are checked against it."
        )
    return Config(
        office=office,
        languages=languages,
        hotlines=hotlines,
        consent_version=_str(raw, "consent_version", default.consent_version),
        data_dir=data_dir,
        key_file=_path(raw, "key_file", base),
        flows_dir=_path(raw, "flows_dir", base),
        max_message_chars=_int(
            raw, "max_message_chars", default.max_message_chars, lo=200, hi=20000
        ),
        retention=Retention(
            closed_case_days=_int(
                sections["retention"], "closed_case_days", 365, 1, 3650, "retention"
            ),
            first_contact_days=_int(
                sections["retention"], "first_contact_days", 30, 1, 3650, "retention"
            ),
            log_days=_int(sections["retention"], "log_days", 14, 1, 365, "retention"),
        ),
        escalation=Escalation(
            realert_minutes=_int(
                sections["escalation"], "realert_minutes", 5, 1, 120, "escalation"
            ),
            widen_after_minutes=_int(
                sections["escalation"], "widen_after_minutes", 15, 1, 240, "escalation"
            ),
            remind_family_minutes=_int(
                sections["escalation"], "remind_family_minutes", 10, 1, 240, "escalation"
            ),
        ),
        telegram=telegram,
        whatsapp=whatsapp,
        web=web,
        booking=_booking(sections["booking"]),
    )


def _check_keys(section: str, table: Mapping[str, Any]) -> None:
    allowed = _SECTIONS[section]
    for key in table:
        if key not in allowed:
            where = f"{section}.{key}" if section else key
            raise ConfigError(f"Config '{where}' is not a known setting (see config.example.toml)")


def _name(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _str(table: Mapping[str, Any], key: str, default: str, section: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(
            f"Config '{_name(section, key)}' must be a string, not {type(value).__name__}"
        )
    return value


def _bool(table: Mapping[str, Any], key: str, default: bool, section: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"Config '{_name(section, key)}' has value {value!r}. Not true or false.")
    return value


def _int(
    table: Mapping[str, Any], key: str, default: int, lo: int, hi: int, section: str = ""
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"Config '{_name(section, key)}' has value {value!r}. Not a valid integer."
        )
    if not lo <= value <= hi:
        raise ConfigError(
            f"Config '{_name(section, key)}' has value {value}. It must be between {lo} and {hi}."
        )
    return value


def _path(table: Mapping[str, Any], key: str, base: Path) -> Path | None:
    if key not in table:
        return None
    value = _str(table, key, "")
    if not value:
        raise ConfigError(f"Config '{key}' is empty. Give a path or leave the setting out.")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _office(table: Mapping[str, Any]) -> Office:
    d = Office()
    tz = _str(table, "timezone", d.timezone, "office")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"Config 'office.timezone' has value {tz!r}. Not a known time zone "
            "(Maluku is 'Asia/Jayapura')."
        ) from None
    name = _str(table, "name", d.name, "office").strip()
    if not name:
        raise ConfigError("Config 'office.name' is empty. Families see it in every greeting.")
    return Office(
        name=name,
        address=_str(table, "address", d.address, "office"),
        hours=_str(table, "hours", d.hours, "office"),
        hours_en=_str(table, "hours_en", d.hours_en, "office"),
        phone=_str(table, "phone", d.phone, "office"),
        timezone=tz,
    )


def _languages(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"Config 'languages' has value {value!r}. Not a list of language codes.")
    for code in value:
        if code not in _KNOWN_LANGUAGES:
            raise ConfigError(
                f"Config 'languages' has value {code!r}. Known languages: "
                + ", ".join(_KNOWN_LANGUAGES)
            )
    if len(set(value)) != len(value):
        raise ConfigError("Config 'languages' lists a language twice.")
    return tuple(value)


def _hotlines(value: Any) -> tuple[Hotline, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError("Config 'hotlines' must be a non-empty list of {name, number} tables.")
    out: list[Hotline] = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"name", "number"}:
            raise ConfigError(f"Config 'hotlines[{i}]' must be a table with 'name' and 'number'.")
        name, number = item["name"], item["number"]
        if not isinstance(name, str) or not isinstance(number, str) or not name or not number:
            raise ConfigError(f"Config 'hotlines[{i}]' needs a non-empty name and number as text.")
        out.append(Hotline(name, number))
    return tuple(out)


def _url(table: Mapping[str, Any], key: str, default: str, section: str) -> str:
    value = _str(table, key, default, section)
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"Config '{section}.{key}' has value {value!r}. Not an http(s) URL.")
    return value


def _telegram(table: Mapping[str, Any]) -> Telegram:
    d = Telegram()
    mode = _str(table, "mode", d.mode, "telegram")
    if mode not in ("polling", "webhook"):
        raise ConfigError(f"Config 'telegram.mode' has value {mode!r}. Use 'polling' or 'webhook'.")
    token = _str(table, "token", "", "telegram")
    enabled = _bool(table, "enabled", bool(token), "telegram")
    if enabled and not token:
        raise ConfigError(
            "Config 'telegram.token' is empty. "
            "Set it, or the environment variable LK3_TELEGRAM_TOKEN."
        )
    webhook_url = _url(table, "webhook_url", "", "telegram")
    secret = _str(table, "webhook_secret", "", "telegram")
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
        api_base_url=_url(table, "api_base_url", d.api_base_url, "telegram"),
    )


def _whatsapp(table: Mapping[str, Any]) -> WhatsApp:
    d = WhatsApp()
    sid = _str(table, "account_sid", "", "whatsapp")
    token = _str(table, "auth_token", "", "whatsapp")
    enabled = _bool(table, "enabled", bool(sid and token), "whatsapp")
    sender = _str(table, "from_number", "", "whatsapp")
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
        for lang in _KNOWN_LANGUAGES
        if lang in templates
    )
    return WhatsApp(
        enabled=enabled,
        account_sid=sid,
        auth_token=token,
        from_number=sender,
        api_base_url=_url(table, "api_base_url", d.api_base_url, "whatsapp"),
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
    nested = set(_KNOWN_LANGUAGES) if where == "whatsapp.templates" else set()
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
        if not str(count).isdigit() or not 1 <= int(count) <= 10:
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


def _web(table: Mapping[str, Any]) -> Web:
    d = Web()
    return Web(
        host=_str(table, "host", d.host, "web"),
        port=_int(table, "port", d.port, 1, 65535, "web"),
        public_url=_url(table, "public_url", "", "web"),
        console=_bool(table, "console", d.console, "web"),
        webchat=_bool(table, "webchat", d.webchat, "web"),
    )


def _booking(table: Mapping[str, Any]) -> BookingSettings:
    d = BookingSettings()
    modes = table.get("modes", list(d.modes))
    if not isinstance(modes, list) or not modes or not all(isinstance(m, str) for m in modes):
        raise ConfigError(f"Config 'booking.modes' has value {modes!r}. Not a list of modes.")
    for mode in modes:
        if mode not in BOOKING_MODES:
            raise ConfigError(
                f"Config 'booking.modes' has value {mode!r}. Known modes: "
                + ", ".join(BOOKING_MODES)
            )
    if len(set(modes)) != len(modes):
        raise ConfigError("Config 'booking.modes' lists a mode twice.")
    share = table.get("urgent_share", d.urgent_share)
    if isinstance(share, bool) or not isinstance(share, int | float):
        raise ConfigError(f"Config 'booking.urgent_share' has value {share!r}. Not a number.")
    if not 0 <= share <= 0.9:
        raise ConfigError(
            f"Config 'booking.urgent_share' has value {share}. It must be between 0 and 0.9."
        )
    wording = _str(table, "reminder_wording", d.reminder_wording, "booking")
    if wording not in REMINDER_WORDINGS:
        raise ConfigError(
            f"Config 'booking.reminder_wording' has value {wording!r}. "
            "Use 'discreet' (nothing about the problem) or 'detailed'."
        )
    return BookingSettings(
        modes=tuple(modes),
        slot_minutes=_int(table, "slot_minutes", d.slot_minutes, 15, 240, "booking"),
        lead_hours=_int(table, "lead_hours", d.lead_hours, 0, 168, "booking"),
        horizon_days=_int(table, "horizon_days", d.horizon_days, 1, 90, "booking"),
        urgent_share=float(share),
        urgent_release_hours=_int(
            table, "urgent_release_hours", d.urgent_release_hours, 0, 72, "booking"
        ),
        hold_minutes=_int(table, "hold_minutes", d.hold_minutes, 1, 60, "booking"),
        reminder_wording=wording,
    )

"""Configuration: one TOML file, secrets optionally from the environment.

Every setting has a default that runs the bot on the embedded store, so
`lk3 chat` works with no file at all. A bad value stops start-up with a
`ConfigError` that names the key and what is wrong with its value, never
the value itself when the key holds a secret. Reading one typed value is in
`bot.configvalues`, the channel sections in `bot.channelconfig`; this module
holds the whole (`Config`) and re-exports their names.

    ConfigError (bot.configvalues)
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.channelconfig import (
    Telegram,
    WhatsApp,
    WhatsAppTemplates,
    telegram_section,
    whatsapp_section,
)
from bot.clientaddr import LOOPBACK, parse_networks
from bot.configvalues import (
    KNOWN_LANGUAGES,
    ConfigError,
    read_bool,
    read_int,
    read_str,
    read_url,
)
from bot.figures.config import FiguresSettings, figures_section
from bot.keyplaces import check_key_places
from bot.monitorconfig import (
    MONITORING_ENV_SECRETS,
    MONITORING_SECTIONS,
    Alerts,
    Health,
    Metrics,
    alerts_section,
    health_section,
    metrics_section,
)
from bot.officechannels import check_office_channels, instance_names
from bot.officeconfig import OfficeProfile, offices_section
from bot.officesection import Hotline, Office, hotlines_setting, office_section
from bot.storable import UnstorableText, check_storable_tree
from flows.effects import BOOKING_MODES

__all__ = [
    "NO_CHANNEL",
    "BookingSettings",
    "Config",
    "ConfigError",
    "Alerts",
    "Escalation",
    "Health",
    "Hotline",
    "Metrics",
    "Office",
    "Retention",
    "Telegram",
    "WhatsApp",
    "WhatsAppTemplates",
    "Web",
    "load_config",
]


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
class Web:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    # The operator console at /console/ (served whenever the web server runs).
    console: bool = True
    # The public web chat at /chat (a family talks to the bot from a browser).
    webchat: bool = False
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For is believed
    # (bot/clientaddr.py); from anyone else the header is ignored. By default a proxy on
    # this machine (loopback): a bot reached directly never gets a remote client from it.
    trusted_proxies: tuple[str, ...] = LOOPBACK
    # The largest request body the web server reads (KiB); the web chat's own is smaller.
    max_body_kib: int = 1024


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
        Hotline(
            "SAPA 129 (Kementerian PPPA)",
            "129",
            "kekerasan terhadap perempuan dan anak",
            "violence against women and children",
        ),
        Hotline(
            "WhatsApp SAPA",
            "08111-129-129",
            "melapor lewat WhatsApp",
            "to report by WhatsApp",
        ),
        Hotline("Darurat / Emergency", "112", "semua keadaan darurat", "any emergency"),
        Hotline(
            "Ambulans / Ambulance",
            "119",
            "darurat kesehatan, luka, keracunan",
            "health emergencies, injuries, poisoning",
        ),
        Hotline(
            "Polisi / Police",
            "110",
            "bahaya dari orang lain, kejahatan",
            "danger from someone, a crime",
        ),
    )
    # `[offices.<code>]`: a province's other offices, each its own words (bot.officeconfig).
    offices: tuple[OfficeProfile, ...] = ()
    consent_version: str = "2026-12-07"
    data_dir: Path = Path("var")
    key_file: Path | None = None
    keys_dir: Path | None = None
    backup_dir: Path | None = None
    flows_dir: Path | None = None
    # `[storage] url`: a PostgreSQL database instead of SQLite in the data folder.
    storage_url: str | None = None
    max_message_chars: int = 2000
    retention: Retention = Retention()
    escalation: Escalation = Escalation()
    telegram: Telegram = Telegram()
    whatsapp: WhatsApp = WhatsApp()
    web: Web = Web()
    booking: BookingSettings = BookingSettings()
    health: Health = Health()
    metrics: Metrics = Metrics()
    alerts: Alerts = Alerts()
    figures: FiguresSettings = FiguresSettings()  # [webhooks.<name>]

    @property
    def database_path(self) -> Path:
        return self.data_dir / "lk3.db"

    @property
    def keys_folder(self) -> Path:
        """The master key file and the key tree: never inside the database's backups.

        By default a folder beside the data folder (`var` → `var-keys`), not inside it:
        a naive nightly copy of the data folder must not carry the keys with the
        database, or every erased family would stay readable in the copies.
        """
        if self.keys_dir is not None:
            return self.keys_dir
        data = self.data_dir.absolute()
        return data.with_name(data.name + KEYS_SUFFIX)

    @property
    def resolved_key_file(self) -> Path:
        """The master key file: `key_file`, else in the keys folder.

        A data folder from before the keys folder keeps its key beside the database
        until `lk3 run` moves it (bot.keyfolder): read there while it is still there.
        """
        if self.key_file is not None:
            return self.key_file
        return _current(self.keys_folder / KEY_FILE_NAME, self.data_dir / KEY_FILE_NAME)

    @property
    def keytree_path(self) -> Path:
        """The key tree (storage.crypto.keytree): in the keys folder, or where an older data
        folder still keeps it (beside the database)."""
        return _current(self.keys_folder / KEYTREE_NAME, self.data_dir / KEYTREE_NAME)

    @property
    def backups_folder(self) -> Path:
        """Where `lk3 db backup --dated` (and `lk3 run` before a migration) write copies."""
        return self.backup_dir if self.backup_dir is not None else self.data_dir / BACKUPS_FOLDER

    @property
    def channels(self) -> tuple[str, ...]:
        """The names of the channels enabled, as `bot.channels.registry` builds them."""
        return instance_names(self)  # `telegram`, `telegram:tual`, ... (bot.officechannels)

    def for_office(self, code: str) -> Config:
        """This configuration as one office's families see it (its name, hours, hotlines);
        the default office's, or an office without a section, is this one."""
        for profile in self.offices:
            if profile.code == code:
                return dataclasses.replace(self, office=profile.office, hotlines=profile.hotlines)
        return self

    def hotline_text(self, language: str = "id") -> str:
        """The hotline list as one block of lines, for the `{hotlines}` placeholder."""
        return "\n".join(h.line(language) for h in self.hotlines)

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
            "hotlines": self.hotline_text(language),
            "consent_version": self.consent_version,
            "retention_case_days": str(self.retention.closed_case_days),
            "retention_first_contact_days": str(self.retention.first_contact_days),
        }


KEYS_SUFFIX = "-keys"  # the keys folder beside the data folder: `<data_dir>-keys`
BACKUPS_FOLDER = "backups"
KEY_FILE_NAME = "master.key"
KEYTREE_NAME = "lk3.keytree"


def _current(new: Path, old: Path) -> Path:
    """`new`, unless only `old` exists (a data folder laid out before the keys folder)."""
    return old if not new.exists() and old.exists() else new


# --- loading -----------------------------------------------------------------

_SECTIONS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "languages",
            "consent_version",
            "data_dir",
            "key_file",
            "keys_dir",
            "backup_dir",
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
            *MONITORING_SECTIONS,
            "storage",
            "offices",
            "webhooks",
        }
    ),
    **MONITORING_SECTIONS,
    "storage": frozenset({"url"}),
    "office": frozenset({"name", "address", "hours", "hours_en", "phone", "timezone"}),
    "retention": frozenset({"closed_case_days", "first_contact_days", "log_days"}),
    "escalation": frozenset({"realert_minutes", "widen_after_minutes", "remind_family_minutes"}),
    "telegram": frozenset(
        {"enabled", "token", "mode", "webhook_url", "webhook_secret", "api_base_url"}
    ),
    "whatsapp": frozenset(
        {"enabled", "account_sid", "auth_token", "from_number", "api_base_url", "templates"}
    ),
    "web": frozenset(
        {"host", "port", "public_url", "console", "webchat", "trusted_proxies", "max_body_kib"}
    ),
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
    **MONITORING_ENV_SECRETS,
    ("storage", "url"): "LK3_STORAGE_URL",  # it may hold the database's password
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
    config = _build(raw, env, base=path.parent if path is not None else Path("."))
    check_key_places(
        data_dir=config.data_dir,
        backups=config.backups_folder,
        keys_dir=config.keys_dir,
        key_file=config.key_file,
    )
    return config


def _build(raw: dict[str, Any], env: Mapping[str, str], base: Path) -> Config:
    try:  # a NUL cannot be stored (bot.storable): refused here, named, never echoed
        check_storable_tree(raw, "")
        check_storable_tree({v: env[v] for v in _ENV_SECRETS.values() if env.get(v)}, "")
    except UnstorableText as exc:
        raise ConfigError(f"Config: {exc}") from None
    _check_keys("", raw)
    for section in (s for s in _SECTIONS if s):
        value = raw.get(section, {})
        if not isinstance(value, dict):
            raise ConfigError(f"Config '{section}' must be a table, not {type(value).__name__}")
        _check_keys(section, value)
    sections = {s: dict(raw.get(s, {})) for s in _SECTIONS if s}
    if not isinstance(raw.get("webhooks", {}), dict):  # its tables: bot.figures.config
        raise ConfigError("Config 'webhooks' must be a table")
    for (section, key), var in _ENV_SECRETS.items():
        if env.get(var):
            sections[section][key] = env[var]

    default = Config()
    office = office_section(sections["office"])
    languages = _languages(raw.get("languages", list(default.languages)))
    hotlines = hotlines_setting(raw["hotlines"]) if "hotlines" in raw else default.hotlines
    offices = offices_section(raw.get("offices", {}), office, hotlines, hotlines_setting, env)
    data_dir = _path(raw, "data_dir", base) or default.data_dir
    if "LK3_DATA_DIR" in env:
        data_dir = Path(env["LK3_DATA_DIR"])
    telegram = telegram_section(sections["telegram"])
    whatsapp = whatsapp_section(sections["whatsapp"])
    web = _web(sections["web"])
    offices = check_office_channels(offices, telegram, whatsapp)  # each office's own bot
    if whatsapp.enabled and not web.public_url:
        raise ConfigError(
            "Config 'web.public_url' is empty. WhatsApp needs the https address Twilio calls "
            "(for example 'https://lk3.example.org'); webhooks are checked against it."
        )
    return Config(
        office=office,
        languages=languages,
        hotlines=hotlines,
        offices=offices,
        consent_version=read_str(raw, "consent_version", default.consent_version),
        data_dir=data_dir,
        key_file=_path(raw, "key_file", base),
        keys_dir=Path(env["LK3_KEYS_DIR"])
        if env.get("LK3_KEYS_DIR")
        else _path(raw, "keys_dir", base),
        backup_dir=(
            Path(env["LK3_BACKUP_DIR"])
            if env.get("LK3_BACKUP_DIR")
            else _path(raw, "backup_dir", base)
        ),
        flows_dir=_path(raw, "flows_dir", base),
        max_message_chars=read_int(
            raw, "max_message_chars", default.max_message_chars, lo=200, hi=20000
        ),
        retention=Retention(
            closed_case_days=read_int(
                sections["retention"], "closed_case_days", 365, 1, 3650, "retention"
            ),
            first_contact_days=read_int(
                sections["retention"], "first_contact_days", 30, 1, 3650, "retention"
            ),
            log_days=read_int(sections["retention"], "log_days", 14, 1, 365, "retention"),
        ),
        escalation=Escalation(
            realert_minutes=read_int(
                sections["escalation"], "realert_minutes", 5, 1, 120, "escalation"
            ),
            widen_after_minutes=read_int(
                sections["escalation"], "widen_after_minutes", 15, 1, 240, "escalation"
            ),
            remind_family_minutes=read_int(
                sections["escalation"], "remind_family_minutes", 10, 1, 240, "escalation"
            ),
        ),
        telegram=telegram,
        whatsapp=whatsapp,
        web=web,
        booking=_booking(sections["booking"]),
        health=health_section(sections["health"]),
        metrics=metrics_section(sections["metrics"]),
        alerts=alerts_section(sections["alerts"]),
        storage_url=_storage_url(sections["storage"]),
        figures=figures_section(raw.get("webhooks", {}), env),
    )


def _storage_url(table: Mapping[str, Any]) -> str | None:
    """`[storage] url`: empty or absent means SQLite in the data folder."""
    url = read_str(table, "url", "", "storage").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("Config 'storage.url' must start with postgresql:// (or be left out)")
    return url


def _check_keys(section: str, table: Mapping[str, Any]) -> None:
    allowed = _SECTIONS[section]
    for key in table:
        if key not in allowed:
            where = f"{section}.{key}" if section else key
            raise ConfigError(f"Config '{where}' is not a known setting (see config.example.toml)")


def _path(table: Mapping[str, Any], key: str, base: Path) -> Path | None:
    if key not in table:
        return None
    value = read_str(table, key, "")
    if not value:
        raise ConfigError(f"Config '{key}' is empty. Give a path or leave the setting out.")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _languages(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"Config 'languages' has value {value!r}. Not a list of language codes.")
    for code in value:
        if code not in KNOWN_LANGUAGES:
            raise ConfigError(
                f"Config 'languages' has value {code!r}. Known languages: "
                + ", ".join(KNOWN_LANGUAGES)
            )
    if len(set(value)) != len(value):
        raise ConfigError("Config 'languages' lists a language twice.")
    return tuple(value)


def _web(table: Mapping[str, Any]) -> Web:
    d = Web()
    return Web(
        host=read_str(table, "host", d.host, "web"),
        port=read_int(table, "port", d.port, 1, 65535, "web"),
        public_url=read_url(table, "public_url", "", "web"),
        console=read_bool(table, "console", d.console, "web"),
        webchat=read_bool(table, "webchat", d.webchat, "web"),
        trusted_proxies=_trusted_proxies(table.get("trusted_proxies", list(d.trusted_proxies))),
        max_body_kib=read_int(table, "max_body_kib", d.max_body_kib, 64, 64 * 1024, "web"),
    )


def _trusted_proxies(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f"Config 'web.trusted_proxies' has value {value!r}. Not a list of addresses or"
            ' CIDR networks, such as ["127.0.0.1", "10.0.0.0/8"].'
        )
    return parse_networks(value)


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
    wording = read_str(table, "reminder_wording", d.reminder_wording, "booking")
    if wording not in REMINDER_WORDINGS:
        raise ConfigError(
            f"Config 'booking.reminder_wording' has value {wording!r}. "
            "Use 'discreet' (nothing about the problem) or 'detailed'."
        )
    return BookingSettings(
        modes=tuple(modes),
        slot_minutes=read_int(table, "slot_minutes", d.slot_minutes, 15, 240, "booking"),
        lead_hours=read_int(table, "lead_hours", d.lead_hours, 0, 168, "booking"),
        horizon_days=read_int(table, "horizon_days", d.horizon_days, 1, 90, "booking"),
        urgent_share=float(share),
        urgent_release_hours=read_int(
            table, "urgent_release_hours", d.urgent_release_hours, 0, 72, "booking"
        ),
        hold_minutes=read_int(table, "hold_minutes", d.hold_minutes, 1, 60, "booking"),
        reminder_wording=wording,
    )

"""Each office its own channels: `[offices.<code>.telegram]` and `[offices.<code>.whatsapp]`.

    [offices.tual.telegram]
    token = "…"                    # or LK3_OFFICE_TUAL_TELEGRAM_TOKEN
    [offices.tual.whatsapp]
    from_number = "whatsapp:+62…"  # the same Twilio account as [whatsapp], another sender

Each becomes a channel instance, `telegram:tual` / `whatsapp:tual`
(storage.channels.instances), built by the same adapter as `[telegram]` /
`[whatsapp]` with only what differs replaced: the token (and so the webhook path,
`/telegram/tual`, and the URL Telegram is told) or the sender. Everything else
(mode, webhook secret, API address, the Twilio account and its templates) is the
default office's section's: an office adds a bot, not a second way of running one.

No `[offices.*.telegram]` or `[offices.*.whatsapp]`: the channels are exactly
`[telegram]` and `[whatsapp]`, as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.configvalues import ConfigError, read_str, read_url
from storage.channels.instances import instance_name

if TYPE_CHECKING:
    from bot.channelconfig import Telegram, WhatsApp
    from bot.config import Config
    from bot.officeconfig import OfficeProfile

__all__ = [
    "DEFAULT_WEBHOOK_PATH",
    "OfficeChannels",
    "check_office_channels",
    "instance_names",
    "office_channels_section",
    "telegram_settings",
    "telegram_webhook_path",
    "token_variable",
    "whatsapp_settings",
]

DEFAULT_WEBHOOK_PATH = "/telegram/webhook"  # bot.channels.telegram.protocol.WEBHOOK_PATH


@dataclass(frozen=True, slots=True)
class OfficeChannels:
    """One office's own bot token and WhatsApp sender ("" where it has none)."""

    telegram_token: str = field(default="", repr=False)
    telegram_webhook_url: str = ""  # given, or derived from [telegram] webhook_url
    whatsapp_from: str = ""


def token_variable(code: str) -> str:
    """The environment variable that may hold office `code`'s bot token."""
    return f"LK3_OFFICE_{code.upper().replace('-', '_')}_TELEGRAM_TOKEN"


def telegram_webhook_path(office: str) -> str:
    """Where a Telegram instance takes its webhook posts: one path per bot token."""
    return f"/telegram/{office}" if office else DEFAULT_WEBHOOK_PATH


def office_channels_section(
    code: str, table: Mapping[str, Any], env: Mapping[str, str]
) -> OfficeChannels:
    """An office's `telegram` and `whatsapp` tables (each optional)."""
    where = f"offices.{code}"
    telegram = _table(table, "telegram", where, {"token", "webhook_url"})
    whatsapp = _table(table, "whatsapp", where, {"from_number"})
    token = env.get(token_variable(code)) or read_str(telegram, "token", "", f"{where}.telegram")
    sender = read_str(whatsapp, "from_number", "", f"{where}.whatsapp")
    if "from_number" in whatsapp and not sender.startswith("whatsapp:+"):
        raise ConfigError(f"Config '{where}.whatsapp.from_number' must look like 'whatsapp:+62…'.")
    return OfficeChannels(
        telegram_token=token,
        telegram_webhook_url=read_url(telegram, "webhook_url", "", f"{where}.telegram"),
        whatsapp_from=sender,
    )


def _table(table: Mapping[str, Any], key: str, where: str, keys: set[str]) -> Mapping[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"Config '{where}.{key}' must be a table, for example [{where}.{key}].")
    for name in value:
        if name not in keys:
            raise ConfigError(
                f"Config '{where}.{key}.{name}' is not a known setting; it may set "
                + ", ".join(sorted(keys))
                + f" (the rest is [{key}]'s)"
            )
    return value


def check_office_channels(
    offices: Sequence[OfficeProfile], telegram: Telegram, whatsapp: WhatsApp
) -> tuple[OfficeProfile, ...]:
    """The offices with their webhook URLs filled in; refuses what cannot run.

    A token or a sender used twice would put two offices' families in one chat (or
    two pollers on one token, which Telegram refuses); an office's sender needs the
    Twilio account of `[whatsapp]`; webhook mode needs a URL per bot.
    """
    tokens = {telegram.token} - {""}
    senders = {whatsapp.from_number} - {""} if whatsapp.enabled else set()
    out: list[OfficeProfile] = []
    for profile in offices:
        own, where = profile.channels, f"offices.{profile.code}"
        if own.telegram_token:
            if own.telegram_token in tokens:
                raise ConfigError(
                    f"Config '{where}.telegram.token' is a token another office (or [telegram])"
                    " uses already; each office's bot has its own token."
                )
            tokens.add(own.telegram_token)
            own = _webhook(own, profile.code, telegram, where)
        if own.whatsapp_from:
            if not whatsapp.enabled:
                raise ConfigError(
                    f"Config '{where}.whatsapp.from_number' needs [whatsapp] enabled: an office's"
                    " sender is another number on the same Twilio account."
                )
            if own.whatsapp_from in senders:
                raise ConfigError(
                    f"Config '{where}.whatsapp.from_number' is a number another office (or"
                    " [whatsapp]) sends from already; each office has its own sender."
                )
            senders.add(own.whatsapp_from)
        out.append(dataclasses.replace(profile, channels=own))
    return tuple(out)


def _webhook(own: OfficeChannels, code: str, telegram: Telegram, where: str) -> OfficeChannels:
    if telegram.mode != "webhook":
        return own
    if code == "webhook":
        raise ConfigError(f"Config '{where}.telegram': the path /telegram/webhook is [telegram]'s.")
    url = own.telegram_webhook_url
    if not url and telegram.webhook_url.endswith(DEFAULT_WEBHOOK_PATH):
        url = telegram.webhook_url.removesuffix(DEFAULT_WEBHOOK_PATH) + telegram_webhook_path(code)
    if not url or len(telegram.webhook_secret) < 16:
        raise ConfigError(
            f"Config 'telegram.mode' is 'webhook': office {code}'s bot needs "
            f"'{where}.telegram.webhook_url' (or a 'telegram.webhook_url' ending in "
            f"{DEFAULT_WEBHOOK_PATH}, from which https://…/telegram/{code} is made) and a "
            "'telegram.webhook_secret' of at least 16 characters."
        )
    return dataclasses.replace(own, telegram_webhook_url=url)


def instance_names(config: Config) -> tuple[str, ...]:
    """Every enabled channel's name, the default office's first within each kind."""
    offices = config.offices
    telegram = [instance_name("telegram", p.code) for p in offices if p.channels.telegram_token]
    whatsapp = [instance_name("whatsapp", p.code) for p in offices if p.channels.whatsapp_from]
    return (
        *(("telegram",) if config.telegram.enabled else ()),
        *telegram,
        *(("whatsapp",) if config.whatsapp.enabled else ()),
        *whatsapp,
        *(("webchat",) if config.web.webchat else ()),
    )


def _own(config: Config, office: str) -> OfficeChannels:
    for profile in config.offices:
        if profile.code == office:
            return profile.channels
    raise ConfigError(f"no office {office!r} is configured in [offices.*]")


def telegram_settings(config: Config, office: str) -> Telegram:
    """`[telegram]` as office `office`'s own bot runs ("": the default office's, as is)."""
    if not office:
        return config.telegram
    own = _own(config, office)
    return dataclasses.replace(
        config.telegram,
        enabled=bool(own.telegram_token),
        token=own.telegram_token,
        webhook_url=own.telegram_webhook_url,
    )


def whatsapp_settings(config: Config, office: str) -> WhatsApp:
    """`[whatsapp]` as office `office`'s own sender runs ("": the default office's, as is)."""
    if not office:
        return config.whatsapp
    own = _own(config, office)
    return dataclasses.replace(config.whatsapp, from_number=own.whatsapp_from)

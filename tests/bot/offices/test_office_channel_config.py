"""`[offices.<code>.telegram]` and `[offices.<code>.whatsapp]`: each office's own bot token
and WhatsApp sender, read and checked before anything starts (bot.officechannels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.configvalues import ConfigError
from bot.officechannels import telegram_settings, whatsapp_settings

TOKEN = "111:default-token"
TUAL_TOKEN = "222:tual-token"
WHATSAPP = (
    '[whatsapp]\naccount_sid = "AC' + "1" * 32 + '"\nauth_token = "secret"\n'
    'from_number = "whatsapp:+62911000"\n[web]\npublic_url = "https://lk3.example.org"\n'
)


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / "lk3.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=env or {})


def test_one_office_has_exactly_the_channels_it_had(tmp_path: Path) -> None:
    config = load(tmp_path, f'[telegram]\ntoken = "{TOKEN}"\n[offices.tual]\nname = "Tual"\n')
    assert config.channels == ("telegram",)
    assert telegram_settings(config, "") is config.telegram


def test_an_offices_token_makes_its_own_bot_beside_the_default_one(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\n'
        f'[offices.tual.telegram]\ntoken = "{TUAL_TOKEN}"\n'
        "[offices.malteng]\n",
    )
    assert config.channels == ("telegram", "telegram:tual")
    tual = telegram_settings(config, "tual")
    assert tual.token == TUAL_TOKEN and tual.enabled
    assert tual.api_base_url == config.telegram.api_base_url
    assert TUAL_TOKEN not in repr(config), "a token is never in a repr"


def test_the_token_may_come_from_the_environment(tmp_path: Path) -> None:
    env = {"LK3_OFFICE_MALUKU_TENGAH_TELEGRAM_TOKEN": TUAL_TOKEN}
    config = load(tmp_path, '[offices.maluku-tengah]\nname = "Malteng"\n', env)
    assert config.channels == ("telegram:maluku-tengah",), "an office's bot alone is a channel"


def test_webhook_mode_gives_an_offices_bot_its_own_url(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\nmode = "webhook"\n'
        'webhook_url = "https://lk3.example.org/telegram/webhook"\n'
        'webhook_secret = "0123456789abcdefgh"\n'
        f'[offices.tual.telegram]\ntoken = "{TUAL_TOKEN}"\n',
    )
    assert telegram_settings(config, "tual").webhook_url == "https://lk3.example.org/telegram/tual"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (f'[telegram]\ntoken = "{TOKEN}"\n[offices.tual.telegram]\ntoken = "{TOKEN}"\n', "token"),
        (
            f'[offices.tual.telegram]\ntoken = "{TUAL_TOKEN}"\n'
            f'[offices.aru.telegram]\ntoken = "{TUAL_TOKEN}"\n',
            "offices.aru.telegram.token",
        ),
        ('[offices.tual.telegram]\nowner = "x"\n', "offices.tual.telegram.owner"),
        ('[offices.tual]\ntelegram = "x"\n', "offices.tual.telegram"),
        ('[offices.tual.whatsapp]\nfrom_number = "+62911"\n', "whatsapp:+62"),
        ('[offices.tual.whatsapp]\nfrom_number = "whatsapp:+62922"\n', "[whatsapp] enabled"),
        (
            WHATSAPP + '[offices.tual.whatsapp]\nfrom_number = "whatsapp:+62911000"\n',
            "offices.tual.whatsapp.from_number",
        ),
        (
            f'[telegram]\nmode = "webhook"\n[offices.tual.telegram]\ntoken = "{TUAL_TOKEN}"\n',
            "offices.tual.telegram.webhook_url",
        ),
    ],
)
def test_what_cannot_run_stops_start_up_naming_the_setting(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    assert says in str(raised.value)
    assert TOKEN not in str(raised.value) and TUAL_TOKEN not in str(raised.value)


def test_an_offices_whatsapp_sender_is_another_number_on_the_same_account(tmp_path: Path) -> None:
    config = load(tmp_path, WHATSAPP + '[offices.tual.whatsapp]\nfrom_number = "whatsapp:+62922"\n')
    assert config.channels == ("whatsapp", "whatsapp:tual")
    tual = whatsapp_settings(config, "tual")
    assert tual.from_number == "whatsapp:+62922"
    assert tual.account_sid == config.whatsapp.account_sid
    assert tual.templates == config.whatsapp.templates

"""The configuration file: defaults that run, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_gives_runnable_defaults() -> None:
    config = load_config(None, env={})
    assert config.languages == ("id", "en")
    assert config.office.timezone == "Asia/Jayapura"
    assert config.database_path == Path("var") / "lk3.db"
    assert not config.telegram.enabled and not config.whatsapp.enabled


def test_example_file_is_valid_and_matches_defaults(tmp_path: Path) -> None:
    config = load_config(EXAMPLE, env={})
    assert config.office.name == "LK3 Kota Ambon"
    assert [h.number for h in config.hotlines] == ["129", "08111-129-129", "112", "119", "110"]
    assert config.hotlines == load_config(None, env={}).hotlines
    assert config.data_dir == EXAMPLE.parent / "var"


def test_hotlines_reach_the_flows_as_a_list() -> None:
    values = load_config(None, env={}).context_values("id")
    assert "SAPA" in values["hotlines"] and "112" in values["hotlines"]
    assert set(values) >= {"office_name", "office_address", "office_hours", "hotlines"}


def test_every_hotline_a_family_needs_is_listed_with_what_it_is_for() -> None:
    config = load_config(None, env={})
    indonesian = config.context_values("id")["hotlines"].splitlines()
    english = config.context_values("en")["hotlines"].splitlines()
    assert indonesian == [
        "• SAPA 129 (Kementerian PPPA): 129 (kekerasan terhadap perempuan dan anak)",
        "• WhatsApp SAPA: 08111-129-129 (melapor lewat WhatsApp)",
        "• Darurat / Emergency: 112 (semua keadaan darurat)",
        "• Ambulans / Ambulance: 119 (darurat kesehatan, luka, keracunan)",
        "• Polisi / Police: 110 (bahaya dari orang lain, kejahatan)",
    ]
    assert english[3] == "• Ambulans / Ambulance: 119 (health emergencies, injuries, poisoning)"


def test_a_hotline_without_a_purpose_is_listed_by_name_and_number(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[[hotlines]]\nname = 'SAPA'\nnumber = '129'"), env={})
    assert config.context_values("en")["hotlines"] == "• SAPA: 129"


def test_english_hours_are_used_for_english() -> None:
    config = load_config(None, env={})
    assert config.context_values("en")["office_hours"].startswith("Monday")


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'data_dir = "data"\nkey_file = "k/master.key"\n'), env={})
    assert config.data_dir == tmp_path / "data"
    assert config.resolved_key_file == tmp_path / "k" / "master.key"


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\nmode = "polling"\n')
    config = load_config(path, env={"LK3_TELEGRAM_TOKEN": "123:abc"})
    assert config.telegram.enabled and config.telegram.token == "123:abc"
    assert "123:abc" not in repr(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("languages = ['id', 'fr']", "Config 'languages' has value 'fr'"),
        ("languages = []", "Config 'languages' has value []"),
        (
            "max_message_chars = 'long'",
            "Config 'max_message_chars' has value 'long'. Not a valid integer.",
        ),
        ("max_message_chars = 5", "Config 'max_message_chars' has value 5. It must be between 200"),
        (
            "[office]\ntimezone = 'Mars/Olympus'",
            "Config 'office.timezone' has value 'Mars/Olympus'",
        ),
        ("[office]\nname = ''", "Config 'office.name' is empty"),
        ("[office]\nnmae = 'x'", "Config 'office.nmae' is not a known setting"),
        ("colour = 'blue'", "Config 'colour' is not a known setting"),
        (
            "[telegram]\nmode = 'carrier-pigeon'",
            "Config 'telegram.mode' has value 'carrier-pigeon'",
        ),
        ("[telegram]\nenabled = true", "Config 'telegram.token' is empty"),
        (
            "[telegram]\ntoken = 't'\nmode = 'webhook'",
            "'telegram.webhook_url' and a 'telegram.webhook_secret' of at least 16",
        ),
        (
            "[telegram]\napi_base_url = 'ftp://x'",
            "Config 'telegram.api_base_url' has value 'ftp://x'",
        ),
        ("[whatsapp]\nenabled = true", "Config 'whatsapp.account_sid' and 'whatsapp.auth_token'"),
        (
            "[whatsapp]\naccount_sid = 'AC1'\nauth_token = 't'\nfrom_number = '+62811'",
            "Config 'whatsapp.from_number' must look like 'whatsapp:+62…'",
        ),
        (
            "[web]\nport = 70000",
            "Config 'web.port' has value 70000. It must be between 1 and 65535",
        ),
        (
            "[[hotlines]]\nname = 'SAPA'",
            "Config 'hotlines[0]' must be a table with 'name' and 'number'",
        ),
        (
            "[[hotlines]]\nname = 'SAPA'\nnumber = '129'\nnote = 'x'",
            "Config 'hotlines[0]' must be a table with 'name' and 'number'",
        ),
        (
            "[[hotlines]]\nname = 'SAPA'\nnumber = 129",
            "Config 'hotlines[0]' needs its values as text",
        ),
        ("[retention]\nclosed_case_days = 0", "Config 'retention.closed_case_days' has value 0"),
        ("office = 3", "Config 'office' must be a table"),
        ("this is = not toml =", "is not valid TOML"),
    ],
)
def test_bad_values_stop_startup_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env={})
    assert message in str(info.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ('keys_dir = "data/keys"', "Config 'keys_dir'"),
        ('key_file = "data/lk3.key"', "Config 'key_file'"),
        ('keys_dir = "data/backups/keys"', "Config 'keys_dir'"),
        ('backup_dir = "copies"\nkeys_dir = "copies/keys"', "Config 'keys_dir'"),
        ('keys_dir = "data"', "Config 'keys_dir'"),
    ],
)
def test_keys_inside_the_data_or_backup_folder_are_refused(
    tmp_path: Path, setting: str, says: str
) -> None:
    """A copy of the database must never carry the keys that open it."""
    path = tmp_path / "config.toml"
    path.write_text(f'data_dir = "data"\n{setting}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(says) and "outside both" in str(caught.value)


def test_keys_beside_the_data_folder_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "data"\nkeys_dir = "data-keys"\n', encoding="utf-8")
    assert load_config(path, env={}).keys_dir == tmp_path / "data-keys"


def test_a_path_with_a_nul_character_is_a_config_error_not_a_crash(tmp_path: Path) -> None:
    """Found by the configuration fuzz test: the key-places check crashed on it."""
    path = tmp_path / "config.toml"
    path.write_text('data_dir = "var\\u0000"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="NUL character"):
        load_config(path, env={})

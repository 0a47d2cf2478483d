"""`[whatsapp]` and its content templates: read, checked, and refused with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, WhatsAppTemplates, load_config

BASE = (
    "[whatsapp]\naccount_sid = 'AC1'\nauth_token = 't'\nfrom_number = 'whatsapp:+14155238886'\n"
    "[web]\npublic_url = 'https://lk3.example.org'\n"
)
A = "HX" + "a" * 32
B = "HX" + "b" * 32
C = "HX" + "c" * 32


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_templates_are_read_with_english_versions_falling_back_to_the_default(
    tmp_path: Path,
) -> None:
    config = load_config(
        write(
            tmp_path,
            BASE + f"[whatsapp.templates]\nreminder = '{A}'\nnew_message = '{B}'\n"
            f"choices = {{ 2 = '{B}', 3 = '{C}' }}\n"
            f"[whatsapp.templates.en]\nreminder = '{C}'\n",
        ),
        env={},
    )
    whatsapp = config.whatsapp
    assert whatsapp.enabled
    assert whatsapp.templates == WhatsAppTemplates(
        reminder=A, new_message=B, choices=((2, B), (3, C))
    )
    english = whatsapp.templates_for("en")
    assert (english.reminder, english.new_message, english.choice_template(3)) == (C, B, C)
    assert whatsapp.templates_for("id") == whatsapp.templates
    assert whatsapp.templates.choice_template(4) == ""


def test_credentials_may_come_from_the_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[whatsapp]\nfrom_number = 'whatsapp:+14155238886'\n"
        "[web]\npublic_url = 'https://lk3.example.org'\n",
    )
    env = {"LK3_TWILIO_ACCOUNT_SID": "AC9", "LK3_TWILIO_AUTH_TOKEN": "secret"}
    config = load_config(path, env=env)
    assert config.whatsapp.enabled and config.whatsapp.account_sid == "AC9"
    assert "secret" not in repr(config)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "[whatsapp.templates]\nreminder = 'HX123'\n",
            "Config 'whatsapp.templates.reminder' has value 'HX123'. Not a content template SID",
        ),
        (
            "[whatsapp.templates]\nremindr = 'HX123'\n",
            "Config 'whatsapp.templates.remindr' is not a known setting",
        ),
        (
            f"[whatsapp.templates]\nchoices = {{ 11 = '{A}' }}\n",
            "Config 'whatsapp.templates.choices' has key '11'. Use a number of choices, 1 to 10.",
        ),
        (
            "[whatsapp.templates]\nchoices = { 2 = 'nope' }\n",
            "Config 'whatsapp.templates.choices.2' has value 'nope'",
        ),
        (
            "[whatsapp.templates.en]\nnew_message = 3\n",
            "Config 'whatsapp.templates.en.new_message' has value 3",
        ),
        (
            "[whatsapp.templates.fr]\nnew_message = 'x'\n",
            "Config 'whatsapp.templates.fr' is not a known setting",
        ),
        ("[whatsapp]\ntemplates = 'HX'\n", "Config 'whatsapp.templates' must be a table"),
    ],
)
def test_a_bad_template_setting_is_refused_naming_the_key(
    tmp_path: Path, extra: str, message: str
) -> None:
    inline = extra.startswith("[whatsapp]\n")
    text = BASE.replace("[whatsapp]\n", extra, 1) if inline else BASE + extra
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_config(write(tmp_path, text), env={})


def test_whatsapp_without_a_public_url_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.split("[web]")[0])
    with pytest.raises(ConfigError, match=r"Config 'web\.public_url' is empty"):
        load_config(path, env={})

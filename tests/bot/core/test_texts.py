"""The bot's own texts: complete in every language, filled safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.texts import BotTexts, TextsError


def test_bundled_texts_exist_in_both_languages() -> None:
    texts = BotTexts.load(languages=("id", "en"))
    for kind in ("photo", "voice", "video", "sticker", "location", "file", "contact", "other"):
        assert texts.get(f"unsupported.{kind}", "id")
        assert texts.get(f"unsupported.{kind}", "en") != texts.get(f"unsupported.{kind}", "id")


def test_placeholders_are_filled_and_unknown_ones_left_visible() -> None:
    texts = BotTexts.bundled()
    assert "2000" in texts.get("too_long", "id", limit="2000")
    assert "{hotlines}" in texts.get("internal_error", "id")
    assert "• 112" in texts.get("internal_error", "en", hotlines="• 112")


def test_missing_translation_is_refused_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "texts.toml"
    path.write_text('[too_long]\nid = "Panjang"\n', encoding="utf-8")
    with pytest.raises(TextsError, match="'too_long' has no text for language 'en'"):
        BotTexts.load(path, ("id", "en"))

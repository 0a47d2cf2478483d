"""`{who_is_told}` never holds up a crisis: when the staff or the roster cannot be read,
the safe words are said and the turn goes on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot_support import make_config
from support.rawdb import raw_update

from bot.app import App
from bot.core.texts import BotTexts
from bot.handoff.reach import WHO_IS_TOLD, WhoIsTold


async def test_an_unreadable_roster_gives_the_safe_words_not_a_failed_turn(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path / "data")
    app = await App.open(config, [], env={})
    try:
        # A real fault: the read fails in the database.
        raw_update(config.database_path, "DROP TABLE roster")
        texts = BotTexts.load()
        told = await WhoIsTold(app.store, config, texts).load(datetime.now(UTC), "id")
        safe = texts.get("handoff.told.nobody", "id", **config.context_values("id"))
        assert told == {WHO_IS_TOLD: safe}
    finally:
        await app.stop()

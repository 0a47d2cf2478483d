"""`{who_is_told}` never holds up a crisis: when the staff or the roster cannot be read,
the safe words are said and the turn goes on."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from bot_support import make_config

from bot.app import App
from bot.core.texts import BotTexts
from bot.handoff.reach import WHO_IS_TOLD, WhoIsTold


async def test_an_unreadable_roster_gives_the_safe_words_not_a_failed_turn(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path / "data")
    app = await App.open(config, [], env={})
    try:
        with closing(sqlite3.connect(config.database_path)) as db:
            db.execute("DROP TABLE roster")  # a real fault: the read fails in SQLite
            db.commit()
        texts = BotTexts.load()
        told = await WhoIsTold(app.store, config, texts).load(datetime.now(UTC), "id")
        safe = texts.get("handoff.told.nobody", "id", **config.context_values("id"))
        assert told == {WHO_IS_TOLD: safe}
    finally:
        await app.stop()

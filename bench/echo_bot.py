"""The floor: a minimal python-telegram-bot echo bot, for comparing against the real bot.

`python -m bench.echo_bot API_BASE_URL TOKEN sequential|concurrent` polls the
given Bot API server and answers every text with itself, python-telegram-bot's
defaults otherwise: `sequential` handles one update after another (the
library's default), `concurrent` with `concurrent_updates(True)` (256 at once, as
our bot handles different families in parallel). Whatever it costs is the price
of python-telegram-bot and HTTP alone; the bench's floor is the faster of the two
(on this machine the sequential one: concurrent updates on the default httpx
transport contend for its connection pool).
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

MODES = ("sequential", "concurrent")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the text back."""
    if update.message is not None and update.message.text:
        await update.message.reply_text(update.message.text)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[2] not in MODES:
        print(
            "usage: python -m bench.echo_bot API_BASE_URL TOKEN sequential|concurrent",
            file=sys.stderr,
        )
        return 2
    base, token, mode = argv
    builder = Application.builder().token(token).base_url(base)
    if mode == "concurrent":
        builder = builder.concurrent_updates(True).connection_pool_size(32)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(timeout=25, drop_pending_updates=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The floor: a minimal python-telegram-bot echo bot, for comparing against the real bot.

`python -m bench.echo_bot API_BASE_URL TOKEN` polls the given Bot API server and
answers every text with itself, updates handled concurrently (as our bot
handles different families in parallel). Whatever it costs is the price of
python-telegram-bot and HTTP alone.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Sends the text back."""
    if update.message is not None and update.message.text:
        await update.message.reply_text(update.message.text)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.echo_bot API_BASE_URL TOKEN", file=sys.stderr)
        return 2
    base, token = argv
    app = (
        Application.builder()
        .token(token)
        .base_url(base)
        .concurrent_updates(True)
        .connection_pool_size(32)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(timeout=25, drop_pending_updates=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

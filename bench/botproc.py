"""The bot process the benchmark measures: `lk3 run`, optionally without Telegram's pacing.

`python -m bench.botproc CONFIG paced` is exactly `lk3 run --config CONFIG` (on the
same event loop, bot.core.eventloop).
`unpaced` runs the same service (python-telegram-bot, pipeline, store, outbox
sender, logging to the data folder) with the sender's 30 messages a second, the
one-message-a-second-per-chat pacing and the "typing…" hint lifted: the
overhead benchmark asks what the bot itself costs, not what Telegram allows.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.protocol import Tuning
from bot.cli import _setup_logging
from bot.config import load_config
from bot.core.eventloop import run_service
from bot.run import serve

# "typing…" only after 10 s without a reply: the hint's timer is still set for each
# message (as in `lk3 run`), and fires, but finds the reply sent. (An hour kept one
# timer per message alive for the whole run: memory that grew with the contacts.)
UNPACED = Tuning(per_chat_interval=0.0, typing_delay=10.0)


async def _serve(config_path: Path, paced: bool) -> int:
    config = load_config(config_path)
    _setup_logging(config, verbose=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not paced:
        # The outbox sender reads the channel's rate when the app is built.
        TelegramChannel.max_per_second = 1_000_000.0
    return await serve(config, stop, options={} if paced else {"telegram": UNPACED})


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("paced", "unpaced"):
        print("usage: python -m bench.botproc CONFIG paced|unpaced", file=sys.stderr)
        return 2
    return run_service(_serve(Path(argv[0]), argv[1] == "paced"))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

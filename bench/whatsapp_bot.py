"""The bot process the WhatsApp benchmark measures: `lk3 run`'s service without Twilio's pacing.

`python -m bench.whatsapp_bot CONFIG` runs the same service as `lk3 run --config
CONFIG` (the twilio client, the shared web server with its signed webhooks, the
pipeline, the store, the outbox sender, logging to the data folder) with the
WhatsApp sender's 20 messages a second and one message a second per person
lifted: the benchmark asks what the bot itself costs, not what Twilio allows.
It is a module of its own so the bot's memory is not inflated by the load
generator's fakes.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.channels.whatsapp import protocol as whatsapp
from bot.cli import _setup_logging
from bot.config import load_config
from bot.core.eventloop import run_service
from bot.run import Service, ServiceError

UNPACED = whatsapp.Tuning(per_chat_interval=0.0, max_per_second=1_000_000.0)


async def _serve(config_path: Path) -> int:
    config = load_config(config_path)
    _setup_logging(config, verbose=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    service = Service(config, options={"whatsapp": UNPACED})
    try:
        await service.start()
    except ServiceError as exc:
        print(f"bench.whatsapp_bot: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        await stop.wait()
    finally:
        await service.stop()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.whatsapp_bot CONFIG", file=sys.stderr)
        return 2
    return run_service(_serve(Path(argv[0])))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

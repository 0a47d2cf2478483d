"""`lk3 doctor`: the command line of bot.monitoring.doctor (imported only when run)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["add_doctor_command"]


def add_doctor_command(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check a deployment before it goes live")
    doctor.add_argument("--config", type=Path, required=True)
    doctor.add_argument("--time-url", help="an https URL whose Date header the clock is read from")
    doctor.add_argument("--backups", type=Path, help="the folder the nightly backups go to")
    doctor.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """One line per check; 1 when any is red."""
    from bot.monitoring.doctor import diagnose

    checks = asyncio.run(diagnose(args.config, time_url=args.time_url, backups=args.backups))
    colour = out.isatty() and not os.environ.get("NO_COLOR")
    for check in checks:
        out.write(check.line(colour) + "\n")
    out.flush()
    return 1 if any(c.ok is False for c in checks) else 0

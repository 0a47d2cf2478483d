"""Allows ``python -m bot.safety classify`` before the ``lk3`` command is wired."""

from __future__ import annotations

import sys

from bot.safety.cli import main

sys.exit(main())

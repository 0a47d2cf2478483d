"""What the test suites share: one clock, one free port, one recording channel, where
the keys are.

Importable as `support` from every test (pyproject's pytest `pythonpath`).
"""

from __future__ import annotations

from support.channels import RecordingChannel
from support.clock import Clock
from support.keys import keys_of
from support.ports import free_port

__all__ = ["Clock", "RecordingChannel", "free_port", "keys_of"]

"""What the test suites share: one clock, one free port, one recording channel.

Importable as `support` from every test (pyproject's pytest `pythonpath`).
"""

from __future__ import annotations

from support.channels import RecordingChannel
from support.clock import Clock
from support.ports import free_port

__all__ = ["Clock", "RecordingChannel", "free_port"]

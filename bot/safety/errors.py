"""Errors raised by the crisis classifier (see the package docstring for the hierarchy)."""

from __future__ import annotations


class SafetyError(Exception):
    """Root of every error this package raises on purpose."""


class SafetyDataError(SafetyError):
    """A lexicon, rule or evaluation file is invalid; the message names the file and the path."""

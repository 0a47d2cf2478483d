"""Shared fixtures for the flow tests: the fixture library and a fixed context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from flows.exchange import ChannelCaps, Context
from flows.library import FlowLibrary
from flows.loader import load_library
from flows.transcripts import DEFAULT_CONTEXT

HERE = Path(__file__).parent
BASIC = HERE / "fixtures" / "basic"
NOW = datetime.fromisoformat("2025-12-12T09:00:00+09:00")


@pytest.fixture(scope="session")
def basic() -> FlowLibrary:
    return load_library(BASIC)


@pytest.fixture()
def ctx() -> Context:
    return Context(NOW, ChannelCaps(), dict(DEFAULT_CONTEXT))

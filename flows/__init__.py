"""The flow language: TOML flows, a two-phase checker, and a pure engine.

`flows` imports neither `bot` nor `storage`; only the loader and the CLI functions
touch the file system. Errors: see `flows.errors`.
"""

from __future__ import annotations

from flows.engine import MAX_STEPS, step
from flows.errors import FlowsError, FlowSetError, Problem, StateError, UnknownFlowError
from flows.exchange import (
    ChannelCaps,
    Context,
    Effect,
    FlowError,
    Input,
    Message,
    Option,
    Output,
    Turn,
)
from flows.library import FlowLibrary
from flows.loader import DEFAULT_CONTEXT_KEYS, bundled_library_dir, load_library
from flows.state import Frame, SessionState

__all__ = [
    "DEFAULT_CONTEXT_KEYS",
    "MAX_STEPS",
    "ChannelCaps",
    "Context",
    "Effect",
    "FlowError",
    "FlowLibrary",
    "FlowSetError",
    "FlowsError",
    "Frame",
    "Input",
    "Message",
    "Option",
    "Output",
    "Problem",
    "SessionState",
    "StateError",
    "Turn",
    "UnknownFlowError",
    "bundled_library_dir",
    "load_library",
    "step",
]

"""A conversation's session state: small, immutable, serialisable.

Why so small: it is stored (encrypted) after every message of every contact. It
holds the language, a stack of frames (flow, version, node), the answers so far
and the count of misses in a row; nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flows.errors import StateError
from flows.model import Value

STATE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Frame:
    """Where a flow is: waiting on the question at `node`, or (below the top) calling from it."""

    flow: str
    version: str
    node: str
    waiting: bool


@dataclass(frozen=True, slots=True)
class SessionState:
    language: str
    stack: tuple[Frame, ...]  # empty = conversation ended / not started
    vars: tuple[tuple[str, Value], ...]  # sorted by name
    misses: int = 0

    @classmethod
    def fresh(cls, language: str) -> SessionState:
        return cls(language, (), ())

    def var(self, name: str) -> Value | None:
        for key, value in self.vars:
            if key == name:
                return value
        return None

    @property
    def ended(self) -> bool:
        return not self.stack

    @property
    def current_flow(self) -> str | None:
        return self.stack[-1].flow if self.stack else None

    def to_json(self) -> str:
        """Compact, stable JSON (same state, same bytes)."""
        data = {
            "v": STATE_FORMAT,
            "lang": self.language,
            "stack": [[f.flow, f.version, f.node, f.waiting] for f in self.stack],
            "vars": [[k, v] for k, v in self.vars],
            "misses": self.misses,
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> SessionState:
        """The state stored by `to_json`; StateError (never echoing the data) if it is not one."""
        try:
            raw: Any = json.loads(data)
        except (TypeError, ValueError) as exc:
            raise StateError("session state is not valid JSON") from exc
        if not isinstance(raw, dict):
            raise StateError("session state must be a JSON object")
        if raw.get("v") != STATE_FORMAT:
            raise StateError(f"session state format must be {STATE_FORMAT}")
        language, stack, vars_, misses = (raw.get(k) for k in ("lang", "stack", "vars", "misses"))
        if not isinstance(language, str) or not language:
            raise StateError("session state field 'lang' must be a non-empty string")
        if not isinstance(misses, int) or isinstance(misses, bool) or misses < 0:
            raise StateError("session state field 'misses' must be a whole number >= 0")
        if not isinstance(stack, list):
            raise StateError("session state field 'stack' must be a list")
        frames: list[Frame] = []
        for i, item in enumerate(stack):
            if (
                not isinstance(item, list)
                or len(item) != 4
                or not all(isinstance(x, str) and x for x in item[:3])
                or not isinstance(item[3], bool)
            ):
                raise StateError(
                    f"session state field 'stack[{i}]' must be [flow, version, node, waiting]"
                )
            frames.append(Frame(item[0], item[1], item[2], item[3]))
        if not isinstance(vars_, list):
            raise StateError("session state field 'vars' must be a list")
        pairs: dict[str, Value] = {}
        for i, item in enumerate(vars_):
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], str)
                or not isinstance(item[1], str | int | bool)
                or isinstance(item[1], float)
            ):
                raise StateError(
                    f"session state field 'vars[{i}]' must be [name, text|number|bool]"
                )
            pairs[item[0]] = item[1]
        return cls(language, tuple(frames), tuple(sorted(pairs.items())), misses)

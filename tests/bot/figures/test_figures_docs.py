"""docs/figures-api.md's receiver example is right: it takes what the sender signs, once,
and refuses an altered body, another secret and an old timestamp."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from bot.figures.signing import headers

DOC = Path(__file__).resolve().parents[3] / "docs" / "figures-api.md"
SECRET = "k" * 40


def example() -> Any:
    block = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    space: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), space)  # noqa: S102 (our own doc)
    return space["verify"]


def test_the_documented_receiver_takes_a_signed_delivery_once() -> None:
    verify = example()
    body = b'{"id":"evt_1","type":"case.opened"}'
    sent = headers(SECRET, "evt_1", int(time.time()), body)
    seen: set[str] = set()
    assert verify(SECRET, sent, body, seen)
    assert not verify(SECRET, sent, body, seen), "the same event again: a replay"
    assert not verify(SECRET, sent, body + b" ", set())
    assert not verify("x" * 40, sent, body, set())
    old = headers(SECRET, "evt_2", int(time.time()) - 301, body)
    assert not verify(SECRET, old, body, set())

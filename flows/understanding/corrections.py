"""A typed answer that corrects itself: "5, eh maksud saya 4" (pure, no I/O).

Why a rule of its own: a family that types one choice and then takes it back ("2
bulan, eh salah, maksudnya 2 tahun", "chat, I mean phone") names two choices; read
whole, the one said first, or the stronger one, wins, and the answer they took back
is recorded. What follows the correction is what they mean. The rule is narrow: it
applies only when the words before the correction read as one choice and the words
after it as another; anything else ("maksudnya apa?", "eh kak, mau curhat") is read
whole as before.
"""

from __future__ import annotations

import re

CORRECTION = re.compile(
    r"(?:\b(?:eh+|ehm|salah|ralat|koreksi|oops|maksud(?:nya|ku|ny)?"
    r"(?:\s+(?:saya|sy|aku|beta|gue|gw|sa))?|i\s+mean|sorry\s+i\s+mean)\b[\s,.!:;-]*)+",
    re.IGNORECASE,
)
"""A run of words that take back what was just typed ("eh salah, maksudnya"), after
some of it."""


def corrected(text: str) -> tuple[str, str] | None:
    """What was typed before a correction and what after it, or None when the text
    corrects nothing: the correction must follow some words and precede others."""
    found = None
    for match in CORRECTION.finditer(text):
        found = match
    if found is None:
        return None
    first = next(m for m in CORRECTION.finditer(text))
    before, after = text[: first.start()], text[found.end() :]
    if not before.strip(" ,.!?;:-") or not after.strip(" ,.!?;:-"):
        return None
    return before, after

"""The crisis classifier on hostile text: it never raises, and stays fast.

Speed is measured and printed (run with -s to see it), never asserted against a
clock: a loaded test machine must not fail a correct classifier. What is asserted
is that the hostile texts are still read for what they say.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.safety.classifier import Classifier
from bot.safety.levels import Level

CLASSIFIER = Classifier.bundled()
WORDS = st.sampled_from(
    [
        "bunuh",
        "diri",
        "mati",
        "pukul",
        "tidak",
        "bukan",
        "mau",
        "aku",
        "suami",
        "tolong",
        "-",
        "--",
        "!!!",
        "\u200b",
        "\u0301",
        "\u202e",
        "\ud800",
        "\x00",
        " ",
        "\n",
        "a" * 50,
        "ku",
        "nya",
        "di",
        "ber",
        "meng",
    ]
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    text=st.one_of(st.text(st.characters(codec=None), max_size=300), st.lists(WORDS).map("".join))
)
def test_any_text_is_classified_without_raising(text: str) -> None:
    assert CLASSIFIER.classify(text).level in Level


def _hostile_inputs() -> dict[str, str]:
    """4,096-character texts shaped to make matching do the most work."""
    size = 4096
    return {
        "one long word": "a" * size,
        "crisis words repeated": ("bunuh diri " * size)[:size],
        "negations and crisis words": ("tidak mau bunuh " * size)[:size],
        "affixes glued": ("memperbunuhkan" * size)[:size],
        "punctuation": ("-!?." * size)[:size],
        "zero-width between letters": ("b\u200bu\u200bn\u200bu\u200bh " * size)[:size],
        "combining marks": ("a\u0301\u0302" * size)[:size],
        "one-letter words": ("a " * size)[:size],
    }


def test_hostile_4096_character_texts_are_read_and_their_time_is_printed() -> None:
    worst = 0.0
    levels = {}
    for name, text in _hostile_inputs().items():
        started = time.perf_counter()
        levels[name] = CLASSIFIER.classify(text).level
        elapsed = time.perf_counter() - started
        worst = max(worst, elapsed)
        print(f"classifier: {name}: {elapsed * 1000:.1f} ms")
    print(f"classifier: worst of {len(levels)} hostile inputs: {worst * 1000:.1f} ms (target 500)")
    assert levels["crisis words repeated"] is Level.URGENT
    assert levels["punctuation"] is Level.NONE
    assert levels["one long word"] is Level.NONE

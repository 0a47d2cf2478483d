"""What the engine keeps and says of its own, apart from the flows: the variables it
adds to a session's state beside an answer, and the texts and words of "Did you mean",
the re-ask and "Talk to a person" for a flow set whose globals.toml does not set them."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flows.days import DAY_TEXTS
from flows.exchange import Option
from flows.model import Text

LABEL_SUFFIX = ":label"
"""A host option's label is kept as variable `VAR:label`, so `{answers.VAR}` can show it."""
SHOWN_SUFFIX = ":shown"
"""The host options a question showed, kept (as JSON) until it is answered: a typed
`2` means the second line the person saw, even if the host's list changed since."""


def keep_options(options: Sequence[Option]) -> str:
    """Options as kept in the state: `[value, label]`, or `[value, label, when]`."""
    kept = [[o.value, o.label, o.when][: 3 if o.when else 2] for o in options]
    return json.dumps(kept, ensure_ascii=False)


def kept_options(value: object) -> tuple[Option, ...] | None:
    """The options `keep_options` kept; None when there are none (or they are unreadable)."""
    if not isinstance(value, str):
        return None
    try:
        return tuple(Option(*map(str, item)) for item in json.loads(value))
    except (ValueError, TypeError):
        return None


MAYBE_SUFFIX = ":maybe"
"""The two choices of a close call ("Did you mean A or B?"), kept (as JSON) until the
next answer: a typed `1` or `yang pertama` then means A."""
PERSON = "_person"
"""The value of the "Talk to a person" option offered with a question missed twice."""
PERSON_WORDS = ("petugas", "konselor", "orang", "manusia", "person", "human", "staff", "counsellor")
DEFAULT_TEXTS = {
    "person": Text((("id", "Bicara dengan petugas"), ("en", "Talk to a person"))),
    "did_you_mean": Text(
        (
            ("id", "Maksud Anda *{first}* atau *{second}*?"),
            ("en", "Did you mean *{first}* or *{second}*?"),
        )
    ),
    "stuck_reask": Text(
        (
            ("id", "Maaf, saya masih belum mengerti. Silakan pilih salah satu jawaban."),
            ("en", "Sorry, I still do not understand. Please pick one of the answers."),
        )
    ),
    **DAY_TEXTS,
}
"""Texts the engine says when globals.toml does not set them."""

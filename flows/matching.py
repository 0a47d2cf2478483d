"""Understanding short answers: normalising text, choices, yes/no words, commands.

Why generous: people write on cheap phones, in a hurry, often in Ambonese Malay.
A choice is accepted by its button, its number, its label in any case and any
configured language, or a listed synonym; anything else is a kind re-ask, never a
guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from flows.model import Choice, Command

_NON_WORD = re.compile(r"[^\w]+|_+")
_NUMBER_ANSWER = re.compile(r"^(?:no|nomor|nomer|nr|number|pilihan|option)?\s*(\d{1,2})$")


def normalize(text: str) -> str:
    """Casefolds, turns punctuation into spaces and collapses whitespace."""
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice a typed answer means: its number, label (any language), synonym or value."""
    said = normalize(text)
    if not said:
        return None
    number = _NUMBER_ANSWER.match(said)
    if number:
        index = int(number.group(1))
        return choices[index - 1] if 1 <= index <= len(choices) else None
    for forms in _exact_forms(tuple(choices)):
        found = forms.get(said)
        if found is not None:
            return choices[found]
    return None


@lru_cache(maxsize=512)
def _exact_forms(choices: tuple[Choice, ...]) -> tuple[dict[str, int], ...]:
    """The choices' labels, synonyms and values, normalised once per question, in the
    order they are tried (a label before any synonym; the first choice first)."""
    labels: dict[str, int] = {}
    synonyms: dict[str, int] = {}
    values: dict[str, int] = {}
    for i, choice in enumerate(choices):
        for label in choice.label.all():
            labels.setdefault(normalize(label), i)
        for word in choice.synonyms:
            synonyms.setdefault(normalize(word), i)
        values.setdefault(normalize(choice.value), i)
    return labels, synonyms, values


def match_value(value: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice whose button payload is exactly `value`."""
    for choice in choices:
        if choice.value == value:
            return choice
    return None


YES_WORDS = frozenset(
    "ya iya iyaa yaa yap yup y yes yess yeah ok oke okay okey baik betul benar bener boleh "
    "setuju mau sure iyo io ia tentu siap bisa".split()
)
NO_WORDS = frozenset(
    "tidak tdk tak ga gak gk nggak ngga enggak engga nda ndak no n nope bukan belum jangan "
    "seng sonde tra trada tara".split()
)
_NEGATED = ("mau", "boleh", "setuju", "bisa", "perlu", "usah", "ya", "iya", "mau dong", "yes")
NO_PHRASES = frozenset(
    f"{neg} {word}" for neg in sorted(NO_WORDS) for word in _NEGATED
) | frozenset({"no thanks", "no thank you", "not now", "nanti saja", "nanti aja"})


def match_yes_no(
    text: str, extra_yes: Sequence[str] = (), extra_no: Sequence[str] = ()
) -> bool | None:
    """True for yes, False for no, None when the answer is unclear or mixed."""
    said = normalize(text)
    if not said:
        return None
    yes = YES_WORDS | {normalize(w) for w in extra_yes}
    no = NO_WORDS | {normalize(w) for w in extra_no}
    if said in NO_PHRASES or said in no:
        return False
    if said in yes:
        return True
    words = said.split()
    rest = set(words[1:])
    if words[0] in yes and not rest & no:
        return True
    if words[0] in no and not rest & yes:
        return False
    return None


def match_command(text: str, commands: Sequence[Command]) -> Command | None:
    """The command a whole message is, ignoring case, punctuation, a leading `/` and `@bot`."""
    stripped = text.strip()
    if stripped.startswith("/"):
        stripped = stripped[1:].split("@", 1)[0]
    said = normalize(stripped)
    if not said:
        return None
    return _command_words(tuple(commands)).get(said)


@lru_cache(maxsize=64)
def _command_words(commands: tuple[Command, ...]) -> dict[str, Command]:
    """Each command word, normalized, to the first command that has it (every message
    is checked against every command: normalizing each word each time was a tenth of a
    flow turn)."""
    found: dict[str, Command] = {}
    for command in commands:
        for word in command.all_words():
            found.setdefault(normalize(word), command)
    return found

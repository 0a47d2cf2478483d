"""The loaded form of a flow file: frozen dataclasses, built by `structure.py`.

Why frozen and tuple-based: a FlowLibrary is shared by every conversation at once;
nothing may change it after loading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Value = str | int | bool
"""A variable's value: a text, an integer (scores, numbers) or a boolean."""

ArgValue = str | int | bool | tuple[str | int, ...] | None
"""The argument of a router test."""


@dataclass(frozen=True, slots=True)
class Text:
    """A user-facing text in every configured language."""

    by_language: tuple[tuple[str, str], ...]

    def get(self, language: str, fallback: str = "id") -> str:
        """The text in `language`, else in `fallback`, else the first one."""
        for lang, text in self.by_language:
            if lang == language:
                return text
        for lang, text in self.by_language:
            if lang == fallback:
                return text
        return self.by_language[0][1] if self.by_language else ""

    def all(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.by_language)


Phrases = tuple[tuple[str, tuple[str, ...]], ...]
"""Short phrases per language: (language, phrases), in the configured order."""


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: Text
    synonyms: tuple[str, ...] = ()
    goto: str | None = None
    # What families type when they mean this choice, per language: full phrases the
    # matcher compares typed answers with (see flows.understanding).
    examples: Phrases = ()

    def all_examples(self) -> tuple[str, ...]:
        return tuple(e for _, phrases in self.examples for e in phrases)


@dataclass(frozen=True, slots=True)
class OptionWords:
    """What families type for one of the host's options (by its value), so that the
    matcher knows words the host's label does not say: "datang ke kantor", "telpon saja"."""

    value: str
    synonyms: tuple[str, ...] = ()
    examples: Phrases = ()


@dataclass(frozen=True, slots=True)
class Ask:
    type: str  # "choice" | "yesno" | "text"
    var: str
    text: Text
    choices: tuple[Choice, ...] = ()
    validator: str | None = None  # "number" | "date" | "phone"
    error: Text | None = None
    # A choice question whose options the host supplies at run time (a named
    # option set, e.g. the free days for a booking); static `choices` follow them.
    choices_from: str | None = None
    when_empty: str | None = None  # where to go when the host has no options
    words: tuple[OptionWords, ...] = ()  # synonyms and examples for the host's options
    # Where words that mean none of the choices go (a message for a person), instead
    # of a re-ask; nothing is stored and no miss is counted.
    other: str | None = None

    def choice_for(self, value: str, label: Text) -> Choice:
        """A host option as a choice, with the words the flow keeps for its value."""
        for known in self.words:
            if known.value == value:
                return Choice(value, label, known.synonyms, None, known.examples)
        return Choice(value, label)


@dataclass(frozen=True, slots=True)
class Case:
    test: str
    arg: ArgValue
    category: str


@dataclass(frozen=True, slots=True)
class Router:
    var: str  # a variable, or with `from_context` a context key the host passes
    cases: tuple[Case, ...]
    default: str
    from_context: bool = False

    def categories(self) -> tuple[str, ...]:
        seen: list[str] = []
        for cat in [c.category for c in self.cases] + [self.default]:
            if cat not in seen:
                seen.append(cat)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class SetAction:
    var: str
    value: Value


@dataclass(frozen=True, slots=True)
class ScoreAction:
    var: str
    add: int


Action = SetAction | ScoreAction


@dataclass(frozen=True, slots=True)
class EffectCall:
    name: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    actions: tuple[Action, ...] = ()
    say: tuple[Text, ...] = ()
    effects: tuple[EffectCall, ...] = ()
    ask: Ask | None = None
    call: str | None = None
    router: Router | None = None
    next: str | None = None
    exits: tuple[tuple[str, str], ...] = ()
    end: bool = False

    def exit(self, category: str) -> str | None:
        for cat, target in self.exits:
            if cat == category:
                return target
        return None

    @property
    def ends_conversation(self) -> bool:
        """True when an `end` effect stops the whole conversation at this node."""
        return any(e.name == "end" for e in self.effects)


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    name: Text
    start: str
    nodes: tuple[Node, ...]
    file: str
    version: str
    spec_version: int
    # Nodes besides `start` where the host may begin this flow (an interrupt to
    # `FLOW.NODE`), e.g. "that time was just taken" in the booking flow.
    entries: tuple[str, ...] = ()
    _index: dict[str, Node] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({n.id: n for n in self.nodes})

    def node(self, node_id: str) -> Node | None:
        return self._index.get(node_id)


@dataclass(frozen=True, slots=True)
class Command:
    """Words that work from anywhere and where they lead."""

    id: str
    words: tuple[tuple[str, tuple[str, ...]], ...]
    goto: str

    def all_words(self) -> tuple[str, ...]:
        return tuple(w for _, words in self.words for w in words)


@dataclass(frozen=True, slots=True)
class Words:
    """How typed words are read: local forms and abbreviations to standard words
    (``beta`` -> ``saya``, ``gk`` -> ``tidak``), and words that carry no meaning for a
    choice (``yang``, ``mau``), and words that name no topic of their own (``banget``,
    ``umur``, ``adik``: flows.understanding.aboutness). Kept in globals.toml, where
    admins can add to them."""

    replace: tuple[tuple[str, str], ...] = ()
    stop: tuple[str, ...] = ()
    light: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Globals:
    entry: str
    stuck: str
    texts: tuple[tuple[str, Text], ...]
    commands: tuple[Command, ...]
    file: str = "globals.toml"
    words: Words = Words()
    # Where "Talk to a person" leads, offered with a question missed twice in a row
    # (`FLOW.NODE`); without it, the `stuck` node.
    person: str | None = None

    def text(self, key: str) -> Text | None:
        for k, text in self.texts:
            if k == key:
                return text
        return None


REQUIRED_GLOBAL_TEXTS = (
    "reask",
    "invalid_number",
    "invalid_date",
    "invalid_phone",
    "step_limit",
    "yes",
    "no",
)

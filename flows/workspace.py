"""The flow engine's working memory for one turn, and how it renders texts.

`flows.engine` runs a turn on a `Workspace`: the conversation's language, stack
and variables as they change, the outputs so far, and the texts rendered in the
conversation's language (placeholders from the host's context and earlier
answers). Kept apart so the engine module holds only the running of flows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flows import anywhere, placeholders
from flows.exchange import Context, Effect, FlowError, Message, Missed
from flows.fallbacks import DEFAULT_TEXTS, LABEL_SUFFIX
from flows.library import FlowLibrary
from flows.model import Choice, Flow, Text, Value
from flows.state import Frame, SessionState

__all__ = ["LEAVE_INTERRUPTED", "Workspace"]

LEAVE_INTERRUPTED = "leave_interrupted"
"""The effect after which nothing below the running flow is resumed (docs/flow-language.md)."""


@dataclass(slots=True)
class Workspace:
    """The working memory of one turn (local and mutable; nothing escapes but the Turn)."""

    lib: FlowLibrary
    initial: SessionState | None
    ctx: Context
    language: str = ""
    stack: list[Frame] = field(default_factory=list)
    vars: dict[str, Value] = field(default_factory=dict)
    misses: int = 0
    outputs: list[Message | Effect | FlowError] = field(default_factory=list)
    steps: int = 0
    visited: list[tuple[str, str]] = field(default_factory=list)
    missed: list[Missed] = field(default_factory=list)

    def __post_init__(self) -> None:
        state = self.initial
        language = state.language if state is not None else self.ctx.default_language
        self.language = language if language in self.lib.languages else self.lib.languages[0]
        if state is not None:
            self.stack = list(state.stack)
            self.vars = dict(state.vars)
            self.misses = state.misses

    def state(self) -> SessionState:
        return SessionState(
            self.language, tuple(self.stack), tuple(sorted(self.vars.items())), self.misses
        )

    def error(self, code: str, where: str) -> None:
        self.outputs.append(FlowError(code, where))

    def emit(self, effect: Effect, where: str) -> bool:
        """Emits a node's effect after the engine's own part of it; True for `end`.

        `set_language` switches at once; `leave_interrupted` drops the frames below
        the running flow (the question an interrupt cut into, a caller), so that a
        crisis goes on from safety and its end ends the conversation.
        """
        if effect.name == "set_language":
            language = effect.param("language")
            if language not in self.lib.languages:
                self.error("unknown_language", f"{where}: language '{language[:20]}'")
                return False
            self.language = language
            self.vars[anywhere.LANGUAGE_VAR] = language
        elif effect.name == LEAVE_INTERRUPTED:
            del self.stack[:-1]
        self.outputs.append(effect)
        return effect.name == "end"

    def yes_no_choices(self) -> tuple[Choice, Choice]:
        """A yes/no question's two choices, labelled by globals.toml's `yes` and `no`."""
        texts = self.lib.globals
        yes = texts.text("yes") or Text((("en", "Yes"),))
        no = texts.text("no") or Text((("en", "No"),))
        return Choice("yes", yes), Choice("no", no)

    # -- texts -----------------------------------------------------------------------

    def global_text(self, key: str, flow: Flow, **extra: str) -> str:
        """A text of globals.toml (or the engine's own default), rendered."""
        text = self.lib.globals.text(key) or DEFAULT_TEXTS.get(key) or Text((("en", key),))
        where = f"{self.lib.globals.file}: texts -> {key}"
        return self.render_str(
            text.get(self.language, self.lib.languages[0]), flow, where, extra=extra
        )

    def say_global(self, key: str, flow: Flow) -> None:
        text = self.lib.globals.text(key)
        if text is not None:
            self.outputs.append(
                Message(self.render(text, flow, f"{self.lib.globals.file}: texts -> {key}"))
            )

    def render(self, text: Text, flow: Flow, where: str) -> str:
        return self.render_str(text.get(self.language, self.lib.languages[0]), flow, where)

    def render_str(
        self,
        template: str,
        flow: Flow,
        where: str,
        *,
        labels: bool = True,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """Fills placeholders; `{answers.X}` shows a choice's label to people (`labels`),
        its stored value to the host (effect parameters, set actions)."""

        def lookup(name: str) -> str | None:
            if extra and name in extra:
                return extra[name]
            if not name.startswith(placeholders.ANSWERS):
                return self.ctx.values.get(name)
            var = name[len(placeholders.ANSWERS) :]
            value = self.vars.get(var)
            if value is None:
                return None
            if isinstance(value, bool):
                value = "yes" if value else "no"
            if isinstance(value, int):
                return str(value)
            if not labels:
                return value
            label = self.lib.answer_label(flow, var, value)
            if label is None and value in ("yes", "no"):
                label = self.lib.globals.text(value)
            if label is None:
                shown = self.vars.get(var + LABEL_SUFFIX)
                return shown if isinstance(shown, str) else value
            return label.get(self.language, self.lib.languages[0])

        rendered, missing = placeholders.render(template, lookup)
        for name in missing:
            self.error("missing_placeholder", f"{where}: placeholder '{name}'")
        return rendered

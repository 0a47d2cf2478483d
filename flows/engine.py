"""The flow engine: a pure function from (library, state, input, context) to a Turn.

Why pure: every conversation can be replayed as a table of inputs and outputs,
tested without a bot, and run by any host. The engine reads no clock, does no I/O
and draws no random numbers; the host passes time and channel facts in `Context`
and carries out the `Effect`s it gets back. An author's mistake met at run time
(a missing placeholder, a loop) yields a `FlowError` output and the conversation
goes on; nothing here raises on any input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from flows import anywhere, days
from flows.checker import split_ref
from flows.errors import UnknownFlowError
from flows.exchange import (
    Context,
    Effect,
    Input,
    Message,
    Missed,
    Option,
    Turn,
)
from flows.fallbacks import (
    DEFAULT_TEXTS,
    LABEL_SUFFIX,
    MAYBE_SUFFIX,
    PERSON,
    PERSON_WORDS,
    SHOWN_SUFFIX,
    keep_options,
    kept_options,
)
from flows.library import FlowLibrary
from flows.matching import match_command, match_value, normalize
from flows.model import Choice, Flow, Node, ScoreAction, Text, Value
from flows.router_tests import TESTS
from flows.state import Frame, SessionState
from flows.understanding import Reading
from flows.validators import VALIDATORS
from flows.workspace import Workspace

MAX_STEPS = 100
"""Nodes entered per turn at most; past it the turn stops with a `step_limit` error."""
MAX_DEPTH = 8
"""Frames on the stack at most (calls and interrupts), so state stays small."""
MAX_ANSWER_CHARS = 1000
"""A free-text answer is stored up to this length, so state stays small."""
MISSES_BEFORE_STUCK = 2


def step(library: FlowLibrary, state: SessionState | None, inp: Input, ctx: Context) -> Turn:
    """Runs one input through the flows: the new state and what to send or do."""
    run = _Run(library, state, ctx)
    run.handle(inp)
    return Turn(run.state(), tuple(run.outputs), run.steps, tuple(run.visited), tuple(run.missed))


_Target = tuple[Flow, Node]


class _Run(Workspace):
    """One turn through the flows: input, targets, running nodes, questions."""

    __slots__ = ()

    # -- input ---------------------------------------------------------------------

    def handle(self, inp: Input) -> None:
        if inp.kind == "interrupt":  # its `text`, if any, may settle the language first
            if inp.text:
                self.settle(anywhere.first_language(self.lib, self.vars, inp.text, self.language))
            self.interrupt(inp.flow, inp.node)
            return
        if inp.kind == "start":
            self.stack.clear()
            self.misses = 0
            self.vars["start_param"] = inp.text.strip()[:64]
            self.settle(anywhere.start_language(self.lib, inp.text))
            self.run(self.entry_target())
            return
        if inp.kind not in ("text", "choice"):
            self.error("bad_input", f"input kind '{str(inp.kind)[:20]}'")
            return
        if inp.kind == "text":
            self.settle(anywhere.first_language(self.lib, self.vars, inp.text, self.language))
            command = match_command(inp.text, self.lib.globals.commands)
            if command is not None:
                self.misses = 0
                where = f"{self.lib.globals.file}: command '{command.id}'"
                self.run(self.global_target(command.goto, where))
                return
        if not self.stack:
            if inp.kind == "text":  # "halo", "jam buka?": answered, then the welcome
                self.aside(inp.text, at_start=True)
            self.run(self.entry_target())
            return
        flow = self.frame_flow()
        node = flow.node(self.stack[-1].node) if flow is not None else None
        if flow is None or node is None:
            if flow is not None:
                self.error("unknown_node", f"{flow.file}: node '{self.stack[-1].node}'")
            self.run(self.entry_target())
            return
        if not self.stack[-1].waiting or node.ask is None:
            self.run((flow, node))
            return
        self.run(self.answer(flow, node, inp))

    def interrupt(self, flow_id: str, node_id: str = "") -> None:
        if not self.lib.has_flow(flow_id):
            self.error("unknown_flow", f"interrupt: flow '{flow_id[:40]}'")
            return
        flow = self.lib.flow(flow_id)
        begin = node_id or flow.start
        if begin != flow.start and begin not in flow.entries:
            where = f"{flow.file}: interrupt at '{node_id[:40]}'"
            self.error("unknown_target", f"{where}: not one of the flow's entries")
            return
        for i, frame in enumerate(self.stack):
            if frame.flow == flow_id:  # already running: restart it there, do not pile up
                del self.stack[i:]
                break
        if len(self.stack) >= MAX_DEPTH:
            self.stack = self.stack[-(MAX_DEPTH - 1) :]
        self.misses = 0
        self.stack.append(Frame(flow.id, flow.version, begin, False))
        self.run(self.node_target(flow, begin, f"{flow.file}: start"))

    # -- targets -----------------------------------------------------------------

    def frame_flow(self) -> Flow | None:
        """The top frame's flow at its recorded version (falling back to the current one)."""
        frame = self.stack[-1]
        try:
            return self.lib.flow(frame.flow, frame.version)
        except UnknownFlowError:
            pass
        try:
            flow = self.lib.flow(frame.flow)
        except UnknownFlowError:
            self.error("unknown_flow", f"flow '{frame.flow}' is no longer in the library")
            return None
        self.error(
            "version_missing",
            f"{flow.file}: version '{frame.version}' not held; using '{flow.version}'",
        )
        self.stack[-1] = Frame(flow.id, flow.version, frame.node, frame.waiting)
        return flow

    def node_target(self, flow: Flow, node_id: str, where: str) -> _Target | None:
        node = flow.node(node_id)
        if node is None:
            self.error("unknown_target", f"{where}: unknown node '{node_id}'")
            return self.stuck_target()
        return flow, node

    def entry_target(self) -> _Target | None:
        self.stack.clear()
        entry = self.lib.globals.entry
        if not self.lib.has_flow(entry):
            self.error("unknown_flow", f"{self.lib.globals.file}: entry '{entry}'")
            return None
        flow = self.lib.flow(entry)
        self.stack.append(Frame(flow.id, flow.version, flow.start, False))
        return self.node_target(flow, flow.start, f"{flow.file}: start")

    def global_target(self, ref: str, where: str) -> _Target | None:
        """A `FLOW` or `FLOW.NODE` from globals: the conversation so far is left behind."""
        self.stack.clear()
        flow_id, node_id = split_ref(ref, None) or (ref, "")
        if not self.lib.has_flow(flow_id):
            self.error("unknown_target", f"{where}: unknown flow '{flow_id}'")
            return None
        flow = self.lib.flow(flow_id)
        self.stack.append(Frame(flow.id, flow.version, flow.start, False))
        node = flow.node(node_id or flow.start)
        if node is None:
            self.error("unknown_target", f"{where}: unknown node '{ref}'")
            return None
        return flow, node

    def stuck_target(self) -> _Target | None:
        return self.global_target(self.lib.globals.stuck, f"{self.lib.globals.file}: stuck")

    def resolve(self, ref: str, flow: Flow, where: str) -> _Target | None:
        """`node` in this flow, or `FLOW.NODE` (a jump: the current flow is left)."""
        flow_id, node_id = split_ref(ref, flow.id) or (flow.id, ref)
        if flow_id != flow.id:
            if not self.lib.has_flow(flow_id):
                self.error("unknown_target", f"{where}: unknown flow '{flow_id}'")
                return self.stuck_target()
            flow = self.lib.flow(flow_id)
        return self.node_target(flow, node_id, where)

    # -- running ---------------------------------------------------------------------

    def run(self, target: _Target | None) -> None:
        while target is not None:
            if self.steps >= MAX_STEPS:
                self.step_limit(target)
                return
            self.steps += 1
            self.visited.append((target[0].id, target[1].id))
            target = self.enter(*target)

    def set_top(self, frame: Frame) -> None:
        if self.stack:
            self.stack[-1] = frame
        else:
            self.stack.append(frame)

    def enter(self, flow: Flow, node: Node) -> _Target | None:
        self.set_top(Frame(flow.id, flow.version, node.id, False))
        where = f"{flow.file}: node '{node.id}'"
        for i, action in enumerate(node.actions):
            self.apply(action, flow, f"{where} -> actions[{i}]")
        for i, text in enumerate(node.say):
            self.outputs.append(Message(self.render(text, flow, f"{where} -> say[{i}]")))
        ended = False
        for i, call in enumerate(node.effects):
            at = f"{where} -> effects[{i}]"
            params = tuple(
                (key, self.render_str(value, flow, f"{at} -> {key}", labels=False))
                for key, value in call.params
            )
            ended = self.emit(Effect(call.name, params), at) or ended
        if ended:
            self.stack.clear()
            return None
        if node.ask is not None:
            return self.ask(flow, node)
        if node.call is not None:
            return self.call(flow, node, where)
        return self.after(flow, node, None)

    def apply(self, action: ScoreAction | object, flow: Flow, where: str) -> None:
        if isinstance(action, ScoreAction):
            current = self.vars.get(action.var, 0)
            if isinstance(current, bool) or not isinstance(current, int):
                self.error("not_a_number", f"{where}: variable '{action.var}'")
                current = 0
            self.vars[action.var] = current + action.add
            return
        var, value = getattr(action, "var"), getattr(action, "value")  # noqa: B009
        self.vars[var] = (
            self.render_str(value, flow, f"{where} -> value", labels=False)
            if isinstance(value, str)
            else value
        )

    def call(self, flow: Flow, node: Node, where: str) -> _Target | None:
        callee_id = node.call or ""
        if not self.lib.has_flow(callee_id):
            self.error("unknown_flow", f"{where} -> call: unknown flow '{callee_id}'")
            return self.after(flow, node, None)
        if len(self.stack) >= MAX_DEPTH:
            self.error("call_depth", f"{where} -> call: more than {MAX_DEPTH} flows deep")
            return self.stuck_target()
        callee = self.lib.flow(callee_id)
        self.stack.append(Frame(callee.id, callee.version, callee.start, False))
        return self.node_target(callee, callee.start, f"{callee.file}: start")

    def after(self, flow: Flow, node: Node, category: str | None) -> _Target | None:
        """Goes on from a node: end, router, the answer's exit, or next."""
        where = f"{flow.file}: node '{node.id}'"
        if node.end:
            return self.finish_flow()
        ref: str | None = None
        if node.router is not None:
            router = node.router
            source: Mapping[str, Value] = self.ctx.values if router.from_context else self.vars
            value = source.get(router.var)
            chosen = node.router.default
            for case in node.router.cases:
                if TESTS[case.test].evaluate(value, case.arg):
                    chosen = case.category
                    break
            ref = node.exit(chosen) or node.next
        elif category is not None:
            ref = node.exit(category) or node.next
        else:
            ref = node.next
        if ref is None:
            self.error("dead_end", f"{where}: no way on")
            return self.finish_flow()
        return self.resolve(ref, flow, where)

    def finish_flow(self) -> _Target | None:
        """Leaves the top flow: back to its caller, to an interrupted question, or the end."""
        if self.stack:
            self.stack.pop()
        if not self.stack:
            self.outputs.append(Effect("end"))
            return None
        flow = self.frame_flow()
        if flow is None:
            return self.entry_target()
        frame = self.stack[-1]
        target = self.node_target(flow, frame.node, f"{flow.file}: resume")
        if target is None or target[0] is not flow:
            return target
        node = target[1]
        if frame.waiting and node.ask is not None:
            return self.ask(flow, node)
        return self.after(flow, node, None)

    def step_limit(self, target: _Target) -> None:
        flow, node = target
        self.error(
            "step_limit", f"{flow.file}: node '{node.id}': more than {MAX_STEPS} steps in one turn"
        )
        self.say_global("step_limit", flow)
        stuck = self.stuck_target()
        if stuck is not None and stuck[1].ask is not None:
            self.ask(*stuck)
        else:
            self.stack.clear()
            self.outputs.append(Effect("end"))

    # -- questions ---------------------------------------------------------------

    def host_options(
        self, flow: Flow, node: Node, *, shown: bool = False
    ) -> tuple[Option, ...] | None:
        """The host's options for a `choices_from` question (None for other questions):
        those it offers now, or with `shown` those the question showed, if kept."""
        ask = node.ask
        if ask is None or ask.choices_from is None:
            return None
        kept = kept_options(self.vars.get(ask.var + SHOWN_SUFFIX)) if shown else None
        offered = (
            kept
            if kept is not None
            else self.ctx.options(ask.choices_from, dict(self.vars), self.language)
        )
        found: list[Option] = []
        for option in offered:
            if not option.value or any(o.value == option.value for o in found):
                where = f"{flow.file}: node '{node.id}' -> ask -> {ask.choices_from}"
                self.error("bad_option", f"{where}: an empty or repeated value")
                continue
            found.append(option)
        return tuple(found)

    def host_choices(
        self, flow: Flow, node: Node, *, shown: bool = False, of: Sequence[Option] | None = None
    ) -> tuple[Choice, ...] | None:
        """The host's options as choices, with the words the flow keeps for them."""
        options = self.host_options(flow, node, shown=shown) if of is None else of
        if options is None or node.ask is None:
            return None
        return tuple(
            node.ask.choice_for(o.value, Text(((self.language, o.label),))) for o in options
        )

    def ask(self, flow: Flow, node: Node, view: days.View | None = None) -> _Target | None:
        """Asks the node's question and waits; or goes on when the host has no options.
        A question of days shows a page of them (`view`: another page, or nearby days)."""
        ask = node.ask
        assert ask is not None
        where = f"{flow.file}: node '{node.id}' -> ask"
        offered = self.host_options(flow, node)
        if offered and days.dated(offered):
            view = view or days.first_view(offered, self.day_texts(flow))
        shown_options = view.options if view is not None else offered
        dynamic = self.host_choices(flow, node, of=shown_options)
        if dynamic is not None and not dynamic and ask.when_empty is not None:
            return self.resolve(ask.when_empty, flow, f"{where} -> when_empty")
        choices = ask.choices if ask.type == "choice" else ()
        if ask.type == "yesno":
            choices = self.yes_no_choices()
        if dynamic is not None and not dynamic and not choices:
            self.error("no_options", f"{where}: the host offered no '{ask.choices_from}'")
            return self.stuck_target()
        text = view.text if view is not None and view.text else None
        text = text or self.render(ask.text, flow, f"{where} -> text")
        options = tuple(Option(o.value, o.label) for o in shown_options or ())
        if shown_options is not None:
            self.vars[ask.var + SHOWN_SUFFIX] = keep_options(shown_options)
        options += tuple(
            Option(c.value, self.render(c.label, flow, f"{where} -> choice[{i}] -> label"))
            for i, c in enumerate(choices)
        )
        self.vars.pop(ask.var + MAYBE_SUFFIX, None)
        if self.offers_person() and len(options) < self.ctx.channel.max_choices:
            options += (Option(PERSON, self.global_text("person", flow)),)
        if len(options) > self.ctx.channel.max_choices:
            self.error("too_many_choices", f"{where}: {len(options)} choices for this channel")
        self.outputs.append(Message(text, options))
        self.set_top(Frame(flow.id, flow.version, node.id, True))
        return None

    def answer(self, flow: Flow, node: Node, inp: Input) -> _Target | None:
        ask = node.ask
        assert ask is not None
        where = f"{flow.file}: node '{node.id}'"
        raw = inp.text if inp.kind == "text" else inp.choice
        if ask.type in ("choice", "yesno"):
            choices = ask.choices if ask.type == "choice" else self.yes_no_choices()
            # An answer means what the person saw; the host checks what it is worth now.
            dynamic = self.host_choices(flow, node, shown=True)
            if dynamic is not None and not dynamic and ask.when_empty is not None:
                # Nothing to choose from (any more): go on without a miss.
                return self.resolve(ask.when_empty, flow, f"{where} -> ask -> when_empty")
            choices = (dynamic or ()) + choices + self.person_choices(flow)
            maybe = self.maybe(ask.var, choices)
            chosen = match_value(inp.choice, choices) if inp.kind == "choice" else None
            dated = self.dated(flow, node, inp, choices) if dynamic and not maybe else None
            if dated is not None and dated.kind == "elsewhere":
                chosen = days.way_back(node, flow.node)  # another day, named at the times
            elif dated is not None and dated.kind in ("take", "close"):
                picked = self.host_choices(flow, node, of=dated.picked) or ()
                if dated.kind == "close":
                    pair = Reading("close", picked[0], picked[-1])
                    return self.did_you_mean(flow, node, pair, picked)
                chosen, dynamic = picked[0], (dynamic or ()) + picked
            elif dated is not None:
                return self.ask(flow, node, dated.view)
            if chosen is None:
                reading = self.read(raw, maybe, False) if maybe else None
                if reading is None or reading.kind != "match":
                    reading = self.read(raw, choices, ask.type == "yesno")
                if reading.kind == "close":
                    self.missed.append(Missed(flow.id, node.id, close=True))
                    return self.did_you_mean(flow, node, reading, dynamic or ())
                chosen = reading.choice
            if chosen is None:
                if inp.kind == "text" and self.aside(raw):
                    return self.ask(flow, node)
                if ask.other is not None:  # words for a person, not an answer: no miss
                    return self.resolve(ask.other, flow, f"{where} -> ask -> other")
                self.missed.append(Missed(flow.id, node.id))
                return self.miss(flow, node, None)
            if chosen.value == PERSON:
                return self.to_person()
            self.accept(ask.var, chosen.value)
            self.vars.pop(ask.var + LABEL_SUFFIX, None)
            self.vars.pop(ask.var + SHOWN_SUFFIX, None)
            if dynamic and chosen in dynamic:
                self.vars[ask.var + LABEL_SUFFIX] = chosen.label.get(self.language)
            if chosen.goto is not None:
                return self.resolve(chosen.goto, flow, f"{where} -> goto")
            return self.after(flow, node, chosen.value)
        clean = raw.strip()
        if self.offers_person() and (
            (inp.kind == "choice" and inp.choice == PERSON)
            or normalize(clean) in {normalize(w) for w in self.person_words(flow)}
        ):
            return self.to_person()
        if not clean:
            return self.miss(flow, node, None)
        if inp.kind == "text" and self.aside(clean, free_text=True):
            return self.ask(flow, node)
        value: Value | None = clean[:MAX_ANSWER_CHARS]
        if ask.validator is not None:
            value = VALIDATORS[ask.validator](clean, self.ctx.now)
            if value is None:
                return self.miss(flow, node, ask.validator)
        assert value is not None
        self.accept(ask.var, value)
        return self.after(flow, node, None)

    def accept(self, var: str, value: Value) -> None:
        self.vars[var] = value
        self.misses = 0
        top = self.stack[-1]
        self.stack[-1] = Frame(top.flow, top.version, top.node, False)

    def miss(self, flow: Flow, node: Node, validator: str | None) -> _Target | None:
        self.misses += 1
        if self.misses >= MISSES_BEFORE_STUCK and self.lib.globals.person is None:
            self.misses = 0
            return self.stuck_target()
        ask = node.ask
        assert ask is not None
        where = f"{flow.file}: node '{node.id}' -> ask -> error"
        if self.offers_person():
            # Never lose progress: the same question again, and a person on offer.
            if ask.error is not None:
                self.outputs.append(Message(self.render(ask.error, flow, where)))
            else:
                self.outputs.append(Message(self.global_text("stuck_reask", flow)))
            return self.ask(flow, node)
        text = ask.error or (self.lib.globals.text(f"invalid_{validator}") if validator else None)
        if text is not None:
            self.outputs.append(Message(self.render(text, flow, where)))
        else:
            self.say_global("reask", flow)
        return self.ask(flow, node)

    # -- understanding typed answers ---------------------------------------------------

    def aside(self, text: str, *, free_text: bool = False, at_start: bool = False) -> bool:
        """Answers an FAQ question, thanks or a language switch met instead of an answer
        (flows.anywhere); False when the message is none of them. No miss is counted."""
        topic = anywhere.topic(self.lib, text, free_text=free_text)
        if topic is None:
            return False
        self.settle(topic.language)
        self.outputs += anywhere.answer(self.lib, topic, self.language, self.ctx, at_start=at_start)
        return True

    def settle(self, language: str | None) -> None:
        """Speaks `language` from now on (a first clear message, a start link, a switch)."""
        if language is None:
            return
        self.vars[anywhere.LANGUAGE_VAR] = language
        if language != self.language:
            self.language = language
            self.outputs.append(Effect("set_language", (("language", language),)))

    def dated(
        self, flow: Flow, node: Node, inp: Input, choices: Sequence[Choice]
    ) -> days.Decision | None:
        """A typed day or time, or a page of days, at a question of days or times."""
        return days.at_question(
            inp,
            choices,
            self.host_options(flow, node, shown=True) or (),
            lambda: self.host_options(flow, node) or (),
            self.ctx,
            words=self.lib.globals.words,
            texts=self.day_texts(flow),
            language=self.language,
        )

    def day_texts(self, flow: Flow) -> days.Texts:
        return lambda key, **extra: self.global_text(key, flow, **extra)

    def read(self, raw: str, choices: Sequence[Choice], yes_no: bool) -> Reading:
        return anywhere.read(self.lib, raw, choices, yes_no=yes_no)

    def maybe(self, var: str, choices: Sequence[Choice]) -> tuple[Choice, ...]:
        """The two choices of a close call just asked about (taken from the state)."""
        kept = self.vars.pop(var + MAYBE_SUFFIX, None)
        if not isinstance(kept, str):
            return ()
        try:
            values = [str(v) for v in json.loads(kept)]
        except (ValueError, TypeError):
            return ()
        return tuple(c for v in values for c in choices if c.value == v)

    def did_you_mean(
        self, flow: Flow, node: Node, reading: Reading, dynamic: Sequence[Choice]
    ) -> _Target | None:
        """Asks which of two close choices was meant, with those two as the options."""
        ask = node.ask
        assert ask is not None and reading.choice is not None and reading.other is not None
        where = f"{flow.file}: node '{node.id}' -> ask"
        pair = (reading.choice, reading.other)
        labels = [
            c.label.get(self.language) if c in dynamic else self.render(c.label, flow, where)
            for c in pair
        ]
        if reading.other.value == PERSON:
            labels[1] = self.global_text("person", flow)
        text = self.global_text("did_you_mean", flow, first=labels[0], second=labels[1])
        options = tuple(Option(c.value, shown) for c, shown in zip(pair, labels, strict=True))
        self.outputs.append(Message(text, options))
        self.vars[ask.var + MAYBE_SUFFIX] = json.dumps([c.value for c in pair])
        self.set_top(Frame(flow.id, flow.version, node.id, True))
        return None

    def offers_person(self) -> bool:
        """True when the question was missed twice in a row and a person is on offer."""
        return self.lib.globals.person is not None and self.misses >= MISSES_BEFORE_STUCK

    def person_words(self, flow: Flow) -> tuple[str, ...]:
        label = self.lib.globals.text("person") or DEFAULT_TEXTS["person"]
        return label.all() + PERSON_WORDS

    def person_choices(self, flow: Flow) -> tuple[Choice, ...]:
        if not self.offers_person():
            return ()
        label = self.lib.globals.text("person") or DEFAULT_TEXTS["person"]
        return (Choice(PERSON, label, PERSON_WORDS),)

    def to_person(self) -> _Target | None:
        """Leaves the question for a person; the answers given so far stay in the state."""
        self.misses = 0
        ref = self.lib.globals.person or self.lib.globals.stuck
        return self.global_target(ref, f"{self.lib.globals.file}: person")

"""Phase two of loading: the graph. Targets, reachability, dead ends, placeholders, calls.

Why a separate phase: these checks need every flow parsed first (a `next` may name
`triage.ask_who` in another file). Flows that failed phase one are skipped here,
and references into them are not reported twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from flows import placeholders
from flows.days import DAY_PLACEHOLDERS
from flows.errors import Problem
from flows.model import Flow, Globals, Node, SetAction, Text

BUILTIN_VARS = ("start_param",)
"""Variables the engine itself sets: `start_param` is the deep-link parameter of a start."""

ENGINE_PLACEHOLDERS = {"did_you_mean": ("first", "second"), **DAY_PLACEHOLDERS}
"""Placeholders the engine fills itself in a global text: the two choices of a close call."""

Path = tuple[str, ...]
Target = tuple[str, str]  # (flow id, node id)


def split_ref(ref: str, current_flow: str | None) -> Target | None:
    """`node` (in the current flow), `FLOW.NODE`, or, with no current flow, `FLOW` (its start)."""
    if "." in ref:
        flow_id, node_id = ref.split(".", 1)
        return flow_id, node_id
    if current_flow is None:
        return ref, ""
    return current_flow, ref


def known_vars(flows: Collection[Flow]) -> set[str]:
    names = set(BUILTIN_VARS)
    for flow in flows:
        for node in flow.nodes:
            if node.ask is not None:
                names.add(node.ask.var)
            for action in node.actions:
                names.add(action.var)
    return names


def node_texts(node: Node) -> Iterator[tuple[Path, str]]:
    """Every text of a node that is rendered, with its path, for placeholder checks."""
    at = (f"node '{node.id}'",)
    for i, action in enumerate(node.actions):
        if isinstance(action, SetAction) and isinstance(action.value, str):
            yield at + (f"actions[{i}]", "value"), action.value
    for i, text in enumerate(node.say):
        yield from _langs(at + (f"say[{i}]",), text)
    for i, effect in enumerate(node.effects):
        for key, value in effect.params:
            yield at + (f"effects[{i}]", key), value
    if node.ask is not None:
        yield from _langs(at + ("ask", "text"), node.ask.text)
        if node.ask.error is not None:
            yield from _langs(at + ("ask", "error"), node.ask.error)
        for i, choice in enumerate(node.ask.choices):
            yield from _langs(at + (f"choice[{i}]", "label"), choice.label)


def _langs(path: Path, text: Text) -> Iterator[tuple[Path, str]]:
    for lang, value in text.by_language:
        yield path + (lang,), value


def next_targets(node: Node) -> Iterator[tuple[Path, str]]:
    at = (f"node '{node.id}'",)
    if node.next is not None:
        yield at + ("next",), node.next
    for category, target in node.exits:
        yield at + (f"exits.{category}",), target
    if node.ask is not None:
        for i, choice in enumerate(node.ask.choices):
            if choice.goto is not None:
                yield at + (f"choice[{i}]",), choice.goto
        if node.ask.when_empty is not None:
            yield at + ("ask", "when_empty"), node.ask.when_empty
        if node.ask.other is not None:
            yield at + ("ask", "other"), node.ask.other


class GraphChecker:
    def __init__(
        self,
        flows: Mapping[str, Flow],
        broken: Collection[str],
        globals_: Globals | None,
        languages: Sequence[str],
        context_keys: Collection[str],
        option_sets: Collection[str] = (),
    ) -> None:
        self.flows = flows
        self.broken = set(broken)
        self.globals = globals_
        self.languages = tuple(languages)
        self.context_keys = set(context_keys)
        self.option_sets = set(option_sets)
        self.vars = known_vars(flows.values())
        self.problems: list[Problem] = []

    def add(self, file: str, path: Path, message: str) -> None:
        self.problems.append(Problem(file, path, message))

    def check(self) -> list[Problem]:
        for flow in self.flows.values():
            self.check_flow(flow)
        if self.globals is not None:
            self.check_globals(self.globals)
        if self.globals is not None and not self.broken:
            # Only trustworthy on a complete set: a broken file hides the paths it holds.
            self.check_reachable()
        self.check_call_cycles()
        return self.problems

    def resolve(self, ref: str, current: str | None) -> Target | None | bool:
        """The target, None when unknown, or True when it lies in a broken flow (unchecked)."""
        target = split_ref(ref, current)
        if target is None:
            return None
        flow_id, node_id = target
        if flow_id in self.broken:
            return True
        flow = self.flows.get(flow_id)
        if flow is None:
            return None
        if not node_id:
            return flow_id, flow.start
        return (flow_id, node_id) if flow.node(node_id) is not None else None

    def placeholder(self, file: str, path: Path, text: str, own: Sequence[str] = ()) -> None:
        try:
            names = placeholders.names(text)
        except placeholders.TemplateSyntaxError:
            return  # reported in phase one
        for name in names:
            if name in own:
                continue
            if name.startswith(placeholders.ANSWERS):
                if name[len(placeholders.ANSWERS) :] not in self.vars:
                    self.add(
                        file, path, f"unknown placeholder '{name}' (no flow sets that variable)"
                    )
            elif name not in self.context_keys:
                self.add(file, path, f"unknown placeholder '{name}' (not a context key)")

    def check_flow(self, flow: Flow) -> None:
        file = flow.file
        if flow.node(flow.start) is None:
            self.add(file, ("start",), f"unknown node '{flow.start}'")
        for i, entry in enumerate(flow.entries):
            if flow.node(entry) is None:
                self.add(file, (f"entries[{i}]",), f"unknown node '{entry}'")
        for node in flow.nodes:
            at = (f"node '{node.id}'",)
            for path, ref in next_targets(node):
                if self.resolve(ref, flow.id) is None:
                    self.add(file, path, f"unknown target '{ref}'")
            if (
                node.call is not None
                and node.call not in self.flows
                and node.call not in self.broken
            ):
                self.add(file, at + ("call",), f"unknown flow '{node.call}'")
            for path, text in node_texts(node):
                self.placeholder(file, path, text)
            for i, effect in enumerate(node.effects):
                language = dict(effect.params).get("language")
                if effect.name == "set_language" and language and "{" not in language:
                    if language not in self.languages:
                        self.add(
                            file,
                            at + (f"effects[{i}]", "language"),
                            f"'{language}' is not a configured language",
                        )
            ask = node.ask
            if ask is not None and ask.choices_from is not None:
                if ask.choices_from not in self.option_sets:
                    known = ", ".join(sorted(self.option_sets)) or "none"
                    self.add(
                        file,
                        at + ("ask", "choices_from"),
                        f"unknown option set '{ask.choices_from}' (known: {known})",
                    )
            self.check_way_on(file, node)

    def check_way_on(self, file: str, node: Node) -> None:
        at = (f"node '{node.id}'",)
        has_next = node.next is not None
        if node.router is not None and node.router.from_context:
            if node.router.var not in self.context_keys:
                self.add(file, at + ("router",), f"unknown context key '{node.router.var}'")
        elif node.router is not None and node.router.var not in self.vars:
            self.add(file, at + ("router",), f"unknown variable '{node.router.var}'")
        categories: list[str] = list(node.router.categories()) if node.router is not None else []
        if node.router is not None:
            for category in node.router.categories():
                if node.exit(category) is None and not has_next:
                    self.add(file, at + ("router",), f"category '{category}' has no exit")
        ask = node.ask
        if ask is not None and ask.choices_from is not None:
            # The host's options are only known at run time: they go on by a router or next.
            if not (node.router or has_next):
                self.add(
                    file, at + ("ask",), "no way on after a host option: add a next or a router"
                )
            if not ask.choices and ask.when_empty is None:
                self.add(
                    file,
                    at + ("ask",),
                    "needs 'when_empty': where to go when the host has no options",
                )
        if ask is not None and ask.type == "choice":
            categories += [c.value for c in ask.choices]
            for i, choice in enumerate(ask.choices):
                if not (choice.goto or node.router or node.exit(choice.value) or has_next):
                    self.add(
                        file, at + (f"choice[{i}]",), "no way on: give it a goto, an exit or a next"
                    )
        elif ask is not None and ask.type == "yesno":
            categories += ["yes", "no"]
            for answer in ("yes", "no"):
                if not (node.router or node.exit(answer) or has_next):
                    self.add(file, at + ("ask",), f"no way on for the answer '{answer}'")
        elif ask is not None and not (node.router or has_next):
            self.add(file, at + ("ask",), "no way on after the answer: add a next or a router")
        for category, _ in node.exits:
            if category not in categories:
                self.add(
                    file, at + (f"exits.{category}",), f"exit '{category}' matches no category"
                )
        if node.call is not None and not (has_next or node.router):
            self.add(file, at + ("call",), "no next to go on by when the called flow returns")
        if not (ask or node.call or node.router or has_next or node.end or node.ends_conversation):
            self.add(file, at, "dead end: no ask, call, router, next, end = true or end effect")

    def check_globals(self, globals_: Globals) -> None:
        file = globals_.file
        if globals_.entry not in self.flows and globals_.entry not in self.broken:
            self.add(file, ("entry",), f"unknown flow '{globals_.entry}'")
        if self.resolve(globals_.stuck, None) is None:
            self.add(file, ("stuck",), f"unknown target '{globals_.stuck}'")
        if globals_.person is not None and self.resolve(globals_.person, None) is None:
            self.add(file, ("person",), f"unknown target '{globals_.person}'")
        for command in globals_.commands:
            if self.resolve(command.goto, None) is None:
                self.add(
                    file, (f"command '{command.id}'", "goto"), f"unknown target '{command.goto}'"
                )
        for key, text in globals_.texts:
            for path, value in _langs(("texts", key), text):
                self.placeholder(file, path, value, ENGINE_PLACEHOLDERS.get(key, ()))

    def roots(self) -> list[Target]:
        found: list[Target] = [(f.id, f.start) for f in self.flows.values()]
        found += [(f.id, entry) for f in self.flows.values() for entry in f.entries]
        if self.globals is not None:
            refs = [self.globals.stuck] + [c.goto for c in self.globals.commands]
            refs += [self.globals.person] if self.globals.person is not None else []
            for ref in refs:
                target = self.resolve(ref, None)
                if isinstance(target, tuple):
                    found.append(target)
        return found

    def check_reachable(self) -> None:
        seen: set[Target] = set()
        todo = self.roots()
        while todo:
            flow_id, node_id = todo.pop()
            if (flow_id, node_id) in seen:
                continue
            seen.add((flow_id, node_id))
            node = self.flows[flow_id].node(node_id)
            if node is None:
                continue
            refs = [ref for _, ref in next_targets(node)]
            for ref in refs:
                target = self.resolve(ref, flow_id)
                if isinstance(target, tuple):
                    todo.append(target)
            if node.call is not None and node.call in self.flows:
                todo.append((node.call, self.flows[node.call].start))
        for flow in self.flows.values():
            for node in flow.nodes:
                if (flow.id, node.id) not in seen:
                    self.add(flow.file, (f"node '{node.id}'",), "unreachable: no path leads here")

    def check_call_cycles(self) -> None:
        calls: dict[str, list[tuple[str, str]]] = {}
        for flow in self.flows.values():
            calls[flow.id] = [
                (n.id, n.call) for n in flow.nodes if n.call is not None and n.call in self.flows
            ]
        reported: set[frozenset[str]] = set()

        def visit(flow_id: str, trail: list[str]) -> None:
            for node_id, callee in calls.get(flow_id, []):
                if callee in trail:
                    cycle = trail[trail.index(callee) :] + [callee]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        file = self.flows[flow_id].file
                        path = (f"node '{node_id}'", "call")
                        self.add(file, path, f"call cycle: {' -> '.join(cycle)}")
                else:
                    visit(callee, trail + [callee])

        for flow_id in sorted(calls):
            visit(flow_id, [flow_id])

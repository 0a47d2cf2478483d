"""Phase one of loading: the shape of each file, turned into model objects.

Why collect instead of raise: staff fix files in one pass when every problem is
listed at once, each with its file and path (`node 'ask_who' -> choice[3] -> label`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flows import placeholders
from flows.effects import EFFECTS
from flows.errors import Problem
from flows.matching import normalize
from flows.model import (
    Action,
    ArgValue,
    Ask,
    Case,
    Choice,
    Command,
    EffectCall,
    Flow,
    Globals,
    Node,
    OptionWords,
    Router,
    ScoreAction,
    SetAction,
    Text,
    Words,
)
from flows.router_tests import TESTS
from flows.validators import VALIDATORS

IDENT = re.compile(r"^[A-Za-z0-9_]+$")
ASK_TYPES = ("choice", "yesno", "text")

FLOW_KEYS = ("spec_version", "id", "name", "start", "nodes", "entries")
NODE_KEYS = ("id", "actions", "say", "effects", "ask", "call", "router", "next", "exits", "end")
ASK_KEYS = (
    "type", "var", "text", "choices", "validator", "error", "choices_from", "when_empty", "words",
    "other",
)  # fmt: skip
OPTION_WORDS_KEYS = ("value", "synonyms", "examples")
CHOICE_KEYS = ("value", "label", "synonyms", "goto", "examples")
ROUTER_KEYS = ("var", "context", "cases", "default")
CASE_KEYS = ("test", "arg", "category")
GLOBAL_KEYS = ("spec_version", "entry", "stuck", "person", "texts", "commands", "words")
WORDS_KEYS = ("replace", "stop", "light")
COMMAND_KEYS = ("id", "words", "goto")

Path = tuple[str, ...]


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


class Reader:
    """Reads one file's data, recording problems instead of raising."""

    def __init__(self, file: str, languages: Sequence[str]) -> None:
        self.file = file
        self.languages = tuple(languages)
        self.problems: list[Problem] = []

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def unknown_keys(self, data: dict[str, Any], allowed: Sequence[str], path: Path) -> None:
        for key in data:
            if key not in allowed:
                self.problem(path, f"unknown key '{key}'")

    def table(self, value: object, path: Path) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(path, f"must be a table, not {_kind(value)}")
        return None

    def array(self, value: object, path: Path) -> list[Any]:
        if isinstance(value, list):
            return value
        self.problem(path, f"must be an array, not {_kind(value)}")
        return []

    def string(
        self,
        data: dict[str, Any],
        key: str,
        path: Path,
        *,
        required: bool = True,
        ident: bool = False,
    ) -> str | None:
        if key not in data:
            if required:
                self.problem(path, f"missing key '{key}'")
            return None
        value = data[key]
        if not isinstance(value, str) or not value:
            self.problem(path + (key,), f"must be a non-empty string, not {_kind(value)}")
            return None
        if ident and not IDENT.match(value):
            self.problem(path + (key,), f"'{value}' may use only letters, digits and '_'")
            return None
        return value

    def ref(
        self, data: dict[str, Any], key: str, path: Path, *, required: bool = False
    ) -> str | None:
        """A node reference: `node` or `flow.node` (checked in the graph phase)."""
        value = self.string(data, key, path, required=required)
        if value is not None and not all(IDENT.match(p) for p in value.split(".", 1)):
            self.problem(path + (key,), f"'{value}' is not a node id or FLOW.NODE")
            return None
        return value

    def template(self, text: str, path: Path) -> None:
        try:
            placeholders.parse(text)
        except placeholders.TemplateSyntaxError as exc:
            self.problem(path, str(exc))

    def text(self, value: object, path: Path) -> Text | None:
        data = self.table(value, path)
        if data is None:
            return None
        for lang in self.languages:
            if lang not in data:
                self.problem(path, f"missing translation '{lang}'")
        pairs: list[tuple[str, str]] = []
        for lang, text in data.items():
            if lang not in self.languages:
                self.problem(path, f"unknown language '{lang}'")
            elif not isinstance(text, str) or not text.strip():
                self.problem(path + (lang,), f"must be a non-empty string, not {_kind(text)}")
            else:
                self.template(text, path + (lang,))
                pairs.append((lang, text))
        order = {lang: i for i, lang in enumerate(self.languages)}
        return Text(tuple(sorted(pairs, key=lambda p: order[p[0]])))

    # -- flows ---------------------------------------------------------------

    def flow(self, data: dict[str, Any], version: str, max_choices: int) -> Flow | None:
        before = len(self.problems)
        self.unknown_keys(data, FLOW_KEYS, ())
        flow_id = self.string(data, "id", (), ident=True)
        name = self.text(data["name"], ("name",)) if "name" in data else None
        if "name" not in data:
            self.problem((), "missing key 'name'")
        start = self.string(data, "start", (), ident=True)
        nodes: list[Node] = []
        if "nodes" not in data:
            self.problem((), "missing key 'nodes'")
        else:
            seen: set[str] = set()
            raw_nodes = self.array(data["nodes"], ("nodes",))
            if not raw_nodes and isinstance(data["nodes"], list):
                self.problem(("nodes",), "a flow needs at least one node")
            for i, raw in enumerate(raw_nodes):
                node = self.node(raw, i, max_choices)
                if node is None:
                    continue
                if node.id in seen:
                    self.problem((f"node '{node.id}'",), f"duplicate node id '{node.id}'")
                    continue
                seen.add(node.id)
                nodes.append(node)
        entries = self.entries(data.get("entries", []))
        if len(self.problems) > before or flow_id is None or name is None or start is None:
            return None
        return Flow(
            flow_id,
            name,
            start,
            tuple(nodes),
            self.file,
            version,
            int(data["spec_version"]),
            entries,
        )

    def entries(self, raw: object) -> tuple[str, ...]:
        """Node ids where the host may begin the flow (checked in the graph phase)."""
        items = self.array(raw, ("entries",))
        if not all(isinstance(item, str) and IDENT.match(item) for item in items):
            self.problem(("entries",), "must be an array of node ids")
            return ()
        return tuple(items)

    def node(self, raw: object, index: int, max_choices: int) -> Node | None:
        data = self.table(raw, (f"nodes[{index}]",))
        if data is None:
            return None
        node_id = self.string(data, "id", (f"nodes[{index}]",), ident=True)
        if node_id is None:
            return None
        at: Path = (f"node '{node_id}'",)
        self.unknown_keys(data, NODE_KEYS, at)
        actions = tuple(
            a
            for i, r in enumerate(self.array(data.get("actions", []), at + ("actions",)))
            if (a := self.action(r, at + (f"actions[{i}]",))) is not None
        )
        say = tuple(
            t
            for i, r in enumerate(self.array(data.get("say", []), at + ("say",)))
            if (t := self.text(r, at + (f"say[{i}]",))) is not None
        )
        effects = tuple(
            e
            for i, r in enumerate(self.array(data.get("effects", []), at + ("effects",)))
            if (e := self.effect(r, at + (f"effects[{i}]",))) is not None
        )
        ask = None
        if "ask" in data and (table := self.table(data["ask"], at + ("ask",))) is not None:
            ask = self.ask(table, at, max_choices)
        router = None
        if "router" in data and (table := self.table(data["router"], at + ("router",))) is not None:
            router = self.router(table, at + ("router",))
        exits: list[tuple[str, str]] = []
        if "exits" in data and (table := self.table(data["exits"], at + ("exits",))) is not None:
            for category in table:
                target = self.ref(table, category, at + ("exits",))
                if target is not None:
                    exits.append((category, target))
        call = self.string(data, "call", at, required=False, ident=True)
        next_ = self.ref(data, "next", at)
        end = data.get("end", False)
        if not isinstance(end, bool):
            self.problem(at + ("end",), f"must be true or false, not {_kind(end)}")
            end = False
        if "ask" in data and "call" in data:
            self.problem(at, "a node cannot both ask and call")
        if end:
            for key in ("ask", "call", "router", "next"):
                if key in data:
                    self.problem(at, f"end = true cannot be combined with '{key}'")
        return Node(node_id, actions, say, effects, ask, call, router, next_, tuple(exits), end)

    def action(self, raw: object, path: Path) -> Action | None:
        data = self.table(raw, path)
        if data is None:
            return None
        if "set" in data:
            self.unknown_keys(data, ("set", "value"), path)
            var = self.string(data, "set", path, ident=True)
            if "value" not in data:
                self.problem(path, "missing key 'value'")
                return None
            value = data["value"]
            if not isinstance(value, str | int | bool) or isinstance(value, float):
                self.problem(
                    path + ("value",), f"must be a string, number or boolean, not {_kind(value)}"
                )
                return None
            if isinstance(value, str):
                self.template(value, path + ("value",))
            return SetAction(var, value) if var else None
        if "score" in data:
            self.unknown_keys(data, ("score", "add"), path)
            var = self.string(data, "score", path, ident=True)
            add = data.get("add", 1)
            if isinstance(add, bool) or not isinstance(add, int):
                self.problem(path + ("add",), f"must be a whole number, not {_kind(add)}")
                return None
            return ScoreAction(var, add) if var else None
        self.problem(path, "an action needs 'set' (with 'value') or 'score' (with 'add')")
        return None

    def effect(self, raw: object, path: Path) -> EffectCall | None:
        data = self.table(raw, path)
        if data is None:
            return None
        name = self.string(data, "name", path)
        if name is None:
            return None
        spec = EFFECTS.get(name)
        if spec is None:
            self.problem(path, f"unknown effect '{name}' (known: {', '.join(sorted(EFFECTS))})")
            return None
        params: list[tuple[str, str]] = []
        for key, value in data.items():
            if key == "name":
                continue
            if key not in spec.required + spec.optional:
                self.problem(path, f"effect '{name}' has unknown parameter '{key}'")
                continue
            if not isinstance(value, str):
                self.problem(path + (key,), f"must be a string, not {_kind(value)}")
                continue
            self.template(value, path + (key,))
            allowed = spec.allowed_values(key)
            if allowed and "{" not in value and value not in allowed:
                self.problem(path + (key,), f"'{value}' is not one of {', '.join(allowed)}")
            params.append((key, value))
        for key in spec.required:
            if key not in data:
                self.problem(path, f"effect '{name}' is missing parameter '{key}'")
        return EffectCall(name, tuple(params))

    def ask(self, data: dict[str, Any], at: Path, max_choices: int) -> Ask | None:
        path = at + ("ask",)
        self.unknown_keys(data, ASK_KEYS, path)
        kind = self.string(data, "type", path)
        if kind is not None and kind not in ASK_TYPES:
            self.problem(path + ("type",), f"'{kind}' is not one of {', '.join(ASK_TYPES)}")
            kind = None
        var = self.string(data, "var", path, ident=True)
        text = self.text(data["text"], path + ("text",)) if "text" in data else None
        if "text" not in data:
            self.problem(path, "missing key 'text'")
        error = self.text(data["error"], path + ("error",)) if "error" in data else None
        validator = self.string(data, "validator", path, required=False)
        if validator is not None and (kind != "text" or validator not in VALIDATORS):
            self.problem(
                path + ("validator",),
                f"'{validator}' is not a validator for a {kind} question "
                f"(text questions take: {', '.join(VALIDATORS)})",
            )
        choices: list[Choice] = []
        choices_from = self.string(data, "choices_from", path, required=False, ident=True)
        when_empty = self.ref(data, "when_empty", path)
        if choices_from is not None and kind != "choice":
            self.problem(path + ("choices_from",), f"belongs only to a choice question, not {kind}")
        if when_empty is not None and choices_from is None:
            self.problem(path + ("when_empty",), "belongs only to a question with 'choices_from'")
        other = self.ref(data, "other", path)
        if other is not None and kind == "text":
            self.problem(path + ("other",), "belongs only to a choice or yes/no question")
        if kind == "choice":
            raw_choices = self.array(data.get("choices", []), path + ("choices",))
            if not raw_choices and choices_from is None:
                self.problem(path, "a choice question needs 'choices' or 'choices_from'")
            if len(raw_choices) > max_choices:
                self.problem(
                    path + ("choices",),
                    f"{len(raw_choices)} choices; a channel can show at most {max_choices}",
                )
            for i, raw in enumerate(raw_choices):
                choice = self.choice(raw, at + (f"choice[{i}]",))
                if choice is not None:
                    choices.append(choice)
            self.ambiguity(choices, at)
        elif "choices" in data:
            self.problem(path, f"'choices' belongs only to a choice question, not {kind}")
        words = self.option_words(data.get("words", []), path + ("words",))
        if words and choices_from is None:
            self.problem(path + ("words",), "belongs only to a question with 'choices_from'")
        if kind is None or var is None or text is None:
            return None
        return Ask(
            kind,
            var,
            text,
            tuple(choices),
            validator,
            error,
            choices_from,
            when_empty,
            words,
            other,
        )

    def option_words(self, raw: object, path: Path) -> tuple[OptionWords, ...]:
        """`[[nodes.ask.words]]`: synonyms and examples for the host's options by value."""
        found: list[OptionWords] = []
        for i, item in enumerate(self.array(raw, path)):
            at = path + (str(i),)
            data = self.table(item, at)
            if data is None:
                continue
            self.unknown_keys(data, OPTION_WORDS_KEYS, at)
            value = self.string(data, "value", at)
            synonyms = self.array(data.get("synonyms", []), at + ("synonyms",))
            if not all(isinstance(s, str) and normalize(s) for s in synonyms):
                self.problem(at + ("synonyms",), "must be an array of non-empty strings")
                synonyms = []
            examples = self.phrases(data.get("examples", {}), at + ("examples",))
            if value is not None:
                found.append(OptionWords(value, tuple(synonyms), examples))
        return tuple(found)

    def choice(self, raw: object, path: Path) -> Choice | None:
        data = self.table(raw, path)
        if data is None:
            return None
        self.unknown_keys(data, CHOICE_KEYS, path)
        value = self.string(data, "value", path)
        if value is not None and value.startswith("_"):
            self.problem(path + ("value",), f"'{value}': values starting with '_' are the engine's")
            value = None
        label = self.text(data["label"], path + ("label",)) if "label" in data else None
        if "label" not in data:
            self.problem(path, "missing key 'label'")
        synonyms = self.array(data.get("synonyms", []), path + ("synonyms",))
        if not all(isinstance(s, str) and normalize(s) for s in synonyms):
            self.problem(path + ("synonyms",), "must be an array of non-empty strings")
            synonyms = []
        goto = self.ref(data, "goto", path)
        examples = self.phrases(data.get("examples", {}), path + ("examples",))
        if value is None or label is None:
            return None
        return Choice(value, label, tuple(synonyms), goto, examples)

    def phrases(self, raw: object, path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Phrases per language (`{ id = [...], en = [...] }`); a language may be left out."""
        data = self.table(raw, path)
        if data is None:
            return ()
        found: dict[str, tuple[str, ...]] = {}
        for lang, items in data.items():
            if lang not in self.languages:
                self.problem(path, f"unknown language '{lang}'")
            elif not isinstance(items, list) or not all(
                isinstance(item, str) and normalize(item) for item in items
            ):
                self.problem(path + (lang,), "must be an array of non-empty strings")
            else:
                found[lang] = tuple(items)
        return tuple((lang, found[lang]) for lang in self.languages if lang in found)

    def ambiguity(self, choices: Sequence[Choice], at: Path) -> None:
        owner: dict[str, int] = {}
        values: set[str] = set()
        for i, choice in enumerate(choices):
            if choice.value in values:
                self.problem(at + (f"choice[{i}]",), f"duplicate choice value '{choice.value}'")
            values.add(choice.value)
            said = choice.label.all() + choice.synonyms + choice.all_examples()
            for word in {normalize(w) for w in said}:
                first = owner.setdefault(word, i)
                if first != i:
                    self.problem(at + (f"choice[{i}]",), f"'{word}' also means choice[{first}]")

    def router(self, data: dict[str, Any], path: Path) -> Router | None:
        self.unknown_keys(data, ROUTER_KEYS, path)
        from_context = "context" in data
        if from_context and "var" in data:
            self.problem(path, "a router tests either a 'var' or a 'context' key, not both")
        var = self.string(data, "context" if from_context else "var", path, ident=True)
        default = self.string(data, "default", path)
        cases: list[Case] = []
        for i, raw in enumerate(self.array(data.get("cases", []), path + ("cases",))):
            case_path = path + (f"case[{i}]",)
            case = self.table(raw, case_path)
            if case is None:
                continue
            self.unknown_keys(case, CASE_KEYS, case_path)
            test = self.string(case, "test", case_path)
            category = self.string(case, "category", case_path)
            if test is None or category is None:
                continue
            if test not in TESTS:
                self.problem(case_path, f"unknown test '{test}' (known: {', '.join(TESTS)})")
                continue
            arg = _arg(case.get("arg"))
            why = TESTS[test].check_arg(arg)
            if why is not None:
                self.problem(case_path, f"test '{test}' {why}")
                continue
            cases.append(Case(test, arg, category))
        if var is None or default is None:
            return None
        return Router(var, tuple(cases), default, from_context)

    # -- globals ---------------------------------------------------------------

    def globals(self, data: dict[str, Any], required_texts: Sequence[str]) -> Globals | None:
        before = len(self.problems)
        self.unknown_keys(data, GLOBAL_KEYS, ())
        entry = self.string(data, "entry", (), ident=True)
        stuck = self.ref(data, "stuck", (), required=True)
        person = self.ref(data, "person", ())
        words = self.words(data["words"]) if "words" in data else Words()
        texts: list[tuple[str, Text]] = []
        raw_texts = self.table(data.get("texts", {}), ("texts",)) or {}
        for key in required_texts:
            if key not in raw_texts:
                self.problem(("texts",), f"missing text '{key}'")
        for key, raw in raw_texts.items():
            text = self.text(raw, ("texts", key))
            if text is not None:
                texts.append((key, text))
        commands: list[Command] = []
        seen_words: dict[str, str] = {}
        for i, raw in enumerate(self.array(data.get("commands", []), ("commands",))):
            command = self.command(raw, (f"commands[{i}]",))
            if command is None:
                continue
            for word in command.all_words():
                other = seen_words.setdefault(normalize(word), command.id)
                if other != command.id:
                    self.problem(
                        (f"command '{command.id}'",),
                        f"word '{word}' is also a word of command '{other}'",
                    )
            commands.append(command)
        if len(self.problems) > before or entry is None or stuck is None:
            return None
        return Globals(entry, stuck, tuple(texts), tuple(commands), self.file, words, person)

    def words(self, raw: object) -> Words:
        """The word table: `[words.replace]` form = "standard words", `words.stop = [...]`,
        `words.light = [...]`."""
        data = self.table(raw, ("words",))
        if data is None:
            return Words()
        self.unknown_keys(data, WORDS_KEYS, ("words",))
        replace: list[tuple[str, str]] = []
        table = self.table(data.get("replace", {}), ("words", "replace")) or {}
        for form, standard in table.items():
            if len(normalize(form).split()) != 1:
                self.problem(("words", "replace"), f"'{form}' must be one word")
            elif not isinstance(standard, str) or not normalize(standard):
                self.problem(("words", "replace", form), f"must be words, not {_kind(standard)}")
            else:
                replace.append((form, standard))
        stop = self.array(data.get("stop", []), ("words", "stop"))
        if not all(isinstance(w, str) and len(normalize(w).split()) == 1 for w in stop):
            self.problem(("words", "stop"), "must be an array of single words")
            stop = []
        light = self.array(data.get("light", []), ("words", "light"))
        if not all(isinstance(w, str) and len(normalize(w).split()) == 1 for w in light):
            self.problem(("words", "light"), "must be an array of single words")
            light = []
        return Words(tuple(replace), tuple(stop), tuple(light))

    def command(self, raw: object, path: Path) -> Command | None:
        data = self.table(raw, path)
        if data is None:
            return None
        command_id = self.string(data, "id", path, ident=True)
        if command_id is not None:
            path = (f"command '{command_id}'",)
        self.unknown_keys(data, COMMAND_KEYS, path)
        goto = self.ref(data, "goto", path, required=True)
        words: list[tuple[str, tuple[str, ...]]] = []
        raw_words = self.table(data.get("words", {}), path + ("words",)) or {}
        for lang in self.languages:
            if lang not in raw_words:
                self.problem(path + ("words",), f"missing translation '{lang}'")
        for lang, items in raw_words.items():
            if lang not in self.languages:
                self.problem(path + ("words",), f"unknown language '{lang}'")
                continue
            if (
                not isinstance(items, list)
                or not items
                or not all(isinstance(w, str) and normalize(w) for w in items)
            ):
                self.problem(path + ("words", lang), "must be a non-empty array of words")
                continue
            words.append((lang, tuple(items)))
        if command_id is None or goto is None:
            return None
        return Command(command_id, tuple(words), goto)


def _arg(raw: object) -> ArgValue:
    if isinstance(raw, list):
        items = tuple(x for x in raw if isinstance(x, str | int) and not isinstance(x, bool))
        return items if len(items) == len(raw) else ()
    if isinstance(raw, str | int | bool) and not isinstance(raw, float):
        return raw
    return None

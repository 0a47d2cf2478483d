"""FlowLibrary: every loaded flow, by id and content version, plus the globals and FAQ.

Why versions: a conversation records the version it started on; when staff publish
a change, running conversations finish on the old one (`with_archived`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

from flows.checker import GraphChecker
from flows.errors import FlowSetError, Problem, UnknownFlowError
from flows.faq import NO_FAQ, Faq
from flows.model import Flow, Globals, Text
from flows.sources import content_version, parse_flow


class FlowLibrary:
    """Immutable after construction; shared by every conversation."""

    __slots__ = (
        "globals",
        "languages",
        "context_keys",
        "max_choices",
        "option_sets",
        "flow_ids",
        "faq",
        "_flows",
        "_current",
        "_sources",
        "_labels",
    )

    def __init__(
        self,
        globals_: Globals,
        flows: Mapping[tuple[str, str], Flow],
        current: Mapping[str, str],
        sources: Mapping[tuple[str, str], str],
        *,
        languages: tuple[str, ...],
        context_keys: Collection[str],
        max_choices: int,
        option_sets: Collection[str] = (),
        faq: Faq = NO_FAQ,
    ) -> None:
        self.globals = globals_
        self.faq = faq  # questions answered anywhere (faq.toml)
        self.languages = languages
        self.context_keys = frozenset(context_keys)
        self.max_choices = max_choices
        self.option_sets = frozenset(option_sets)
        self._flows = MappingProxyType(dict(flows))
        self._current = MappingProxyType(dict(current))
        self._sources = MappingProxyType(dict(sources))
        self.flow_ids: tuple[str, ...] = tuple(sorted(current))
        labels: dict[tuple[str, str], dict[str, dict[str, Text]]] = {}
        for key, flow in self._flows.items():
            per_var: dict[str, dict[str, Text]] = {}
            for node in flow.nodes:
                if node.ask is not None and node.ask.type == "choice":
                    slot = per_var.setdefault(node.ask.var, {})
                    for choice in node.ask.choices:
                        slot.setdefault(choice.value, choice.label)
            labels[key] = per_var
        self._labels = MappingProxyType(labels)

    def flow(self, flow_id: str, version: str | None = None) -> Flow:
        """The flow at `version` (None: the current one); UnknownFlowError if not held."""
        if version is None:
            if flow_id not in self._current:
                raise UnknownFlowError(f"unknown flow '{flow_id}'")
            version = self._current[flow_id]
        found = self._flows.get((flow_id, version))
        if found is None:
            raise UnknownFlowError(f"flow '{flow_id}' has no version '{version}'")
        return found

    def has_flow(self, flow_id: str, version: str | None = None) -> bool:
        if version is None:
            return flow_id in self._current
        return (flow_id, version) in self._flows

    def current_version(self, flow_id: str) -> str:
        if flow_id not in self._current:
            raise UnknownFlowError(f"unknown flow '{flow_id}'")
        return self._current[flow_id]

    def sources(self) -> Mapping[tuple[str, str], str]:
        """(flow id, version) -> TOML source, so the host can store published versions."""
        return self._sources

    def versions(self, flow_id: str) -> tuple[str, ...]:
        return tuple(sorted(v for f, v in self._flows if f == flow_id))

    def answer_label(self, flow: Flow, var: str, value: str) -> Text | None:
        """The label of the choice `value` stored in `var`: this flow first, then any flow."""
        own = self._labels.get((flow.id, flow.version), {}).get(var, {}).get(value)
        if own is not None:
            return own
        for per_var in self._labels.values():
            label = per_var.get(var, {}).get(value)
            if label is not None:
                return label
        return None

    def with_archived(self, sources: Iterable[str]) -> FlowLibrary:
        """A library that also holds these older published versions (TOML sources).

        Each archived flow is checked on its own (structure, and its graph against the
        current flows); current versions stay current. Raises FlowSetError if any
        source is invalid.
        """
        flows = dict(self._flows)
        texts = dict(self._sources)
        problems: list[Problem] = []
        added: list[Flow] = []
        for source in sources:
            version = content_version(source)
            file = f"<archived {version}>"
            flow, found = parse_flow(source, file, self.languages, self.max_choices)
            problems += found
            if flow is None or (flow.id, version) in flows:
                continue
            flow = _relabel(flow, f"{flow.id}.toml@{version}")
            current = {fid: self.flow(fid) for fid in self._current}
            current[flow.id] = flow
            checker = GraphChecker(
                current, (), None, self.languages, self.context_keys, self.option_sets
            )
            checker.check_flow(flow)
            problems += checker.problems
            flows[(flow.id, version)] = flow
            texts[(flow.id, version)] = source
            added.append(flow)
        if problems:
            raise FlowSetError(tuple(problems))
        return FlowLibrary(
            self.globals,
            flows,
            self._current,
            texts,
            languages=self.languages,
            context_keys=self.context_keys,
            max_choices=self.max_choices,
            option_sets=self.option_sets,
            faq=self.faq,
        )


def _relabel(flow: Flow, file: str) -> Flow:
    return Flow(
        flow.id,
        flow.name,
        flow.start,
        flow.nodes,
        file,
        flow.version,
        flow.spec_version,
        flow.entries,
    )

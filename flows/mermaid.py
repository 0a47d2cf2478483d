"""A flow as a Mermaid flowchart, so people can see a conversation's shape.

Node ids are prefixed (`n_`) because Mermaid breaks on a node called `end`;
labels are short (node id and the first words of what it says) with quotes and
`#` written as Mermaid entities.
"""

from __future__ import annotations

import re

from flows.checker import split_ref
from flows.library import FlowLibrary
from flows.model import Flow, Node

LABEL_WORDS = 6


def _id(flow: Flow, ref: str) -> str:
    flow_id, node_id = split_ref(ref, flow.id) or (flow.id, ref)
    raw = node_id if flow_id == flow.id else f"{flow_id}__{node_id}"
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", raw)


def escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    text = text.replace("#", "#35;").replace('"', "#quot;")
    return text.replace("<", "#lt;").replace(">", "#gt;")


def _summary(node: Node, language: str) -> str:
    texts = [t.get(language) for t in node.say]
    if node.ask is not None:
        texts.append(node.ask.text.get(language))
    words = " ".join(" ".join(texts).split()).split(" ")
    short = " ".join(words[:LABEL_WORDS])
    return short + (" …" if len(words) > LABEL_WORDS else "")


def _edge_label(text: str) -> str:
    return "|" + escape(text).replace("|", "#124;") + "|"


def flowchart(library: FlowLibrary, flow_id: str) -> str:
    """Mermaid `flowchart TD` text for the current version of `flow_id`."""
    flow = library.flow(flow_id)
    language = library.languages[0]
    lines = ["flowchart TD", f'  start(["{escape(flow.id)}: {escape(flow.name.get(language))}"])']
    lines.append(f"  start --> {_id(flow, flow.start)}")
    for entry in flow.entries:  # where the host may begin the flow
        lines.append(f"  start -.->|entry| {_id(flow, entry)}")
    outside: dict[str, str] = {}
    for node in flow.nodes:
        summary = _summary(node, language)
        label = escape(node.id + (f": {summary}" if summary.strip() else ""))
        shape = f'{{"{label}"}}' if node.router is not None else f'["{label}"]'
        lines.append(f"  {_id(flow, node.id)}{shape}")
        for kind, target in _edges(node):
            target_id = _id(flow, target)
            if "." in target and target.split(".", 1)[0] != flow.id:
                outside[target_id] = target
            lines.append(
                f"  {_id(flow, node.id)} -->{_edge_label(kind) if kind else ''} {target_id}"
            )
        if node.call is not None:
            callee = f"n_call_{re.sub(r'[^A-Za-z0-9_]', '_', node.call)}"
            outside[callee] = f"call {node.call}"
            lines.append(f"  {_id(flow, node.id)} -.->|call| {callee}")
        if node.end or node.ends_conversation:
            lines.append(f"  {_id(flow, node.id)} --> done((end))")
    for node_id, label in sorted(outside.items()):
        lines.append(f'  {node_id}[["{escape(label)}"]]')
    return "\n".join(lines) + "\n"


def _edges(node: Node) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    if node.ask is not None:
        for choice in node.ask.choices:
            if choice.goto is not None:
                edges.append((choice.value, choice.goto))
        if node.ask.when_empty is not None:
            edges.append(("no options", node.ask.when_empty))
        if node.ask.other is not None:
            edges.append(("other words", node.ask.other))
    edges += list(node.exits)
    if node.next is not None:
        edges.append(("", node.next))
    return edges

"""A flow as a picture: an SVG diagram drawn here, for the console (no script, no CDN).

The graph is the one `flows.mermaid` writes as text (steps, the answers that lead
on, calls and returns, jumps into other flows, where the conversation ends), plus
the global commands that lead into the flow, so that nodes reached only by a
command word are not left floating. `flows.layered` places it; this module draws
it: rounded boxes with the node id and the first words of what it says, arrows
with their answer or category, distinct shapes and colours per kind, a legend.

Everything is pure and deterministic (same flow, same bytes). Every text is
XML-escaped, and characters XML cannot hold are dropped, so a label with `<`,
`&` or a control character cannot break the page. Colours are presentation
attributes, never `style=""`: the console's Content-Security-Policy forbids
inline styles, and a saved copy of the SVG looks the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from flows.checker import split_ref
from flows.layered import Box, Layout, Placed, Route, layout
from flows.library import FlowLibrary
from flows.model import Node

__all__ = ["DiagramEdge", "DiagramNode", "Graph", "Legend", "diagram", "graph_of", "render_svg"]

Kind = Literal["start", "commands", "say", "ask", "router", "call", "handoff", "outside"]
EdgeKind = Literal["next", "entry", "call", "command"]

START = "@start"
COMMANDS = "@commands"
SUMMARY_WORDS = 16
WIDTH = 196.0
TITLE_CHARS = 24
LINE_CHARS = 28
SUMMARY_LINES = 3
CHAR_WIDTH = 6.4  # an average glyph at 11-12 px, a little generous so text fits
LABEL_CHARS = 28
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

# (fill, stroke) per kind: light fills, dark strokes, dark text (contrast >= 7:1).
COLOURS: dict[str, tuple[str, str]] = {
    "start": ("#e6f4ea", "#1e7b3a"),
    "commands": ("#e6f4ea", "#1e7b3a"),
    "say": ("#ffffff", "#5b6672"),
    "ask": ("#eef4fb", "#0b5cad"),
    "router": ("#fff4d6", "#8a5a00"),
    "call": ("#f1ecfa", "#6a3fb5"),
    "handoff": ("#fde8e9", "#a4121b"),
    "outside": ("#f6f8fa", "#4a5561"),
}
EDGE_COLOURS: dict[str, str] = {
    "next": "#4a5561",
    "back": "#b35c00",
    "entry": "#1e7b3a",
    "command": "#1e7b3a",
    "call": "#6a3fb5",
}
INK = "#1b1f24"
MUTED = "#39434d"


@dataclass(frozen=True, slots=True)
class DiagramNode:
    key: str  # unique in the graph: a node id, or "@start", "@commands", "@x:FLOW.NODE"
    kind: Kind
    title: str
    text: str = ""
    end: bool = False  # the flow (or the whole conversation) ends here


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    source: str
    target: str
    label: str = ""
    kind: EdgeKind = "next"


@dataclass(frozen=True, slots=True)
class Graph:
    flow_id: str
    name: str
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]

    def node(self, key: str) -> DiagramNode:
        for node in self.nodes:
            if node.key == key:
                return node
        raise KeyError(key)


@dataclass(frozen=True, slots=True)
class Legend:
    """The picture's own words, in the reader's language (the console passes its texts)."""

    title: str = "Diagram of the flow {flow}"
    summary: str = "{nodes} steps and {edges} arrows; {back} arrows go back."
    start: str = "start"
    commands: str = "global commands"
    say: str = "message"
    ask: str = "question"
    router: str = "decision"
    call: str = "calls a flow"
    handoff: str = "hand-off to a person"
    outside: str = "another flow"
    end: str = "ends"
    back: str = "goes back"


# --- the graph ------------------------------------------------------------------------


def graph_of(library: FlowLibrary, flow_id: str, language: str | None = None) -> Graph:
    """The current version of `flow_id` as boxes and arrows (texts in `language`)."""
    flow = library.flow(flow_id)
    lang = language if language in library.languages else library.languages[0]
    nodes: dict[str, DiagramNode] = {
        START: DiagramNode(START, "start", flow.id, flow.name.get(lang))
    }
    edges: list[DiagramEdge] = []
    outside: dict[str, DiagramNode] = {}

    def target(ref: str) -> str:
        flow_ref, node_id = split_ref(ref, flow.id) or (flow.id, ref)
        if flow_ref == flow.id and flow.node(node_id or flow.start) is not None:
            return node_id or flow.start
        key = f"@x:{flow_ref}.{node_id}"
        if key not in outside:
            title = "→ " + (flow_ref if flow_ref != flow.id else ref)
            outside[key] = DiagramNode(key, "outside", title, node_id or "start")
        return key

    edges.append(DiagramEdge(START, flow.start))
    for entry in flow.entries:
        edges.append(DiagramEdge(START, target(entry), "entry", "entry"))
    commands = [(command.id, command.goto) for command in library.globals.commands] + [
        ("stuck", library.globals.stuck)
    ]
    for name, goto in commands:
        flow_ref, node_id = split_ref(goto, None) or ("", "")
        if flow_ref == flow.id:
            edges.append(DiagramEdge(COMMANDS, target(node_id or flow.start), name, "command"))
    if any(e.source == COMMANDS for e in edges):
        nodes[COMMANDS] = DiagramNode(COMMANDS, "commands", "", "")
    for node in flow.nodes:
        nodes[node.id] = DiagramNode(
            node.id,
            _kind(node),
            node.id,
            _summary(node, lang),
            node.end or node.ends_conversation,
        )
        for label, ref in _exits(node):
            edges.append(DiagramEdge(node.id, target(ref), label))
        if node.call is not None:
            key = f"@call:{node.call}"
            if key not in outside:
                name = library.flow(node.call).name.get(lang) if library.has_flow(node.call) else ""
                outside[key] = DiagramNode(key, "outside", f"↳ {node.call}", name)
            edges.append(DiagramEdge(node.id, key, "call", "call"))
    nodes.update(sorted(outside.items()))
    return Graph(flow.id, flow.name.get(lang), tuple(nodes.values()), _merged(edges))


def _kind(node: Node) -> Kind:
    if any(e.name == "handoff" for e in node.effects):
        return "handoff"
    if node.call is not None:
        return "call"
    if node.router is not None:
        return "router"
    if node.ask is not None:
        return "ask"
    return "say"


def _summary(node: Node, language: str) -> str:
    texts = [t.get(language) for t in node.say]
    if node.ask is not None:
        texts.append(node.ask.text.get(language))
    words = " ".join(texts).split()
    short = " ".join(words[:SUMMARY_WORDS])
    return short + (" …" if len(words) > SUMMARY_WORDS else "")


def _exits(node: Node) -> list[tuple[str, str]]:
    """Where a node may go on, with the answer or category that leads there."""
    out: list[tuple[str, str]] = []
    if node.ask is not None:
        out += [(c.value, c.goto) for c in node.ask.choices if c.goto is not None]
        if node.ask.when_empty is not None:
            out.append(("no options", node.ask.when_empty))
        if node.ask.other is not None:
            out.append(("other words", node.ask.other))
    out += list(node.exits)
    if node.next is not None:
        out.append(("", node.next))
    return out


def _merged(edges: list[DiagramEdge]) -> tuple[DiagramEdge, ...]:
    """One arrow per (source, target, kind); their labels joined (two answers, one way)."""
    labels: dict[tuple[str, str, str], list[str]] = {}
    for edge in edges:
        found = labels.setdefault((edge.source, edge.target, edge.kind), [])
        if edge.label and edge.label not in found:
            found.append(edge.label)
    return tuple(
        DiagramEdge(s, t, ", ".join(found), kind)  # type: ignore[arg-type]
        for (s, t, kind), found in labels.items()
    )


# --- drawing --------------------------------------------------------------------------


def diagram(library: FlowLibrary, flow_id: str, legend: Legend = Legend()) -> str:
    """The SVG picture of `flow_id` (its current version in `library`)."""
    return render_svg(graph_of(library, flow_id), legend)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml(text: str) -> str:
    """Text safe inside an XML element or a quoted attribute."""
    text = _NOT_XML.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#39;")


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def wrap(text: str, chars: int = LINE_CHARS, lines: int = SUMMARY_LINES) -> list[str]:
    """Greedy word wrap to `lines` lines of `chars` at most; an overlong word is cut."""
    out: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > chars:
            if current:
                out.append(current)
                current = ""
            out.append(word[: chars - 1] + "-")
            word = word[chars - 1 :]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= chars:
            current += " " + word
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = _clip(out[-1] + " …", chars) if len(out[-1]) + 2 <= chars else out[-1][:-1] + "…"
    return out


@dataclass(frozen=True, slots=True)
class _Text:
    title: str
    lines: tuple[str, ...]


def _texts(node: DiagramNode, legend: Legend) -> _Text:
    title = legend.commands if node.kind == "commands" else node.title
    return _Text(_clip(title, TITLE_CHARS), tuple(wrap(node.text)))


def _height(text: _Text) -> float:
    # The title's baseline is at 22, each line 14 below the last, and room under the last.
    return 34 + (4 + 14 * len(text.lines) if text.lines else 0)


def render_svg(graph: Graph, legend: Legend = Legend()) -> str:
    """The graph drawn as one standalone SVG document (no script, no style attribute)."""
    texts = {node.key: _texts(node, legend) for node in graph.nodes}
    boxes = [Box(node.key, WIDTH, _height(texts[node.key])) for node in graph.nodes]
    placed = layout(boxes, [(e.source, e.target) for e in graph.edges], root=START)
    legend_svg, legend_w, legend_h = _legend(legend, 720.0)
    width = max(placed.width, legend_w)
    height = placed.height + legend_h + 20  # room for the end marks under the last row
    backs = sum(1 for r in placed.routes if r.back)
    title = legend.title.format(flow=graph.flow_id)
    summary = legend.summary.format(nodes=len(graph.nodes), edges=len(graph.edges), back=backs)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" width="{_n(width)}"'
        f' height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" role="img"'
        f' aria-labelledby="dg-title dg-desc" font-family="{xml(FONT)}" font-size="12">',
        f'<title id="dg-title">{xml(title)}</title>',
        f'<desc id="dg-desc">{xml(graph.name)}. {xml(summary)}</desc>',
        _defs(),
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        legend_svg,
        f'<g transform="translate(0,{_n(legend_h)})">',
        _edges(graph, placed),
        _nodes(graph, placed, texts),
        _labels(graph, placed),
        "</g>",
        "</svg>",
    ]
    return "\n".join(out) + "\n"


def _defs() -> str:
    markers = []
    for name, colour in EDGE_COLOURS.items():
        markers.append(
            f'<marker id="dg-arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5"'
            ' markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    return "<defs>" + "".join(markers) + "</defs>"


def _path(route: Route) -> str:
    points = route.points
    x0, y0 = points[0]
    parts = [f"M{_n(x0)},{_n(y0)}"]
    if route.loop:
        (x1, y1), (x2, y2), (x3, y3) = points[1:4]
        parts.append(f"C{_n(x1)},{_n(y1)} {_n(x2)},{_n(y2)} {_n(x3)},{_n(y3)}")
        return " ".join(parts)
    for i in range(len(points) - 1):
        (ax, ay), (bx, by) = points[i], points[i + 1]
        if i % 2 == 1:  # through a waypoint: straight down (or up) its lane
            parts.append(f"L{_n(bx)},{_n(by)}")
        else:
            mid = (ay + by) / 2
            parts.append(f"C{_n(ax)},{_n(mid)} {_n(bx)},{_n(mid)} {_n(bx)},{_n(by)}")
    return " ".join(parts)


def _edge_style(edge: DiagramEdge, route: Route) -> tuple[str, str]:
    """(colour key, dash pattern) of an edge."""
    if edge.kind in ("entry", "command"):
        return edge.kind, "2 4"
    if edge.kind == "call":
        return "call", "6 4"
    if route.back:
        return "back", "7 4"
    return "next", ""


def _edges(graph: Graph, placed: Layout) -> str:
    out = ['<g class="edges" fill="none" stroke-width="1.6">']
    for route in placed.routes:
        edge = graph.edges[route.edge]
        colour, dash = _edge_style(edge, route)
        source, target = graph.node(edge.source), graph.node(edge.target)
        what = f"{source.title or edge.source} → {target.title}"
        if edge.label:
            what += f" ({edge.label})"
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<g class="edge edge-{edge.kind}{" back" if route.back else ""}"'
            f' id="dg-edge-{route.edge}"><title>{xml(what)}</title>'
            f'<path d="{_path(route)}" stroke="{EDGE_COLOURS[colour]}"{dashed}'
            f' marker-end="url(#dg-arrow-{colour})"/></g>'
        )
    out.append("</g>")
    return "\n".join(out)


def _shape(kind: Kind, box: Placed) -> str:
    fill, stroke = COLOURS[kind]
    x, y, w, h = box.x, box.y, box.width, box.height
    common = f'fill="{fill}" stroke="{stroke}"'
    if kind in ("start", "commands"):
        dash = ' stroke-dasharray="5 3"' if kind == "commands" else ""
        return (
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="{_n(h / 2)}"'
            f' {common} stroke-width="2"{dash}/>'
        )
    if kind == "router":
        k = min(12.0, w / 4)
        pts = [(x + k, y), (x + w - k, y), (x + w, y + h / 2), (x + w - k, y + h), (x + k, y + h)]
        pts.append((x, y + h / 2))
        return (
            f'<polygon points="{" ".join(f"{_n(a)},{_n(b)}" for a, b in pts)}"'
            f' {common} stroke-width="1.6"/>'
        )
    dash = ' stroke-dasharray="5 3"' if kind == "outside" else ""
    rect = (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" rx="8" {common}'
        f' stroke-width="{"2.6" if kind == "handoff" else "1.6"}"{dash}/>'
    )
    if kind == "call":  # a subroutine box: bars inside both sides
        bars = "".join(
            f'<line x1="{_n(bx)}" y1="{_n(y)}" x2="{_n(bx)}" y2="{_n(y + h)}"'
            f' stroke="{stroke}" stroke-width="1.6"/>'
            for bx in (x + 8, x + w - 8)
        )
        return rect + bars
    return rect


def _nodes(graph: Graph, placed: Layout, texts: dict[str, _Text]) -> str:
    out = ['<g class="nodes">']
    for i, node in enumerate(graph.nodes):
        box = placed.box(node.key)
        text = texts[node.key]
        full = node.title if node.kind != "commands" else text.title
        if node.text:
            full += f": {node.text}"
        ends = " end" if node.end else ""
        out.append(f'<g class="node kind-{node.kind}{ends}" id="dg-node-{i}">')
        out.append(f"<title>{xml(full)}</title>")
        out.append(_shape(node.kind, box))
        cx = box.x + box.width / 2
        y = box.y + 22
        out.append(
            f'<text x="{_n(cx)}" y="{_n(y)}" text-anchor="middle" font-weight="700"'
            f' fill="{INK}">{xml(text.title)}</text>'
        )
        if text.lines:
            spans = "".join(
                f'<tspan x="{_n(cx)}" y="{_n(y + 17 + 14 * k)}">{xml(line)}</tspan>'
                for k, line in enumerate(text.lines)
            )
            out.append(f'<text text-anchor="middle" font-size="11" fill="{MUTED}">{spans}</text>')
        if node.end:  # a terminal under the box: the flow or conversation stops here
            bottom = box.y + box.height
            out.append(
                f'<line x1="{_n(cx)}" y1="{_n(bottom)}" x2="{_n(cx)}" y2="{_n(bottom + 10)}"'
                f' stroke="{INK}" stroke-width="1.6"/>'
                f'<circle cx="{_n(cx)}" cy="{_n(bottom + 17)}" r="7" fill="{INK}"'
                f' stroke="#ffffff" stroke-width="2"/>'
                f'<circle cx="{_n(cx)}" cy="{_n(bottom + 17)}" r="9" fill="none"'
                f' stroke="{INK}" stroke-width="1.2"/>'
            )
        out.append("</g>")
    out.append("</g>")
    return "\n".join(out)


def _bezier(route: Route, t: float) -> tuple[float, float]:
    """The point at `t` on a route's first segment (where a label belongs)."""
    (ax, ay), (bx, by) = route.points[0], route.points[1]
    if route.loop:
        return route.points[1][0] + 4, (route.points[1][1] + route.points[2][1]) / 2
    mid = (ay + by) / 2
    u = 1 - t
    x = u**3 * ax + 3 * u * u * t * ax + 3 * u * t * t * bx + t**3 * bx
    y = u**3 * ay + 3 * u * u * t * mid + 3 * u * t * t * mid + t**3 * by
    return x, y


Rect = tuple[float, float, float, float]


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _labels(graph: Graph, placed: Layout) -> str:
    """Edge labels on a white ground, each placed where it hides no box or other label."""
    taken: list[Rect] = [(b.x - 2, b.y - 2, b.width + 4, b.height + 4) for b in placed.boxes]
    out = ['<g class="edge-labels" font-size="11">']
    for route in placed.routes:
        edge = graph.edges[route.edge]
        if not edge.label:
            continue
        label = _clip(edge.label, LABEL_CHARS)
        w, h = len(label) * CHAR_WIDTH * 0.95 + 8, 15.0
        chosen: Rect | None = None
        for t in (0.5, 0.3, 0.7, 0.15, 0.85, 0.42, 0.58):
            x, y = _bezier(route, t)
            rect = (x + 3, y - h / 2, w, h) if route.loop else (x - w / 2, y - h / 2, w, h)
            if not any(_overlaps(rect, other) for other in taken):
                chosen = rect
                break
        if chosen is None:
            x, y = _bezier(route, 0.5)
            chosen = (x - w / 2, y - h / 2, w, h)
        taken.append(chosen)
        x, y, w, h = chosen
        colour = EDGE_COLOURS[_edge_style(edge, route)[0]]
        out.append(
            f'<g class="edge-label"><rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}"'
            f' height="{_n(h)}" rx="3" fill="#ffffff" stroke="{colour}" stroke-width="0.8"/>'
            f'<text x="{_n(x + w / 2)}" y="{_n(y + h - 4)}" text-anchor="middle"'
            f' fill="{INK}">{xml(label)}</text></g>'
        )
    out.append("</g>")
    return "\n".join(out)


def _legend(legend: Legend, limit: float) -> tuple[str, float, float]:
    """A key to the shapes, in rows no wider than `limit`; (svg, width, height)."""
    items: list[tuple[str, str]] = [
        ("start", legend.start),
        ("commands", legend.commands),
        ("say", legend.say),
        ("ask", legend.ask),
        ("router", legend.router),
        ("call", legend.call),
        ("handoff", legend.handoff),
        ("outside", legend.outside),
        ("end", legend.end),
        ("back", legend.back),
    ]
    out = ['<g class="legend" font-size="11">']
    x, y, row_h, widest = 16.0, 10.0, 24.0, 0.0
    for kind, text in items:
        item_w = 34 + len(text) * CHAR_WIDTH + 18
        if x + item_w > limit and x > 16:
            x, y = 16.0, y + row_h
        sample = Placed("", x, y, 28, 16, 0)
        if kind == "end":
            shape = (
                f'<circle cx="{_n(x + 14)}" cy="{_n(y + 8)}" r="6" fill="{INK}"'
                ' stroke="#ffffff" stroke-width="2"/>'
                f'<circle cx="{_n(x + 14)}" cy="{_n(y + 8)}" r="8" fill="none"'
                f' stroke="{INK}" stroke-width="1.2"/>'
            )
        elif kind == "back":
            shape = (
                f'<path d="M{_n(x)},{_n(y + 12)} L{_n(x + 26)},{_n(y + 4)}" fill="none"'
                f' stroke="{EDGE_COLOURS["back"]}" stroke-width="1.6" stroke-dasharray="7 4"'
                ' marker-end="url(#dg-arrow-back)"/>'
            )
        else:
            shape = _shape(kind, sample)  # type: ignore[arg-type]
        out.append(
            f'<g class="legend-item">{shape}<text x="{_n(x + 34)}" y="{_n(y + 12)}"'
            f' fill="{INK}">{xml(text)}</text></g>'
        )
        x += item_w
        widest = max(widest, x)
    out.append("</g>")
    return "\n".join(out), widest + 16, y + row_h + 8

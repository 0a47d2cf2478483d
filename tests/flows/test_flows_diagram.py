"""The flow diagram as SVG: every step and arrow drawn, nothing overlapping, every text
escaped, the same bytes every time, for each bundled flow and the fixture flows."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from flows.diagram import LINE_CHARS, SUMMARY_LINES, Graph, Legend, diagram, graph_of, wrap, xml
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.mermaid import flowchart

SVG = "{http://www.w3.org/2000/svg}"
BASIC = Path(__file__).parent / "fixtures" / "basic"
BUNDLED_FLOWS = (
    "booking",
    "crisis",
    "feedback",
    "info",
    "privacy",
    "safety_check",
    "triage",
    "welcome",
)


@cache
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


Rect = tuple[float, float, float, float]


def bounds(shape: ET.Element) -> Rect:
    """x, y, width, height of a node's outline (a rect or a polygon)."""
    if shape.tag == SVG + "rect":
        return tuple(float(shape.get(k, "0")) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]
    points = [tuple(map(float, p.split(","))) for p in shape.get("points", "").split()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def nodes_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(SVG + "g") if "node" in g.get("class", "").split()]


def edges_of(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(SVG + "g") if "edge" in g.get("class", "").split()]


def title_of(element: ET.Element) -> str:
    title = element.find(SVG + "title")
    assert title is not None and title.text is not None
    return title.text


def mermaid_pairs(
    library: FlowLibrary, flow_id: str, graph: Graph
) -> tuple[set[tuple[str, str]], set[str]]:
    """The arrows of the Mermaid text as graph keys, and the nodes it ends at `done`."""
    ids = {}
    for node in graph.nodes:
        if node.key == "@start":
            ids["start"] = node.key
        elif node.key.startswith("@call:"):
            ids["n_call_" + re.sub(r"[^A-Za-z0-9_]", "_", node.key[6:])] = node.key
        elif node.key.startswith("@x:"):
            flow, _, node_id = node.key[3:].partition(".")
            ids["n_" + re.sub(r"[^A-Za-z0-9_]", "_", f"{flow}__{node_id}")] = node.key
        else:
            ids["n_" + node.key] = node.key
    pairs: set[tuple[str, str]] = set()
    ends: set[str] = set()
    arrow = re.compile(r"^\s+(\S+) -\.?->(?:\|[^|]*\|)? ([A-Za-z0-9_]+)")
    for line in flowchart(library, flow_id).splitlines():
        found = arrow.match(line)
        if found is None:
            continue
        source, target = found.groups()
        if target == "done":
            ends.add(ids[source])
        else:
            pairs.add((ids[source], ids[target]))
    return pairs, ends


@pytest.mark.parametrize("flow_id", BUNDLED_FLOWS)
def test_every_step_and_arrow_of_a_bundled_flow_is_drawn(flow_id: str) -> None:
    library = bundled()
    graph = graph_of(library, flow_id)
    root = ET.fromstring(diagram(library, flow_id))
    drawn = nodes_of(root)
    assert len(drawn) == len(graph.nodes)
    titles = [title_of(g) for g in drawn]
    for node in library.flow(flow_id).nodes:  # each step once, by its id
        assert sum(1 for t in titles if t == node.id or t.startswith(node.id + ": ")) == 1
    assert len(edges_of(root)) == len(graph.edges)
    # The same graph the Mermaid text walks: every arrow there is an arrow here.
    pairs, ends = mermaid_pairs(library, flow_id, graph)
    keys = {(e.source, e.target) for e in graph.edges}
    assert pairs <= keys
    assert {k for k in keys if k[0] != "@commands"} == pairs
    ended = {n.key for n in graph.nodes if n.end}
    assert ended == ends
    assert sum(1 for g in drawn if "end" in g.get("class", "").split()) == len(ends)


@pytest.mark.parametrize("flow_id", BUNDLED_FLOWS)
def test_no_two_boxes_overlap_and_every_arrow_stays_on_the_page(flow_id: str) -> None:
    root = ET.fromstring(diagram(bundled(), flow_id))
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    boxes = [bounds(g.findall("./*")[1]) for g in nodes_of(root)]
    for i, a in enumerate(boxes):
        assert a[2] > 0 and a[3] > 0
        assert 0 <= a[0] and a[0] + a[2] <= width and 0 <= a[1] and a[1] + a[3] <= height
        for b in boxes[i + 1 :]:
            apart = (
                a[0] + a[2] <= b[0]
                or b[0] + b[2] <= a[0]
                or a[1] + a[3] <= b[1]
                or b[1] + b[3] <= a[1]
            )
            assert apart, (a, b)
    for edge in edges_of(root):
        path = edge.find(SVG + "path")
        assert path is not None
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        assert all(-1 <= x <= width for x in numbers[0::2]) and all(
            -1 <= y <= height for y in numbers[1::2]
        )


@pytest.mark.parametrize("flow_id", ["check", "contact", "feedback", "intake", "loop", "welcome"])
def test_the_fixture_flows_calls_and_loops_included_are_drawn_whole(flow_id: str) -> None:
    library = load_library(BASIC)
    graph = graph_of(library, flow_id)
    root = ET.fromstring(diagram(library, flow_id))
    assert len(nodes_of(root)) == len(graph.nodes)
    assert len(edges_of(root)) == len(graph.edges)
    pairs, ends = mermaid_pairs(library, flow_id, graph)
    assert {(e.source, e.target) for e in graph.edges if e.source != "@commands"} == pairs
    assert {n.key for n in graph.nodes if n.end} == ends


def test_back_edges_are_drawn_dashed_and_going_up() -> None:
    root = ET.fromstring(diagram(bundled(), "welcome"))
    back = [g for g in edges_of(root) if "back" in g.get("class", "").split()]
    assert back, "welcome leads back to its menu"
    for edge in back:
        path = edge.find(SVG + "path")
        assert path is not None and path.get("stroke-dasharray")
        ys = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))][1::2]
        assert ys[-1] < ys[0]  # ends above where it starts


def test_the_diagram_is_the_same_bytes_every_time() -> None:
    first = diagram(bundled(), "triage")
    again = diagram(load_library(bundled_library_dir()), "triage")
    assert first == again


def test_every_text_is_escaped_and_the_svg_holds_no_script_or_inline_style(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    shutil.copytree(BASIC, folder)
    welcome = folder / "welcome.toml"
    evil = '<script>alert(\\"x\\")</script> & <b>Co</b> \' \\u0001'
    text = welcome.read_text(encoding="utf-8")
    text = text.replace('name = { id = "Sambutan"', f'name = {{ id = "{evil}"', 1)
    text = text.replace("Halo, selamat datang di {office_name}.", evil, 1)
    welcome.write_text(text, encoding="utf-8")
    library = load_library(folder)
    svg = diagram(library, "welcome", Legend(start="<i>&mulai</i>"))
    assert "<script" not in svg and "style=" not in svg and "<b>" not in svg and "<i>" not in svg
    root = ET.fromstring(svg)  # well-formed XML despite <, &, quotes and a control character
    assert not [e for e in root.iter() if e.tag.endswith(("script", "foreignObject"))]
    assert not [e for e in root.iter() if any(k.startswith("on") for k in e.attrib)]
    shown = "".join(root.itertext())
    assert '<script>alert("x")</script> & <b>Co</b> \'' in shown
    assert "<i>&mulai</i>" in shown
    assert "\x01" not in svg


def test_the_picture_describes_itself_for_screen_readers() -> None:
    legend = Legend(
        title="Diagram alur {flow}", summary="{nodes} kotak, {edges} panah, {back} kembali."
    )
    root = ET.fromstring(diagram(bundled(), "crisis", legend))
    graph = graph_of(bundled(), "crisis")
    assert root.get("role") == "img" and root.get("aria-labelledby") == "dg-title dg-desc"
    assert title_of(root) == "Diagram alur crisis"
    desc = root.find(SVG + "desc")
    assert desc is not None and desc.text == (
        f"Bantuan darurat. {len(graph.nodes)} kotak, {len(graph.edges)} panah, 1 kembali."
    )


def test_node_kinds_follow_what_a_step_does() -> None:
    kinds = {n.key: n.kind for n in graph_of(bundled(), "welcome").nodes}
    assert kinds["@start"] == "start"
    assert kinds["@commands"] == "commands"
    assert kinds["start"] == "router"
    assert kinds["consent_ask"] == "ask"
    assert kinds["show_info"] == "call"
    assert kinds["handoff"] == "handoff"
    assert kinds["greet"] == "say"
    assert kinds["@x:crisis.start"] == "outside"
    assert kinds["@call:info"] == "outside"
    assert graph_of(bundled(), "crisis").node("start").kind == "handoff"


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("Halo", ["Halo"]),
        ("a " * 40, ["a " * 13 + "a", "a " * 13 + "a", "a " * 11 + "a"]),
        ("a " * 50, ["a " * 13 + "a", "a " * 13 + "a", "a " * 13 + "…"]),
        ("x" * 40, ["x" * 27 + "-", "x" * 13]),
    ],
)
def test_labels_wrap_to_short_lines(text: str, lines: list[str]) -> None:
    wrapped = wrap(text)
    assert wrapped == lines
    assert all(len(line) <= LINE_CHARS for line in wrapped) and len(wrapped) <= SUMMARY_LINES


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("a<b>&c", "a&lt;b&gt;&amp;c"),
        ("\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;"),
        ("bell\x07 nul\x00 ok\n", "bell nul ok\n"),
    ],
)
def test_xml_escapes_markup_and_drops_what_xml_cannot_hold(raw: str, safe: str) -> None:
    assert xml(raw) == safe

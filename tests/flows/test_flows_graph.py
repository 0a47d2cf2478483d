"""`lk3 flows graph`: a Mermaid flowchart people can read and Mermaid can parse."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from flows import cli
from flows.mermaid import escape

BASIC = Path(__file__).parent / "fixtures" / "basic"


def _graph(flow_id: str) -> str:
    out = io.StringIO()
    assert cli.graph_command(BASIC, flow_id, out) == 0
    return out.getvalue()


def test_graph_is_a_top_down_flowchart_with_every_node_and_edge() -> None:
    text = _graph("welcome")
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  n_hello["hello: Halo, selamat datang di {office_name}."]' in lines
    assert "  n_menu -->|info| n_info" in lines
    assert "  n_menu -->|feedback| n_feedback__ask_rating" in lines
    assert '  n_feedback__ask_rating[["feedback.ask_rating"]]' in lines
    assert "  n_to_intake -.->|call| n_call_intake" in lines
    assert "  n_handoff --> done((end))" in lines


def test_router_nodes_are_diamonds_and_labels_are_short() -> None:
    lines = _graph("intake").splitlines()
    assert '  n_route_story{"route_story"}' in lines
    assert '  n_ask_story["ask_story: Ceritakan singkat apa yang terjadi."]' in lines
    assert "  n_route_story -->|violence| n_violence" in lines


def test_every_label_is_quoted_without_raw_quotes() -> None:
    for flow in ("welcome", "intake", "contact", "feedback", "check", "loop"):
        for label in re.findall(r'\["(.*?)"\]|\{"(.*?)"\}', _graph(flow)):
            assert '"' not in "".join(label)


@pytest.mark.parametrize(
    ("text", "safe"),
    [('Ketik "menu"', "Ketik #quot;menu#quot;"), ("#1 <b>", "#35;1 #lt;b#gt;")],
)
def test_escape_makes_text_safe_for_mermaid_labels(text: str, safe: str) -> None:
    assert escape(text) == safe


def test_graph_of_an_unknown_flow_says_which_flows_exist() -> None:
    out = io.StringIO()
    assert cli.graph_command(BASIC, "triage", out) == 1
    assert (
        out.getvalue()
        == "unknown flow 'triage'; flows: check, contact, feedback, intake, loop, welcome\n"
    )

"""The layered layout under the flow diagram: layers follow the arrows, cycles are broken
by back edges, long edges get lanes, crossings are removed where an order allows it."""

from __future__ import annotations

import pytest

from flows.layered import Box, Layout, layout


def boxes(*keys: str) -> list[Box]:
    return [Box(key, 100, 30) for key in keys]


def layers(result: Layout) -> dict[str, int]:
    return {b.key: b.layer for b in result.boxes}


def test_a_chain_goes_down_one_layer_per_step() -> None:
    result = layout(boxes("a", "b", "c"), [("a", "b"), ("b", "c")], root="a")
    assert layers(result) == {"a": 0, "b": 1, "c": 2}
    ys = [result.box(k).y for k in "abc"]
    assert ys == sorted(ys) and len(set(ys)) == 3
    for route in result.routes:
        assert not route.back and route.points[0][1] < route.points[-1][1]


def test_a_cycle_is_broken_by_a_back_edge_drawn_upwards() -> None:
    result = layout(boxes("a", "b", "c"), [("a", "b"), ("b", "c"), ("c", "a")], root="a")
    assert layers(result) == {"a": 0, "b": 1, "c": 2}
    back = [r for r in result.routes if r.back]
    assert [r.edge for r in back] == [2]
    (route,) = back
    assert route.points[0][1] < result.box("c").y + 1  # leaves the top of c
    assert route.points[-1][1] == pytest.approx(result.box("a").y + result.box("a").height)


def test_a_long_edge_gets_a_lane_through_the_layers_it_crosses() -> None:
    result = layout(
        boxes("a", "b", "c", "d"), [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")], root="a"
    )
    long = next(r for r in result.routes if r.edge == 3)
    assert len(long.points) == 2 + 2 * 2  # two waypoints, each entering and leaving its layer
    lanes = {x for x, _ in long.points[1:-1]}
    assert len(lanes) == 1  # straight down its lane
    lane = lanes.pop()
    for key in "bc":  # and never through a box
        box = result.box(key)
        assert not box.x <= lane <= box.x + box.width


def test_a_crossing_is_undone_when_an_order_allows_it() -> None:
    # In walk order c comes before d, so a->d crosses b->c; putting d first removes it.
    edges = [("r", "a"), ("r", "b"), ("a", "c"), ("a", "d"), ("b", "c")]
    result = layout(boxes("r", "a", "b", "c", "d"), edges, root="r")
    xs = {b.key: b.cx for b in result.boxes}
    assert xs["a"] < xs["b"] and xs["d"] < xs["c"]


def test_no_boxes_overlap_in_a_wide_layer() -> None:
    keys = [f"n{i}" for i in range(12)]
    result = layout(
        boxes("root", *keys, "end"),
        [("root", k) for k in keys] + [(k, "end") for k in keys],
        root="root",
    )
    row = sorted((b for b in result.boxes if b.layer == 1), key=lambda b: b.x)
    assert len(row) == 12
    for left, right in zip(row, row[1:], strict=False):
        assert left.x + left.width < right.x
    assert result.width >= row[-1].x + row[-1].width


def test_a_step_leading_to_itself_is_a_loop_beside_its_box() -> None:
    result = layout(boxes("a", "b"), [("a", "a"), ("a", "b")], root="a")
    loop = next(r for r in result.routes if r.loop)
    box = result.box("a")
    assert all(x >= box.x + box.width for x, _ in loop.points)
    assert result.width >= max(x for x, _ in loop.points)


def test_nodes_not_reached_from_the_root_are_still_placed() -> None:
    result = layout(boxes("a", "b", "lonely"), [("a", "b")], root="a")
    assert {b.key for b in result.boxes} == {"a", "b", "lonely"}


@pytest.mark.parametrize(
    ("given", "edges"),
    [(boxes("a", "a"), []), (boxes("a"), [("a", "zz")])],
    ids=["repeated key", "unknown target"],
)
def test_a_malformed_graph_is_refused_by_name(
    given: list[Box], edges: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValueError, match="layout: "):
        layout(given, edges)


def test_the_same_graph_always_gets_the_same_layout() -> None:
    keys = [f"n{i}" for i in range(8)]
    edges = [(keys[i], keys[(i * 3 + 1) % 8]) for i in range(8)] + [
        (keys[i], keys[i - 1]) for i in range(8)
    ]
    assert layout(boxes(*keys), edges, root="n0") == layout(boxes(*keys), edges, root="n0")

"""A layered (Sugiyama-style) drawing of a directed graph: where each box and line goes.

Why by hand: the console may load no script from elsewhere and has no Mermaid, so
the flow diagram is laid out here, in plain arithmetic, with no I/O and no
randomness (the same graph always gives the same drawing). The steps are the
classic ones:

1. cycles are broken by a depth-first walk from the root: an edge back to a node
   still on the walk is a *back edge*, laid out reversed and drawn going up;
2. layers by longest path, so every other edge points down;
3. edges longer than one layer get a waypoint in each layer they cross, so they
   have a lane of their own and never run through a box;
4. the order inside each layer is improved by barycenter sweeps, keeping the
   order with the fewest crossings;
5. x positions: each layer is pulled towards its neighbours' centres, with the
   boxes kept apart (an exact least-squares fit under the spacing constraints).

Routes come back as points in drawing order: the port on the source box, then
two points per waypoint (where the lane enters and leaves its layer), then the
port on the target box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Box", "Layout", "Placed", "Route", "Spacing", "layout"]

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Box:
    """A node to place: its key (unique) and its size."""

    key: str
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Spacing:
    gap_x: float = 28.0  # between neighbours in a layer
    gap_y: float = 64.0  # between layers (edge labels live here)
    lane: float = 14.0  # the width a long edge's waypoint takes in a layer
    margin: float = 16.0
    sweeps: int = 12  # ordering sweeps (down and up) before keeping the best
    rounds: int = 8  # x-positioning rounds


@dataclass(frozen=True, slots=True)
class Placed:
    key: str
    x: float  # left
    y: float  # top
    width: float
    height: float
    layer: int

    @property
    def cx(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True, slots=True)
class Route:
    """One edge's line, in the edge's own direction (a back edge's points go up)."""

    edge: int  # index into the edges given to `layout`
    points: tuple[Point, ...]
    back: bool = False
    loop: bool = False  # an edge from a node to itself: points trace a loop on its right


@dataclass(frozen=True, slots=True)
class Layout:
    boxes: tuple[Placed, ...]
    routes: tuple[Route, ...]
    width: float
    height: float

    def box(self, key: str) -> Placed:
        for placed in self.boxes:
            if placed.key == key:
                return placed
        raise KeyError(key)


@dataclass(slots=True)
class _Vertex:
    """A box or a waypoint while laying out (mutable, local to one call)."""

    key: str
    width: float
    height: float
    layer: int = 0
    x: float = 0.0  # centre
    dummy: bool = False


def layout(
    boxes: Sequence[Box],
    edges: Sequence[tuple[str, str]],
    *,
    root: str | None = None,
    spacing: Spacing = Spacing(),
) -> Layout:
    """Places `boxes` and routes `edges` (source key, target key) between them."""
    keys = [b.key for b in boxes]
    if len(set(keys)) != len(keys):
        raise ValueError("layout: box keys must be unique")
    index = {key: i for i, key in enumerate(keys)}
    for source, target in edges:
        if source not in index or target not in index:
            raise ValueError(f"layout: edge {source!r} -> {target!r} names an unknown box")
    verts = [_Vertex(b.key, b.width, b.height) for b in boxes]
    real = len(verts)
    order_hint = _walk_order(real, edges, index, root)
    back = _back_edges(real, edges, index, order_hint)
    # Laid-out direction: back edges reversed; loops (a node to itself) left out.
    forward: list[tuple[int, int, int]] = []  # (edge index, upper, lower)
    for i, (s, t) in enumerate(edges):
        a, b = index[s], index[t]
        if a == b:
            continue
        forward.append((i, b, a) if i in back else (i, a, b))
    _assign_layers(verts, forward, order_hint)
    # Waypoints: each long edge becomes a chain with one dummy vertex per crossed layer.
    chains: dict[int, list[int]] = {}
    for i, upper, lower in forward:
        chain = [upper]
        for layer in range(verts[upper].layer + 1, verts[lower].layer):
            verts.append(_Vertex(f"~{i}.{layer}", spacing.lane, 0.0, layer, dummy=True))
            chain.append(len(verts) - 1)
        chain.append(lower)
        chains[i] = chain
    down: list[list[int]] = [[] for _ in verts]
    up: list[list[int]] = [[] for _ in verts]
    for chain in chains.values():
        for a, b in zip(chain, chain[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
    layers = _initial_order(verts, order_hint, down)
    layers = _reduce_crossings(layers, down, up, spacing.sweeps)
    _place_x(verts, layers, down, up, spacing)
    _straighten(verts, layers, chains, spacing)
    tops = _place_y(verts, layers, spacing)
    return _finish(verts, real, layers, tops, edges, index, back, chains, spacing)


# --- cycles and layers ------------------------------------------------------------


def _walk_order(
    count: int, edges: Sequence[tuple[str, str]], index: dict[str, int], root: str | None
) -> list[int]:
    """Vertices in depth-first discovery order from the root, then from the rest in order."""
    succ: list[list[int]] = [[] for _ in range(count)]
    for s, t in edges:
        succ[index[s]].append(index[t])
    seen = [False] * count
    order: list[int] = []
    starts = ([index[root]] if root is not None and root in index else []) + list(range(count))
    for start in starts:
        if seen[start]:
            continue
        stack = [start]
        while stack:
            v = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            order.append(v)
            stack.extend(reversed([w for w in succ[v] if not seen[w]]))
    return order


def _back_edges(
    count: int, edges: Sequence[tuple[str, str]], index: dict[str, int], order: list[int]
) -> set[int]:
    """Edges that close a cycle in a depth-first walk (iterative: no recursion limit)."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(count)]
    for i, (s, t) in enumerate(edges):
        out[index[s]].append((i, index[t]))
    state = [0] * count  # 0 new, 1 on the walk, 2 done
    back: set[int] = set()
    for start in order:
        if state[start]:
            continue
        state[start] = 1
        stack: list[tuple[int, int]] = [(start, 0)]
        while stack:
            v, pos = stack[-1]
            if pos == len(out[v]):
                state[v] = 2
                stack.pop()
                continue
            stack[-1] = (v, pos + 1)
            i, w = out[v][pos]
            if w == v:
                continue
            if state[w] == 1:
                back.add(i)
            elif state[w] == 0:
                state[w] = 1
                stack.append((w, 0))
    return back


def _assign_layers(
    verts: list[_Vertex], forward: list[tuple[int, int, int]], order: list[int]
) -> None:
    """Longest path from the sources (Kahn's order, ties by walk order)."""
    count = len(verts)
    rank = {v: i for i, v in enumerate(order)}
    preds: list[list[int]] = [[] for _ in range(count)]
    succs: list[list[int]] = [[] for _ in range(count)]
    for _, a, b in forward:
        succs[a].append(b)
        preds[b].append(a)
    remaining = [len(p) for p in preds]
    ready = sorted((v for v in range(count) if remaining[v] == 0), key=rank.__getitem__)
    while ready:
        v = ready.pop(0)
        for w in succs[v]:
            verts[w].layer = max(verts[w].layer, verts[v].layer + 1)
            remaining[w] -= 1
            if remaining[w] == 0:
                ready.append(w)
                ready.sort(key=rank.__getitem__)


# --- order within layers ----------------------------------------------------------


def _initial_order(
    verts: list[_Vertex], order: list[int], down: list[list[int]]
) -> list[list[int]]:
    """Each layer in walk order; a waypoint follows the vertex its chain comes from."""
    depth = max(v.layer for v in verts) + 1
    layers: list[list[int]] = [[] for _ in range(depth)]
    placed = [False] * len(verts)

    def put(v: int) -> None:
        if placed[v]:
            return
        placed[v] = True
        layers[verts[v].layer].append(v)
        for w in down[v]:
            if verts[w].dummy:
                put(w)

    for v in order:
        put(v)
    for v in range(len(verts)):
        put(v)
    return layers


def _crossings(upper: list[int], lower: list[int], down: list[list[int]]) -> int:
    pos = {v: i for i, v in enumerate(lower)}
    ends = [pos[w] for v in upper for w in sorted(down[v], key=pos.__getitem__) if w in pos]
    count = 0
    for i, a in enumerate(ends):
        for b in ends[i + 1 :]:
            if b < a:
                count += 1
    return count


def _total_crossings(layers: list[list[int]], down: list[list[int]]) -> int:
    return sum(_crossings(a, b, down) for a, b in zip(layers, layers[1:], strict=False))


def _sorted_by_barycenter(
    layer: list[int], neighbours: list[list[int]], ref: dict[int, int]
) -> list[int]:
    def key(item: tuple[int, int]) -> tuple[float, int]:
        i, v = item
        near = [ref[w] for w in neighbours[v] if w in ref]
        return (sum(near) / len(near) if near else float(i), i)

    return [v for _, v in sorted(enumerate(layer), key=key)]


def _reduce_crossings(
    layers: list[list[int]], down: list[list[int]], up: list[list[int]], sweeps: int
) -> list[list[int]]:
    best = [list(layer) for layer in layers]
    best_count = _total_crossings(best, down)
    current = [list(layer) for layer in layers]
    for sweep in range(sweeps):
        if best_count == 0:
            break
        if sweep % 2 == 0:
            for i in range(1, len(current)):
                ref = {v: p for p, v in enumerate(current[i - 1])}
                current[i] = _sorted_by_barycenter(current[i], up, ref)
        else:
            for i in range(len(current) - 2, -1, -1):
                ref = {v: p for p, v in enumerate(current[i + 1])}
                current[i] = _sorted_by_barycenter(current[i], down, ref)
        count = _total_crossings(current, down)
        if count < best_count:
            best, best_count = [list(layer) for layer in current], count
    return _transpose(best, down, up)


def _transpose(
    layers: list[list[int]], down: list[list[int]], up: list[list[int]]
) -> list[list[int]]:
    """Swaps neighbours in a layer while that removes crossings (a few passes at most)."""

    def local(i: int) -> int:
        total = 0
        if i > 0:
            total += _crossings(layers[i - 1], layers[i], down)
        if i + 1 < len(layers):
            total += _crossings(layers[i], layers[i + 1], down)
        return total

    for _ in range(4):
        improved = False
        for i, layer in enumerate(layers):
            for j in range(len(layer) - 1):
                before = local(i)
                layer[j], layer[j + 1] = layer[j + 1], layer[j]
                if local(i) < before:
                    improved = True
                else:
                    layer[j], layer[j + 1] = layer[j + 1], layer[j]
        if not improved:
            break
    return layers


# --- coordinates ------------------------------------------------------------------


def _fit(desired: list[float], weights: list[float], offsets: list[float]) -> list[float]:
    """Centres closest (least squares) to `desired` keeping each at least `offsets` apart.

    With y_i = x_i - offset_i the constraint is y non-decreasing: pool adjacent
    violators gives the exact answer.
    """
    blocks: list[tuple[float, float, int]] = []  # (weighted mean, weight, size)
    for d, w, o in zip(desired, weights, offsets, strict=True):
        mean, weight, size = d - o, w, 1
        while blocks and blocks[-1][0] > mean:
            m2, w2, s2 = blocks.pop()
            mean = (m2 * w2 + mean * weight) / (w2 + weight)
            weight += w2
            size += s2
        blocks.append((mean, weight, size))
    out: list[float] = []
    for mean, _, size in blocks:
        out.extend([mean] * size)
    return [y + o for y, o in zip(out, offsets, strict=True)]


def _place_x(
    verts: list[_Vertex],
    layers: list[list[int]],
    down: list[list[int]],
    up: list[list[int]],
    spacing: Spacing,
) -> None:
    def offsets(layer: list[int]) -> list[float]:
        out = [0.0]
        for a, b in zip(layer, layer[1:], strict=False):
            gap = spacing.gap_x / 2 if verts[a].dummy and verts[b].dummy else spacing.gap_x
            out.append(out[-1] + (verts[a].width + verts[b].width) / 2 + gap)
        return out

    for layer in layers:
        for v, o in zip(layer, offsets(layer), strict=True):
            verts[v].x = o

    def align(layer: list[int], neighbours: list[list[int]] | None) -> None:
        desired: list[float] = []
        for v in layer:
            near = sorted(
                verts[w].x for w in (neighbours[v] if neighbours is not None else up[v] + down[v])
            )
            if not near:
                desired.append(verts[v].x)
            else:  # the median pulls towards a straight line better than the mean
                mid = len(near) // 2
                desired.append(near[mid] if len(near) % 2 else (near[mid - 1] + near[mid]) / 2)
        # Waypoints weigh more: long edges stay straight, boxes move to them.
        weights = [4.0 if verts[v].dummy else 1.0 for v in layer]
        for v, x in zip(layer, _fit(desired, weights, offsets(layer)), strict=True):
            verts[v].x = x

    for _ in range(spacing.rounds):
        for layer in layers[1:]:
            align(layer, up)
        for layer in reversed(layers[:-1]):
            align(layer, down)
    for layer in layers:
        align(layer, None)
    left = min(verts[v].x - verts[v].width / 2 for layer in layers for v in layer)
    for vert in verts:
        vert.x += spacing.margin - left


def _straighten(
    verts: list[_Vertex], layers: list[list[int]], chains: dict[int, list[int]], spacing: Spacing
) -> None:
    """Puts each long edge's waypoints on one vertical line where that fits: no wobble."""
    where = {v: (li, i) for li, layer in enumerate(layers) for i, v in enumerate(layer)}

    def gap(a: int, b: int) -> float:
        both = verts[a].dummy and verts[b].dummy
        apart = spacing.gap_x / 2 if both else spacing.gap_x
        return (verts[a].width + verts[b].width) / 2 + apart

    def fits(v: int, x: float) -> bool:
        li, i = where[v]
        layer = layers[li]
        if i > 0 and x - verts[layer[i - 1]].x < gap(layer[i - 1], v) - 0.01:
            return False
        return i + 1 >= len(layer) or verts[layer[i + 1]].x - x >= gap(v, layer[i + 1]) - 0.01

    for chain in sorted(chains.values(), key=len, reverse=True):
        inner = chain[1:-1]
        if len(inner) < 2:
            continue
        xs = sorted(verts[v].x for v in inner)
        for x in [xs[len(xs) // 2], *xs]:
            if all(fits(v, x) for v in inner):
                for v in inner:
                    verts[v].x = x
                break


def _place_y(verts: list[_Vertex], layers: list[list[int]], spacing: Spacing) -> list[float]:
    """The top of each layer band; boxes are centred vertically in their band."""
    tops: list[float] = []
    y = spacing.margin
    for layer in layers:
        tops.append(y)
        y += max((verts[v].height for v in layer), default=0.0) + spacing.gap_y
    tops.append(y - spacing.gap_y)  # the bottom of the last band
    return tops


def _finish(
    verts: list[_Vertex],
    real: int,
    layers: list[list[int]],
    tops: list[float],
    edges: Sequence[tuple[str, str]],
    index: dict[str, int],
    back: set[int],
    chains: dict[int, list[int]],
    spacing: Spacing,
) -> Layout:
    band = [max((verts[v].height for v in layer), default=0.0) for layer in layers]

    def top_of(v: int) -> float:
        layer = verts[v].layer
        return tops[layer] + (band[layer] - verts[v].height) / 2

    placed = tuple(
        Placed(v.key, v.x - v.width / 2, top_of(i), v.width, v.height, v.layer)
        for i, v in enumerate(verts[:real])
    )
    # Ports: each box's lines leave its bottom (enter its top) spread out, in the
    # order of where they go next, so they do not start on top of each other.
    out_ports: dict[tuple[int, int], float] = {}
    in_ports: dict[tuple[int, int], float] = {}
    leaving: list[list[tuple[float, int]]] = [[] for _ in range(real)]
    arriving: list[list[tuple[float, int]]] = [[] for _ in range(real)]
    for i, chain in chains.items():
        leaving[chain[0]].append((verts[chain[1]].x, i))
        arriving[chain[-1]].append((verts[chain[-2]].x, i))
    for v in range(real):
        for table, ends in ((out_ports, leaving[v]), (in_ports, arriving[v])):
            ends.sort()
            span = verts[v].width * 0.7
            for k, (_, i) in enumerate(ends):
                table[(v, i)] = verts[v].x - span / 2 + span * (k + 1) / (len(ends) + 1)
    routes: list[Route] = []
    for i, (s, t) in enumerate(edges):
        a = index[s]
        if a == index[t]:
            box = placed[a]
            right, y = box.x + box.width, box.y + box.height / 2
            points: tuple[Point, ...] = (
                (right, y - 8),
                (right + spacing.gap_x * 0.8, y - 14),
                (right + spacing.gap_x * 0.8, y + 14),
                (right, y + 8),
            )
            routes.append(Route(i, points, back=False, loop=True))
            continue
        chain = chains[i]
        first, last = chain[0], chain[-1]
        pts: list[Point] = [(out_ports[(first, i)], top_of(first) + verts[first].height)]
        for w in chain[1:-1]:
            layer = verts[w].layer
            pts.append((verts[w].x, tops[layer]))
            pts.append((verts[w].x, tops[layer] + band[layer]))
        pts.append((in_ports[(last, i)], top_of(last)))
        is_back = i in back
        routes.append(Route(i, tuple(reversed(pts)) if is_back else tuple(pts), back=is_back))
    width = max((v.x + v.width / 2 for v in verts), default=0.0) + spacing.margin
    width = max(width, max((r.points[1][0] for r in routes if r.loop), default=0.0) + 8)
    height = tops[-1] + spacing.margin
    return Layout(placed, tuple(routes), width, height)

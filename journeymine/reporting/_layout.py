"""Layered (Sugiyama-style) layout of directed graphs, in pure Python.

The layout is deterministic: the same nodes and edges give the same
coordinates, whatever order they are passed in. The steps are the classic
ones:

1. break cycles: stage-backward edges are reversed first, then a depth-first
   search (heaviest edges first) reverses the remaining back edges;
2. assign layers by longest path, nudged so that nodes of earlier stages sit
   in earlier layers;
3. insert virtual nodes so every edge spans exactly one layer;
4. order nodes within layers by barycenter sweeps (fixed number of sweeps,
   the ordering with fewest crossings wins);
5. assign coordinates by weighted averaging with order-preserving overlap
   removal (pool-adjacent-violators);
6. route edges as cubic Bézier curves through the virtual nodes; back edges
   leave and enter nodes on their side, self-loops are small arcs.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

from journeymine.exceptions import InvalidParameterError, SchemaError

__all__ = ["EdgeRoute", "Layout", "NodeBox", "check_edge_nodes", "layered_layout"]

Point = tuple[float, float]
Segment = tuple[Point, Point, Point, Point]

_DIRECTIONS = ("TB", "LR")
_COORD_SWEEPS = 10  # down/up sweeps of the coordinate assignment
#: Most layout items (nodes + distinct edges + virtual nodes of long edges) a graph
#: may need; larger graphs raise instead of taking minutes and gigabytes.
MAX_LAYOUT_ITEMS = 50_000


@dataclass(frozen=True)
class NodeBox:
    """A placed node: centre ``(x, y)`` and size, in SVG user units.

    Attributes
    ----------
    id : str
        The node id.
    x, y : float
        Centre of the node.
    width, height : float
        Size of the node.
    layer : int
        Layer index (0 is the top for ``"TB"``, the left for ``"LR"``).
    order : int
        Position of the node within its layer (virtual nodes included).
    """

    id: str
    x: float
    y: float
    width: float
    height: float
    layer: int
    order: int

    @property
    def left(self) -> float:
        """Smallest x of the box."""
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        """Largest x of the box."""
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        """Smallest y of the box."""
        return self.y - self.height / 2

    @property
    def bottom(self) -> float:
        """Largest y of the box."""
        return self.y + self.height / 2

    def overlaps(self, other: NodeBox) -> bool:
        """Whether the two boxes share interior points."""
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


@dataclass(frozen=True)
class EdgeRoute:
    """The drawn route of one edge: a chain of cubic Bézier segments.

    Attributes
    ----------
    source, target : str
        The edge, in its original direction (the route runs from source to target).
    segments : tuple of segments
        Each segment is ``(p0, c1, c2, p1)``; ``p1`` of one is ``p0`` of the next.
    kind : {"forward", "back", "self"}
        ``"back"`` edges were reversed to break a cycle; ``"self"`` are loops.
    """

    source: str
    target: str
    segments: tuple[Segment, ...]
    kind: str

    @property
    def d(self) -> str:
        """SVG path data (``M ... C ...``), coordinates rounded to 0.1."""
        parts = [f"M{_fmt(self.segments[0][0])}"]
        for _, c1, c2, p1 in self.segments:
            parts.append(f"C{_fmt(c1)} {_fmt(c2)} {_fmt(p1)}")
        return "".join(parts)

    def point_at(self, t: float) -> Point:
        """Point on the route at parameter ``t`` in [0, 1] (uniform per segment)."""
        n = len(self.segments)
        t = min(max(t, 0.0), 1.0) * n
        i = min(int(t), n - 1)
        return _bezier(self.segments[i], t - i)

    @property
    def end_direction(self) -> Point:
        """Unit vector of the travel direction where the route ends."""
        p0, c1, c2, p1 = self.segments[-1]
        for q in (c2, c1, p0):
            dx, dy = p1[0] - q[0], p1[1] - q[1]
            length = math.hypot(dx, dy)
            if length > 1e-9:
                return (dx / length, dy / length)
        return (0.0, 1.0)


@dataclass(frozen=True)
class Layout:
    """Result of :func:`layered_layout`.

    Attributes
    ----------
    nodes : dict of str to NodeBox
        Placed real nodes (virtual nodes are not included).
    edges : tuple of EdgeRoute
        One route per distinct ``(source, target)`` pair, sorted by that pair.
    width, height : float
        Size of the drawing, margins included; all coordinates are inside it.
    direction : {"TB", "LR"}
        Top-to-bottom or left-to-right.
    n_layers : int
        Number of layers.
    """

    nodes: dict[str, NodeBox]
    edges: tuple[EdgeRoute, ...]
    width: float
    height: float
    direction: str
    n_layers: int

    def __repr__(self) -> str:
        return (
            f"Layout({len(self.nodes)} nodes, {len(self.edges)} edges, {self.n_layers} layers, "
            f"{self.width:.0f}x{self.height:.0f}, direction={self.direction!r})"
        )


def _fmt(p: Point) -> str:
    return f"{p[0]:.1f},{p[1]:.1f}"


def _bezier(seg: Segment, t: float) -> Point:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = seg
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)


def layered_layout(
    nodes: Sequence[str],
    edges: Iterable[tuple[str, str] | tuple[str, str, float]],
    *,
    sizes: Mapping[str, tuple[float, float]] | None = None,
    rank_hint: Mapping[str, int | None] | None = None,
    sources: Sequence[str] = (),
    sinks: Sequence[str] = (),
    direction: str = "TB",
    node_sep: float = 36.0,
    rank_sep: float = 60.0,
    iterations: int = 12,
    margin: float = 12.0,
) -> Layout:
    """Place a directed graph in layers and route its edges.

    Parameters
    ----------
    nodes : sequence of str
        Node ids (unique). Their order does not matter.
    edges : iterable of (source, target) or (source, target, weight)
        Directed edges; duplicates are merged (weights summed). Self-loops and
        cycles are allowed. Heavier edges are kept forward when breaking cycles.
    sizes : mapping of str to (width, height), optional
        Node sizes; default 80 x 30.
    rank_hint : mapping of str to int or None, optional
        A stage index per node. Edges from a later to an earlier stage are drawn
        as back edges, and nodes of earlier stages are placed in earlier layers
        where the edges allow it. ``None`` or missing means no hint.
    sources : sequence of str, default ()
        Nodes forced into the first layer (e.g. a "Start" pseudo-node).
    sinks : sequence of str, default ()
        Nodes without successors forced into the last layer (e.g. "End").
    direction : {"TB", "LR"}, default "TB"
        Top-to-bottom or left-to-right.
    node_sep : float, default 36
        Minimum gap between neighbouring nodes of a layer.
    rank_sep : float, default 60
        Gap between layers.
    iterations : int, default 12
        Number of barycenter sweeps when ordering nodes within layers.
    margin : float, default 12
        Empty border around the drawing.

    Returns
    -------
    Layout

    Raises
    ------
    SchemaError
        Duplicate node ids, an edge naming an unknown node, or a bad ``direction``.
    InvalidParameterError
        The graph needs more than :data:`MAX_LAYOUT_ITEMS` nodes, distinct edges
        and virtual nodes together. The check runs before any costly step, so
        time and memory stay bounded whatever the size of the graph.

    Examples
    --------
    >>> lay = layered_layout(["a", "b", "c"], [("a", "b", 5), ("b", "c", 3), ("c", "a", 1)])
    >>> lay
    Layout(3 nodes, 3 edges, 3 layers, 130x234, direction='TB')
    >>> [lay.nodes[n].layer for n in "abc"]
    [0, 1, 2]
    >>> lay.nodes["a"].y < lay.nodes["b"].y < lay.nodes["c"].y
    True
    >>> [(e.source, e.target, e.kind) for e in lay.edges]
    [('a', 'b', 'forward'), ('b', 'c', 'forward'), ('c', 'a', 'back')]
    >>> lay.edges[1].d  # b's bottom to c's top, as SVG path data
    'M52.0,132.0C52.0,162.0 62.3,162.0 62.3,192.0'
    """
    if direction not in _DIRECTIONS:
        raise InvalidParameterError(
            f"Unknown layout direction {direction!r}.",
            expected="'TB' (top to bottom) or 'LR' (left to right).",
            fix="Pass direction='TB' or direction='LR'.",
        )
    if len(nodes) > MAX_LAYOUT_ITEMS:
        raise _too_large(f"{len(nodes):,} nodes")
    ids = sorted(str(n) for n in nodes)
    if len(set(ids)) != len(ids):
        dupes = sorted({n for n in ids if ids.count(n) > 1})
        raise SchemaError(
            f"Duplicate node ids: {dupes[:5]}.",
            expected="each node id once.",
            fix="Drop duplicates before laying out the graph.",
        )
    index = {name: i for i, name in enumerate(ids)}
    n = len(ids)
    sizes = sizes or {}
    width = [float(sizes.get(name, (80.0, 30.0))[0]) for name in ids]
    height = [float(sizes.get(name, (80.0, 30.0))[1]) for name in ids]
    hints: list[int | None] = [None] * n
    if rank_hint:
        for name, h in rank_hint.items():
            if name in index and h is not None:
                hints[index[name]] = int(h)
    src_set = {index[s] for s in sources if s in index}
    snk_set = {index[s] for s in sinks if s in index}

    # ---- edges: merge duplicates, separate self-loops --------------------------------
    weight: dict[tuple[int, int], float] = {}
    for edge in edges:
        s, t = str(edge[0]), str(edge[1])
        w = float(edge[2]) if len(edge) > 2 else 1.0  # type: ignore[misc]
        check_edge_nodes(s, t, index)
        key = (index[s], index[t])
        if key not in weight and n + len(weight) >= MAX_LAYOUT_ITEMS:
            raise _too_large(f"{n:,} nodes and more than {len(weight):,} distinct edges")
        weight[key] = weight.get(key, 0.0) + (w if math.isfinite(w) else 0.0)
    loops = sorted(k for k in weight if k[0] == k[1])
    pairs = sorted(k for k in weight if k[0] != k[1])

    # ---- 1. cycle breaking -----------------------------------------------------------
    reverse = _break_cycles(n, pairs, weight, hints, src_set)
    oriented = {k: (k[1], k[0]) if k in reverse else k for k in pairs}

    # ---- 2. layering -----------------------------------------------------------------
    layer = _assign_layers(n, oriented.values(), hints, src_set, snk_set)

    # ---- 3. virtual nodes ------------------------------------------------------------
    n_virtual = sum(layer[b] - layer[a] - 1 for a, b in oriented.values())
    if n + len(weight) + n_virtual > MAX_LAYOUT_ITEMS:
        raise _too_large(
            f"{n:,} nodes and {len(weight):,} edges, whose long edges need "
            f"{n_virtual:,} virtual nodes"
        )
    n_layers = max(layer, default=-1) + 1
    is_dummy = [False] * n
    chains: dict[tuple[int, int], list[int]] = {}
    for key in pairs:
        a, b = oriented[key]
        chain = [a]
        for lay in range(layer[a] + 1, layer[b]):
            layer.append(lay)
            is_dummy.append(True)
            chain.append(len(layer) - 1)
        chain.append(b)
        chains[key] = chain
    total = len(layer)
    up: list[list[int]] = [[] for _ in range(total)]
    down: list[list[int]] = [[] for _ in range(total)]
    up_w: list[list[float]] = [[] for _ in range(total)]
    down_w: list[list[float]] = [[] for _ in range(total)]
    for key, chain in chains.items():
        # back edges pull less, so the main forward flow stays straight
        factor = 0.1 if key in reverse else 1.0
        for u, v in itertools.pairwise(chain):
            down[u].append(v)
            up[v].append(u)
            omega = (1.0, 2.0, 8.0)[is_dummy[u] + is_dummy[v]]
            down_w[u].append(omega * factor)
            up_w[v].append(omega * factor)

    # ---- 4. ordering within layers ---------------------------------------------------
    layers = _order(total, n_layers, layer, up, down, src_set, hints, iterations)

    # ---- 5. coordinates --------------------------------------------------------------
    o_size = [(width if direction == "TB" else height)[v] if v < n else 0.0 for v in range(total)]
    r_size = [(height if direction == "TB" else width)[v] if v < n else 0.0 for v in range(total)]
    # room on the "after" side for self-loops and side-routed back edges between adjacent layers
    extra_after = [0.0] * total
    for s, _ in loops:
        extra_after[s] = 26.0
    for key in pairs:
        if key in reverse and len(chains[key]) == 2:
            for v in chains[key]:
                extra_after[v] = 26.0
    x = _coordinates(layers, is_dummy, (up, up_w), (down, down_w), o_size, extra_after, node_sep)
    r_center = []
    pos_r = 0.0
    for lay, members in enumerate(layers):
        thick = max((r_size[v] for v in members), default=0.0) or 20.0
        pos_r = pos_r + thick / 2 if lay == 0 else pos_r + rank_sep + thick / 2
        r_center.append(pos_r)
        pos_r += thick / 2
    r = [r_center[layer[v]] for v in range(total)]

    # ---- 6. routes -------------------------------------------------------------------
    routes = _route(n, pairs, loops, chains, reverse, x, r, o_size, r_size)

    # ---- normalise into the positive quadrant and transform --------------------------
    o_lo = [x[v] - o_size[v] / 2 for v in range(n)]
    o_hi = [x[v] + o_size[v] / 2 + extra_after[v] for v in range(n)]
    r_lo = [r[v] - r_size[v] / 2 for v in range(n)]
    r_hi = [r[v] + r_size[v] / 2 for v in range(n)]
    for segs in routes.values():
        for seg in segs:
            for po, pr in seg:
                o_lo.append(po)
                o_hi.append(po)
                r_lo.append(pr)
                r_hi.append(pr)
    o_min, o_max = (min(o_lo), max(o_hi)) if o_lo else (0.0, 0.0)
    r_min, r_max = (min(r_lo), max(r_hi)) if r_lo else (0.0, 0.0)
    o_shift, r_shift = margin - o_min, margin - r_min

    def tr(p: Point) -> Point:
        po, pr = p[0] + o_shift, p[1] + r_shift
        return (po, pr) if direction == "TB" else (pr, po)

    ext_o, ext_r = o_max - o_min + 2 * margin, r_max - r_min + 2 * margin
    boxes = {}
    pos_in_layer = {v: i for members in layers for i, v in enumerate(members)}
    for v, name in enumerate(ids):
        cx, cy = tr((x[v], r[v]))
        boxes[name] = NodeBox(name, cx, cy, width[v], height[v], layer[v], pos_in_layer[v])
    out_routes = []
    for key in sorted(routes):
        s, t = key
        kind = "self" if s == t else ("back" if key in reverse else "forward")
        segs = tuple(tuple(tr(p) for p in seg) for seg in routes[key])
        out_routes.append(EdgeRoute(ids[s], ids[t], segs, kind))  # type: ignore[arg-type]
    w_out, h_out = (ext_o, ext_r) if direction == "TB" else (ext_r, ext_o)
    return Layout(boxes, tuple(out_routes), w_out, h_out, direction, n_layers)


def check_edge_nodes(source: str, target: str, nodes: Container[str]) -> None:
    """Raise a :class:`SchemaError` when an edge's source or target is not one of ``nodes``.

    Parameters
    ----------
    source, target : str
        The edge's ends.
    nodes : container of str
        The node ids.

    Raises
    ------
    SchemaError
        Names the edge and the missing node.

    Examples
    --------
    >>> check_edge_nodes("cart", "pay", {"cart", "pay"})
    >>> check_edge_nodes("cart", "refund", {"cart", "pay"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journeymine.exceptions.SchemaError: Edge ('cart' -> 'refund') names 'refund', which is not ...
    """
    for name in (source, target):
        if name not in nodes:
            raise SchemaError(
                f"Edge ({source!r} -> {target!r}) names {name!r}, which is not in nodes.",
                expected="every edge source and target to be a node id.",
                fix="Add the node, or drop (filter) the edges that name it.",
            )


def _too_large(what: str) -> InvalidParameterError:
    """The error for a graph beyond :data:`MAX_LAYOUT_ITEMS` (``what`` says how big)."""
    return InvalidParameterError(
        f"The graph is too large to lay out: {what} (limit: {MAX_LAYOUT_ITEMS:,} "
        "nodes, edges and virtual nodes together).",
        expected="a graph small enough to read, e.g. a few dozen nodes and edges.",
        fix="Lay out a simpler view, e.g. ProcessMap.filter(touchpoints=35, max_edges=80); "
        "ProcessMap.to_svg() draws such a view by itself.",
    )


def _break_cycles(
    n: int,
    pairs: list[tuple[int, int]],
    weight: dict[tuple[int, int], float],
    hints: list[int | None],
    src_set: set[int],
) -> set[tuple[int, int]]:
    """Return the set of edges to reverse so that the graph becomes acyclic."""
    pre = set()
    for s, t in pairs:
        hs, ht = hints[s], hints[t]
        if hs is not None and ht is not None and hs > ht:
            pre.add((s, t))
    out: list[list[tuple[float, int, tuple[int, int]]]] = [[] for _ in range(n)]
    indeg = [0] * n
    out_w = [0.0] * n
    for key in pairs:
        a, b = (key[1], key[0]) if key in pre else key
        out[a].append((-weight[key], b, key))
        indeg[b] += 1
        out_w[a] += weight[key]
    for lst in out:
        lst.sort()

    def root_key(v: int) -> tuple:
        h = hints[v]
        return (v not in src_set, indeg[v] > 0, h if h is not None else -1, -out_w[v], v)

    flipped = set()
    color = [0] * n
    for root in sorted(range(n), key=root_key):
        if color[root]:
            continue
        color[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            v, it = stack[-1]
            for _, b, key in it:
                if color[b] == 1:
                    flipped.add(key)
                elif color[b] == 0:
                    color[b] = 1
                    stack.append((b, iter(out[b])))
                    break
            else:
                color[v] = 2
                stack.pop()
    return pre ^ flipped


def _assign_layers(
    n: int,
    dag: Iterable[tuple[int, int]],
    hints: list[int | None],
    src_set: set[int],
    snk_set: set[int],
) -> list[int]:
    """Longest-path layering in a stage-aware topological order."""
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for a, b in dag:
        preds[b].append(a)
        succs[a].append(b)
    indeg = [len(p) for p in preds]

    def key(v: int) -> tuple[int, int, int]:
        group = 0 if v in src_set else (2 if v in snk_set else 1)
        h = hints[v]
        return (group, h if h is not None else -1, v)

    heap = [key(v) for v in range(n) if indeg[v] == 0]
    heapq.heapify(heap)
    layer = [0] * n
    stage_max: dict[int, int] = {}
    while heap:
        v = heapq.heappop(heap)[2]
        base = 1 if src_set and v not in src_set else 0
        lay = max([layer[u] + 1 for u in preds[v]] + [base])
        h = hints[v]
        if h is not None and v not in src_set and v not in snk_set:
            earlier = [m for s, m in stage_max.items() if s < h]
            if earlier:
                lay = max(lay, max(earlier) + 1)
            stage_max[h] = max(stage_max.get(h, lay), lay)
        layer[v] = lay
        for b in succs[v]:
            indeg[b] -= 1
            if indeg[b] == 0:
                heapq.heappush(heap, key(b))
    others = [layer[v] for v in range(n) if v not in snk_set]
    bottom = max(others, default=-1) + 1
    for v in snk_set:
        if not succs[v]:
            layer[v] = max(layer[v], bottom)
    return layer


def _crossings(upper: list[int], down: list[list[int]], pos: list[int], size: int) -> int:
    """Number of crossings between two adjacent layers (Fenwick-tree inversion count)."""
    segs = sorted((pos[a], pos[b]) for a in upper for b in down[a])
    tree = [0] * (size + 1)
    count = 0
    for seen, (_, pb) in enumerate(segs):
        # number of earlier segments whose lower end is strictly right of pb
        i, le = pb + 1, 0
        while i > 0:
            le += tree[i]
            i -= i & -i
        count += seen - le
        i = pb + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return count


def _order(
    total: int,
    n_layers: int,
    layer: list[int],
    up: list[list[int]],
    down: list[list[int]],
    src_set: set[int],
    hints: list[int | None],
    iterations: int,
) -> list[list[int]]:
    """Order the nodes of every layer by barycenter sweeps; keep the best ordering."""
    layers: list[list[int]] = [[] for _ in range(n_layers)]
    for v in range(total):
        layers[layer[v]].append(v)
    pos = [0] * total
    n_real = len(hints)

    def tie(v: int) -> tuple[int, int, int]:
        h = hints[v] if v < n_real else None
        return (v not in src_set, h if h is not None else -1, v)

    # initial order: first layer by (source, stage, name); then one downward sweep
    for lay, members in enumerate(layers):
        if lay == 0:
            members.sort(key=tie)
        else:
            members.sort(key=lambda v: (_bary(up[v], pos, -1.0), tie(v)))
        for i, v in enumerate(members):
            pos[v] = i

    def all_crossings() -> int:
        return sum(
            _crossings(layers[i], down, pos, len(layers[i + 1])) for i in range(n_layers - 1)
        )

    best = [list(m) for m in layers]
    best_c = all_crossings()
    for it in range(iterations):
        if best_c == 0:
            break
        if it % 2 == 0:
            seq, nbrs = range(1, n_layers), up
        else:
            seq, nbrs = range(n_layers - 2, -1, -1), down
        for lay in seq:
            members = layers[lay]
            members.sort(key=lambda v, nb=nbrs: (_bary(nb[v], pos, pos[v]), pos[v]))
            for i, v in enumerate(members):
                pos[v] = i
        c = all_crossings()
        if c < best_c:
            best_c, best = c, [list(m) for m in layers]
    return best


def _bary(nbrs: list[int], pos: list[int], default: float) -> float:
    if not nbrs:
        return default
    return sum(pos[u] for u in nbrs) / len(nbrs)


def _pav(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions closest to ``desired`` (weighted least squares) keeping the gaps."""
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    blocks: list[list[float]] = []  # [weight sum, weighted sum, count]
    for d, w, c in zip(desired, weights, offsets, strict=True):
        blocks.append([w, w * (d - c), 1])
        while len(blocks) > 1 and (blocks[-2][1] / blocks[-2][0] > blocks[-1][1] / blocks[-1][0]):
            w2, s2, n2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += s2
            blocks[-1][2] += n2
    out = []
    for w, s, cnt in blocks:
        out.extend([s / w] * int(cnt))
    return [y + c for y, c in zip(out, offsets, strict=True)]


def _coordinates(
    layers: list[list[int]],
    is_dummy: list[bool],
    up: tuple[list[list[int]], list[list[float]]],
    down: tuple[list[list[int]], list[list[float]]],
    o_size: list[float],
    extra_after: list[float],
    node_sep: float,
) -> list[float]:
    """Positions along the layer axis: neighbour averaging with overlap removal."""
    total = len(is_dummy)
    x = [0.0] * total
    gaps_of = []
    for members in layers:
        gaps = []
        for u, v in itertools.pairwise(members):
            if is_dummy[u] and is_dummy[v]:
                sep = 12.0
            elif is_dummy[u] or is_dummy[v]:
                sep = node_sep * 0.6
            else:
                sep = node_sep
            gaps.append((o_size[u] + o_size[v]) / 2 + sep + extra_after[u])
        gaps_of.append(gaps)
        pos = 0.0
        for i, v in enumerate(members):
            x[v] = pos
            if i < len(gaps):
                pos += gaps[i]
        shift = pos / 2
        for v in members:
            x[v] -= shift

    n_layers = len(layers)
    for it in range(_COORD_SWEEPS):
        seq = range(n_layers) if it % 2 == 0 else range(n_layers - 1, -1, -1)
        for lay in seq:
            members = layers[lay]
            desired, weights = [], []
            for v in members:
                num = den = 0.0
                for nbrs, wts in (up, down):
                    for u, w in zip(nbrs[v], wts[v], strict=True):
                        num += w * x[u]
                        den += w
                if den:
                    desired.append(num / den)
                    weights.append(den)
                else:
                    desired.append(x[v])
                    weights.append(1e-3)
            for v, xv in zip(members, _pav(desired, weights, gaps_of[lay]), strict=True):
                x[v] = xv
    return x


def _spread(k: int, span: float, step: float) -> list[float]:
    """``k`` offsets centred on 0, at most ``step`` apart, within ``span``."""
    if k <= 1:
        return [0.0] * k
    gap = min(step, span / (k - 1))
    return [(i - (k - 1) / 2) * gap for i in range(k)]


def _route(
    n: int,
    pairs: list[tuple[int, int]],
    loops: list[tuple[int, int]],
    chains: dict[tuple[int, int], list[int]],
    reverse: set[tuple[int, int]],
    x: list[float],
    r: list[float],
    o_size: list[float],
    r_size: list[float],
) -> dict[tuple[int, int], list[Segment]]:
    """Bézier routes in abstract (order axis, rank axis) coordinates."""
    # ports: forward edges leave at the bottom and enter at the top, spread by direction
    out_ports: dict[int, list[tuple[float, tuple[int, int]]]] = {}
    in_ports: dict[int, list[tuple[float, tuple[int, int]]]] = {}
    side_ports: dict[tuple[int, int], list[tuple[float, tuple[int, int]]]] = {}
    sides: dict[tuple[tuple[int, int], int], int] = {}
    for key in pairs:
        chain = chains[key]
        if key not in reverse:
            out_ports.setdefault(chain[0], []).append((x[chain[1]], key))
            in_ports.setdefault(chain[-1], []).append((x[chain[-2]], key))
            continue
        # back edge: travels from chain[-1] (lower) up to chain[0] (upper), on a side
        lower, upper = chain[-1], chain[0]
        if len(chain) == 2 and abs(x[lower] - x[upper]) > min(o_size[lower], o_size[upper]) / 2:
            # nodes far apart: go straight up through the gap between the two layers
            in_ports.setdefault(lower, []).append((x[upper], key))
            out_ports.setdefault(upper, []).append((x[lower], key))
            sides[(key, lower)] = sides[(key, upper)] = 0
            continue
        if len(chain) == 2:
            s_low = s_up = 1
        else:
            # leave/enter on the side facing the first/last virtual node; straight up
            # (top of the lower node, bottom of the upper one) when it is right above
            s_low = _side(x[chain[-2]] - x[lower], o_size[lower] / 2)
            s_up = _side(x[chain[1]] - x[upper], o_size[upper] / 2)
        sides[(key, lower)] = s_low
        sides[(key, upper)] = s_up
        if s_low:
            side_ports.setdefault((lower, s_low), []).append((-r[chain[-2]], key))
        if s_up:
            side_ports.setdefault((upper, s_up), []).append((r[chain[1]], key))
    port: dict[tuple[tuple[int, int], int, str], float] = {}
    for kind, table, span, step in (
        ("out", out_ports, o_size, 10.0),
        ("in", in_ports, o_size, 10.0),
    ):
        for v, lst in table.items():
            offs = _spread(len(lst), span[v] * 0.6, step)
            for off, (_, key) in zip(offs, sorted(lst), strict=True):
                port[(key, v, kind)] = off
    for (v, _), lst in side_ports.items():
        offs = _spread(len(lst), r_size[v] * 0.5, 6.0)
        for off, (_, key) in zip(offs, sorted(lst), strict=True):
            port[(key, v, "side")] = off

    routes: dict[tuple[int, int], list[Segment]] = {}
    for key in pairs:
        chain = chains[key]
        if key not in reverse:
            a, b = chain[0], chain[-1]
            pts = [(x[a] + port[(key, a, "out")], r[a] + r_size[a] / 2)]
            pts += [(x[d], r[d]) for d in chain[1:-1]]
            pts.append((x[b] + port[(key, b, "in")], r[b] - r_size[b] / 2))
            tans = [(0.0, 1.0)] * len(pts)
            routes[key] = _smooth(pts, tans)
            continue
        lower, upper = chain[-1], chain[0]
        s_low, s_up = sides[(key, lower)], sides[(key, upper)]
        if len(chain) == 2 and not s_low:
            p0 = (x[lower] + port[(key, lower, "in")], r[lower] - r_size[lower] / 2)
            p1 = (x[upper] + port[(key, upper, "out")], r[upper] + r_size[upper] / 2)
            routes[key] = _smooth([p0, p1], [(0.0, -1.0), (0.0, -1.0)])
            continue
        if len(chain) == 2:
            p0 = (x[lower] + o_size[lower] / 2, r[lower] + port[(key, lower, "side")])
            p1 = (x[upper] + o_size[upper] / 2, r[upper] + port[(key, upper, "side")])
            far = max(p0[0], p1[0]) + 30.0 + 4.0 * abs(port[(key, lower, "side")])
            routes[key] = [(p0, (far, p0[1]), (far, p1[1]), p1)]
            continue
        first, last = chain[-2], chain[1]
        if s_low:
            p0 = (x[lower] + s_low * o_size[lower] / 2, r[lower] + port[(key, lower, "side")])
        else:
            p0 = (_clamp(x[first], x[lower], o_size[lower] / 2 - 8), r[lower] - r_size[lower] / 2)
        if s_up:
            p1 = (x[upper] + s_up * o_size[upper] / 2, r[upper] + port[(key, upper, "side")])
        else:
            p1 = (_clamp(x[last], x[upper], o_size[upper] / 2 - 8), r[upper] + r_size[upper] / 2)
        pts = [p0] + [(x[d], r[d]) for d in reversed(chain[1:-1])] + [p1]
        tans = [(float(s_low), -1.0 if not s_low else 0.0)]
        tans += [(0.0, -1.0)] * (len(chain) - 2)
        tans += [(float(-s_up), -1.0 if not s_up else 0.0)]
        routes[key] = _smooth(pts, tans)
    for key in loops:
        v = key[0]
        right, top = x[v] + o_size[v] / 2, r[v] - r_size[v] / 2
        p0 = (right - 12.0, top)
        p1 = (right, top + 9.0)
        routes[key] = [(p0, (right - 12.0, top - 24.0), (right + 24.0, top + 9.0), p1)]
    return routes


def _side(dx: float, half: float) -> int:
    """+1 (after), -1 (before) or 0 (straight across) for a back edge's end."""
    if dx >= half - 8:
        return 1
    if dx <= 8 - half:
        return -1
    return 0


def _clamp(value: float, centre: float, half: float) -> float:
    half = max(half, 0.0)
    return min(max(value, centre - half), centre + half)


def _smooth(pts: list[Point], tans: list[Point]) -> list[Segment]:
    """Cubic segments through ``pts`` with the given unit tangents at each point."""
    segs = []
    for (p, tp), (q, tq) in zip(
        zip(pts, tans, strict=True), zip(pts[1:], tans[1:], strict=True), strict=False
    ):
        d_o, d_r = abs(q[0] - p[0]), abs(q[1] - p[1])
        # sideways tangents (back edges leaving/entering a side) stay short so the
        # curve leaves the layer before it can run through a neighbouring node
        a = max(d_r * 0.5, 10.0) if tp[1] else min(max(d_o * 0.6, 16.0), 24.0)
        b = max(d_r * 0.5, 10.0) if tq[1] else min(max(d_o * 0.6, 16.0), 24.0)
        c1 = (p[0] + tp[0] * a, p[1] + tp[1] * a)
        c2 = (q[0] - tq[0] * b, q[1] - tq[1] * b)
        segs.append((p, c1, c2, q))
    return segs

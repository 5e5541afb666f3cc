"""One-pixel skeletons to ordered stroke paths: branches, junctions, spurs, gaps, loops.

The skeleton is cut at its junction pixels (three or more 8-neighbours). What is left falls
apart into *branches*, simple 1-px curves found as connected components; each branch is put
in order by walking its outer contour (``cv2.findContours`` walks a 1-px curve out and back,
so the stretch between its two end pixels is the branch in order). The stroke graph then has
junction clusters as nodes and branches as edges. Short spurs (a free end joined to a
junction) are dropped; at a junction the branches that continue each other most straightly
are joined into one stroke, as are the two branches of a junction left with two; free ends
closer than the gap size that face each other are bridged. Closed loops stay closed.

Pixel work is done with OpenCV on whole images; Python loops run once per branch or node.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class StrokePath:
    """An ordered centerline: ``points`` ``(n, 2)`` float ``(x, y)`` px; ``closed`` loops
    back from the last point to the first (the first point is not repeated)."""

    points: np.ndarray
    closed: bool

    @cached_property
    def length(self) -> float:
        pts = np.vstack([self.points, self.points[:1]]) if self.closed else self.points
        return float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0


@dataclass
class _Branch:
    points: np.ndarray  # (n, 2) float, ordered
    nodes: list[int]  # junction label at [start, end]; 0 = free end
    closed: bool = False

    def length(self) -> float:
        if len(self.points) < 2:
            return 0.0
        return float(np.hypot(*np.diff(self.points, axis=0).T).sum())

    def end_point(self, end: int) -> np.ndarray:
        return self.points[0] if end == 0 else self.points[-1]

    def end_direction(self, end: int, reach: int = 6) -> np.ndarray:
        """Unit vector pointing out of the branch at ``end``."""
        pts = self.points if end == 1 else self.points[::-1]
        k = min(reach, len(pts) - 1)
        if k <= 0:
            return np.zeros(2)
        d = pts[-1] - pts[-1 - k]
        n = float(np.hypot(*d))
        return d / n if n > 0 else np.zeros(2)


def _order_branch(contour: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, bool]:
    """Order one branch from its outer contour ``(m, 2)``; ``ends`` are the contour indices
    of its end pixels (ascending)."""
    m = len(contour)
    if m <= 2:
        return contour, False
    if len(ends) == 0:
        return contour, True  # a 1-px loop: the outer contour visits each pixel once
    start = ends[0]
    stop = (ends[1] - start) % m if len(ends) >= 2 else m // 2
    return contour[(start + np.arange(stop + 1)) % m], False


_OFFSETS = np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)])


def _gather_neighbours(padded: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Values of the 8 neighbours of pixels ``(ys, xs)`` in a 1-px padded image, ``(8, n)``."""
    return np.stack([padded[ys + 1 + dy, xs + 1 + dx] for dy, dx in _OFFSETS])


def _junction_clusters(jy: np.ndarray, jx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label 8-connected clusters of junction pixels: labels ``(n,)`` from 1, and centroids
    ``(k + 1, 2)`` ``(x, y)`` (row 0 unused)."""
    if len(jy) == 0:
        return np.zeros(0, int), np.zeros((1, 2))
    xy = np.column_stack([jx, jy]).astype(np.float64)
    pairs = cKDTree(xy).query_pairs(1.5, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    k, labels = connected_components(graph, directed=False)
    counts = np.bincount(labels, minlength=k)
    centroids = np.zeros((k + 1, 2))
    centroids[1:, 0] = np.bincount(labels, xy[:, 0], k) / counts
    centroids[1:, 1] = np.bincount(labels, xy[:, 1], k) / counts
    return labels + 1, centroids


def _pixels(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-major ``(ys, xs)`` of the non-zero pixels of a 2-D mask, like ``np.nonzero`` but
    with OpenCV's vectorised scan (3× faster on a mostly empty 1080p mask)."""
    image = np.ascontiguousarray(mask, dtype=np.uint8)
    found = cv2.findNonZero(image)
    if found is None:
        empty = np.zeros(0, np.intp)
        return empty, empty
    xy = found.reshape(-1, 2).astype(np.intp)
    return xy[:, 1], xy[:, 0]


def _branches(skeleton: np.ndarray) -> tuple[list[_Branch], np.ndarray]:
    """Cut the skeleton at junctions; return the branches and the junction centroids.

    Neighbour counts, end pixels and junction labels are looked up at skeleton pixels only
    (sorted linear indices), never through whole-image label maps.
    """
    h, w = skeleton.shape
    stride = w + 2
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = skeleton
    ys, xs = _pixels(skeleton)
    count = _gather_neighbours(padded, ys, xs).sum(0)
    is_junction = count >= 3
    jy, jx = ys[is_junction], xs[is_junction]
    jlabels, centroids = _junction_clusters(jy, jx)
    jlin = (jy + 1) * stride + (jx + 1)  # sorted: np.nonzero is row-major
    padded[jy + 1, jx + 1] = 0
    rest = padded[1:-1, 1:-1]
    ry, rx = ys[~is_junction], xs[~is_junction]
    rest_count = _gather_neighbours(padded, ry, rx).sum(0)
    end_lin = (ry[rest_count <= 1] + 1) * stride + (rx[rest_count <= 1] + 1)
    contours, hierarchy = cv2.findContours(rest, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    branches: list[_Branch] = []
    links = hierarchy[0] if hierarchy is not None else np.zeros((0, 4), int)
    # Outer contours only: a hole's border runs over the same pixels as an outer contour.
    outer = [contours[i].reshape(-1, 2) for i in np.flatnonzero(links[:, 3] == -1)]
    if outer:
        sizes = np.array([len(c) for c in outer])
        starts = np.concatenate([[0], np.cumsum(sizes)])
        every = np.concatenate(outer)
        every_lin = (every[:, 1] + 1) * stride + (every[:, 0] + 1)
        end_at = np.flatnonzero(np.isin(every_lin, end_lin))  # all contours at once
        bounds = np.searchsorted(end_at, starts)
        for k, c in enumerate(outer):
            ends = end_at[bounds[k] : bounds[k + 1]] - starts[k]
            ordered, closed = _order_branch(c, ends)
            branches.append(_Branch(ordered.astype(np.float64), [0, 0], closed))
    if branches and len(jy):  # which junction (if any) touches each end, all at once
        ends = np.array([[b.points[0], b.points[-1]] for b in branches], np.int64).reshape(-1, 2)
        centre = (ends[:, 1] + 1) * stride + (ends[:, 0] + 1)
        around = centre[None, :] + (_OFFSETS[:, 0] * stride + _OFFSETS[:, 1])[:, None]
        at = np.minimum(np.searchsorted(jlin, around), len(jlin) - 1)
        label = np.where(jlin[at] == around, jlabels[at], 0)
        near = label.max(0).reshape(-1, 2)
        for b, (n0, n1) in zip(branches, near.tolist(), strict=True):
            if not b.closed:
                b.nodes = [n0, n1]
    # Junctions with no branch at all (an isolated blob of junction pixels) are dropped.
    return branches, centroids


def _prune_spurs(branches: list[_Branch], spur_length: float) -> list[_Branch]:
    """Drop branches with one free end and one junction end shorter than ``spur_length``."""
    for _ in range(2):  # a spur's removal can turn a neighbour into a spur of its own
        degree: dict[int, int] = {}
        for b in branches:
            for node in b.nodes:
                if node:
                    degree[node] = degree.get(node, 0) + 1
        keep = []
        for b in branches:
            one_free = (b.nodes[0] == 0) != (b.nodes[1] == 0)
            node = b.nodes[0] or b.nodes[1]
            if one_free and b.length() < spur_length and degree.get(node, 0) >= 3:
                continue
            if b.nodes[0] == b.nodes[1] != 0 and b.length() < spur_length:
                continue  # a pixel or two looping back into the junction it left
            keep.append(b)
        if len(keep) == len(branches):
            break
        branches = keep
    return branches


def _link_at_junctions(
    branches: list[_Branch], centroids: np.ndarray, max_turn_deg: float
) -> dict[tuple[int, int], tuple[tuple[int, int], np.ndarray | None]]:
    """Pair branch ends meeting at a junction: ``(branch, end) -> ((branch, end), via)``."""
    at_node: dict[int, list[tuple[int, int]]] = {}
    for i, b in enumerate(branches):
        for end, node in enumerate(b.nodes):
            if node:
                at_node.setdefault(node, []).append((i, end))
    links: dict[tuple[int, int], tuple[tuple[int, int], np.ndarray | None]] = {}
    straight = -np.cos(np.deg2rad(max_turn_deg))
    for node, ends in at_node.items():
        via = centroids[node]
        if len(ends) == 2:
            pairs = [(ends[0], ends[1])]
        else:
            dirs = np.array([branches[i].end_direction(e) for i, e in ends])
            dots = dirs @ dirs.T  # -1: the two branches continue each other straight
            iu, ju = np.triu_indices(len(ends), 1)
            order = np.argsort(dots[iu, ju])
            used: set[int] = set()
            pairs = []
            for k in order:
                a, b = int(iu[k]), int(ju[k])
                if dots[a, b] > straight:
                    break
                if a in used or b in used:
                    continue
                used.update((a, b))
                pairs.append((ends[a], ends[b]))
        for a, b in pairs:
            links[a] = (b, via)
            links[b] = (a, via)
        for i, end in ends:
            if (i, end) not in links:  # the stroke stops at the junction: reach its centre
                b = branches[i]
                b.points = np.vstack([via, b.points]) if end == 0 else np.vstack([b.points, via])
    return links


def _bridge_gaps(
    branches: list[_Branch],
    links: dict[tuple[int, int], tuple[tuple[int, int], np.ndarray | None]],
    gap: float,
) -> None:
    """Link free ends closer than ``gap`` px that face each other (closest pairs first)."""
    if gap <= 0:
        return
    ends = [
        (i, e)
        for i, b in enumerate(branches)
        if not b.closed
        for e in (0, 1)
        if b.nodes[e] == 0 and (i, e) not in links
    ]
    if len(ends) < 2:
        return
    pos = np.array([branches[i].end_point(e) for i, e in ends])
    pairs = cKDTree(pos).query_pairs(gap, output_type="ndarray")
    if len(pairs) == 0:
        return
    dist = np.hypot(*(pos[pairs[:, 0]] - pos[pairs[:, 1]]).T)
    for k in np.argsort(dist):
        a, b = ends[pairs[k, 0]], ends[pairs[k, 1]]
        if a in links or b in links:
            continue
        if a[0] == b[0] and branches[a[0]].length() < 4 * gap:
            continue  # don't curl a short dash into a ring
        if dist[k] > 1.5:
            da, db = branches[a[0]].end_direction(a[1]), branches[b[0]].end_direction(b[1])
            step = (pos[pairs[k, 1]] - pos[pairs[k, 0]]) / dist[k]
            if da @ step < 0.3 or db @ -step < 0.3:
                continue  # the ends don't point at each other
        links[a] = (b, None)
        links[b] = (a, None)


def _chains(
    branches: list[_Branch],
    links: dict[tuple[int, int], tuple[tuple[int, int], np.ndarray | None]],
) -> list[StrokePath]:
    """Follow links from branch to branch; what comes back to its start is a closed loop."""
    visited = np.zeros(len(branches), bool)
    paths: list[StrokePath] = []

    def walk(start: int, entry: int) -> StrokePath:
        pieces: list[np.ndarray] = []
        i, e = start, entry
        closed = False
        while True:
            visited[i] = True
            pts = branches[i].points
            pieces.append(pts if e == 0 else pts[::-1])
            nxt = links.get((i, 1 - e))
            if nxt is None:
                break
            (j, f), via = nxt
            if visited[j]:
                closed = (j, f) == (start, entry)
                if closed and via is not None:
                    pieces.append(via[None, :])
                break
            if via is not None:
                pieces.append(via[None, :])
            i, e = j, f
        points = np.vstack(pieces)
        if closed and len(points) > 2 and np.array_equal(points[0], points[-1]):
            points = points[:-1]
        return StrokePath(points, closed)

    for i, b in enumerate(branches):
        if visited[i]:
            continue
        if b.closed:
            visited[i] = True
            paths.append(StrokePath(b.points, True))
            continue
        for e in (0, 1):
            if (i, e) not in links:
                paths.append(walk(i, e))
                break
    for i in range(len(branches)):  # whatever is left is made of loops through links
        if not visited[i]:
            paths.append(walk(i, 0))
    return paths


def trace_strokes(
    skeleton: np.ndarray,
    spur_length: float = 6.0,
    gap: float = 3.0,
    max_turn_deg: float = 45.0,
) -> list[StrokePath]:
    """Ordered stroke paths of a ``(H, W)`` bool one-pixel skeleton.

    ``spur_length`` (px): side branches shorter than this are pruned. ``gap`` (px): free ends
    at most this far apart that face each other are joined. ``max_turn_deg``: at a junction
    of three or more branches, two are joined when one continues the other with a turn of at
    most this many degrees.
    """
    sk = np.asarray(skeleton) > 0
    if sk.size == 0 or not sk.any():
        return []
    branches, centroids = _branches(sk)
    branches = _prune_spurs(branches, spur_length)
    links = _link_at_junctions(branches, centroids, max_turn_deg)
    _bridge_gaps(branches, links, gap)
    return _chains(branches, links)


def extend_ends(
    paths: list[StrokePath], ink: np.ndarray, distance: np.ndarray, reach: int = 6
) -> list[StrokePath]:
    """Give back what thinning ate at open ends: walk on along each free end's direction
    while the ink lasts, and stop half the local line width short of its edge (so a round
    cap of that radius ends where the ink ends). ``ink`` is ``(H, W)`` bool, ``distance``
    its distance transform; ends that would grow by less than 1 px are left alone. All
    ends are probed at once."""
    h, w = ink.shape
    which = [i for i, p in enumerate(paths) if not p.closed and len(p.points) >= 3]
    if not which:
        return list(paths)
    tips, inner = [], []
    for i in which:
        pts = paths[i].points
        k = min(reach, len(pts) - 1)
        tips += [pts[0], pts[-1]]
        inner += [pts[k], pts[-1 - k]]
    tip, d = np.array(tips), np.array(tips) - np.array(inner)
    norm = np.hypot(*d.T)
    unit = d / np.maximum(norm, 1e-9)[:, None]
    steps = np.arange(1, 4 * reach + 1) * 0.5  # px, in half-pixel steps
    probe = np.rint(tip[:, None, :] + steps[None, :, None] * unit[:, None, :]).astype(np.int64)
    x, y = probe[..., 0], probe[..., 1]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    on_ink = inside & ink[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)]
    run = np.where(on_ink.all(1), len(steps), np.argmin(on_ink, axis=1)) * 0.5
    t = np.rint(tip).astype(np.int64)
    half = np.maximum(distance[np.clip(t[:, 1], 0, h - 1), np.clip(t[:, 0], 0, w - 1)] - 0.5, 0)
    grow = np.where(norm > 1e-9, run - half, 0.0)
    new_tip = tip + grow[:, None] * unit
    out = list(paths)
    for j, i in enumerate(which):
        pts = paths[i].points
        head = new_tip[2 * j : 2 * j + 1] if grow[2 * j] >= 1.0 else pts[:0]
        tail = new_tip[2 * j + 1 : 2 * j + 2] if grow[2 * j + 1] >= 1.0 else pts[:0]
        if len(head) or len(tail):
            out[i] = StrokePath(np.concatenate([head, pts, tail]), False)
    return out

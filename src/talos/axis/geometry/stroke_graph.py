"""One-pixel skeletons to ordered stroke paths: branches, junctions, spurs, gaps, loops.

The skeleton is cut at its junction pixels (three or more 8-neighbours). What is left falls
apart into *branches*, simple 1-px curves; each is put in order by walking its outer
contour (``cv2.findContours`` walks a 1-px curve out and back, so the stretch between its
two end pixels is the branch in order). The stroke graph then has junction clusters as
nodes and branches as edges. Junctions joined by a branch shorter than the spur length are
one junction (lines crossing at a shallow angle, a jagged boundary's kinks); short spurs (a
free end joined to a junction) are dropped, and a junction left with one branch is none.
A free end that runs into another line a few pixels ahead (a T-junction an edge detector
left open) is attached to it: that line is cut there into a new junction. At a junction the
branches that continue each other most straightly are joined into one stroke, as are the
two branches of a junction left with two; where two lines crossing at a shallow angle share
a stretch of ink (two forks joined by one branch), both lines go through it. Free ends
closer than the gap size that face each other are bridged. Closed loops stay closed.

A frame of real footage has about a thousand branches, so the graph lives in flat arrays:
all branch points back to back, and per branch end (``2·branch + end``) its junction, its
outward direction and its partner. Pixel work is OpenCV and NumPy on the skeleton's pixel
list; Python loops run over plain integers only (choosing attachments, pairing ends at busy
junctions, bridging, and walking the links), and every path's points are gathered at once
at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from talos.axis.geometry import ragged
from talos.axis.geometry.path_batch import PathBatch
from talos.axis.geometry.sampling import polyline_length
from talos.axis.geometry.skeleton import PixelSet, neighbour_offsets, width_from_distance

END_REACH = 6  # points behind a branch end that give its direction


@dataclass(frozen=True)
class StrokePath:
    """An ordered centerline: ``points`` ``(n, 2)`` float ``(x, y)`` px; ``closed`` loops
    back from the last point to the first (the first point is not repeated)."""

    points: np.ndarray
    closed: bool

    @cached_property
    def length(self) -> float:
        pts = np.vstack([self.points, self.points[:1]]) if self.closed else self.points
        return polyline_length(pts)


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


@dataclass
class _Branches:
    """Branches back to back: ``points`` ``(N, 2)`` ordered, ``sizes``/``closed`` ``(B,)``
    (every size at least 1), ``nodes`` ``(B, 2)`` the junction label at each end (0: a free
    end), and the junction ``centroids`` ``(J + 1, 2)`` (row 0 unused). ``length`` caches
    :meth:`lengths` (the points and sizes do not change; a new set of branches starts
    without it)."""

    points: np.ndarray
    sizes: np.ndarray
    closed: np.ndarray
    nodes: np.ndarray
    centroids: np.ndarray
    length: np.ndarray | None = None

    @property
    def starts(self) -> np.ndarray:
        starts: np.ndarray = np.cumsum(self.sizes) - self.sizes
        return starts

    def lengths(self) -> np.ndarray:
        """Open polyline length of every branch ``(B,)`` px."""
        if self.length is None:
            step = np.zeros(len(self.points))
            step[1:] = np.hypot(*np.diff(self.points, axis=0).T)
            starts = self.starts
            step[starts] = 0.0
            self.length = np.add.reduceat(step, starts) if len(starts) else np.zeros(0)
        return self.length

    def keep(self, keep: np.ndarray) -> _Branches:
        return _Branches(
            self.points[np.repeat(keep, self.sizes)],
            self.sizes[keep],
            self.closed[keep],
            self.nodes[keep],
            self.centroids,
            None if self.length is None else self.length[keep],
        )

    def points_in(self, offset: int) -> np.ndarray:
        """The point ``offset`` points in from every end ``(2B, 2)`` (the other end's, at
        most): row ``2b`` counts from branch ``b``'s first point, ``2b + 1`` from its last."""
        first = self.starts
        k = np.minimum(offset, self.sizes - 1)
        rows = np.column_stack([first + k, first + self.sizes - 1 - k]).ravel()
        points: np.ndarray = self.points[rows]
        return points

    def end_points(self) -> np.ndarray:
        """Position of every end ``(2B, 2)``: row ``2b`` is branch ``b``'s first point."""
        return self.points_in(0)

    def end_directions(self, reach: int = END_REACH) -> np.ndarray:
        """Unit vector pointing out of the branch at every end ``(2B, 2)`` (zero when the
        branch is a single point)."""
        d = self.points_in(0) - self.points_in(reach)
        norm = np.hypot(*d.T)
        directions: np.ndarray = d / np.where(norm > 0, norm, np.inf)[:, None]
        return directions


def _branches(skeleton: PixelSet) -> _Branches:
    """Cut the skeleton at junctions into ordered branches (see module docstring)."""
    image, stride, pixels = skeleton.image.copy(), skeleton.stride, skeleton.pixels
    around = neighbour_offsets(stride)
    count = sum(image[pixels + offset] for offset in around)
    junction = pixels[count >= 3]
    jy, jx = np.divmod(junction, stride)
    labels, centroids = _junction_clusters(jy - 1, jx - 1)
    image[junction] = 0
    rest = pixels[count < 3]
    rest_count = sum(image[rest + offset] for offset in around)
    is_end = np.zeros(len(image), bool)
    is_end[rest[rest_count <= 1]] = True
    rest_image = replace(skeleton, image=image).framed()
    contours, hierarchy = cv2.findContours(rest_image, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    empty = _Branches(
        np.zeros((0, 2)),
        np.zeros(0, np.int64),
        np.zeros(0, bool),
        np.zeros((0, 2), np.int64),
        centroids,
    )
    if hierarchy is None:
        return empty
    # Outer contours only: a hole's border runs over the same pixels as an outer contour.
    outer = [contours[i] for i in np.flatnonzero(hierarchy[0][:, 3] == -1).tolist()]
    if not outer:
        return empty
    m = np.array([len(c) for c in outer], np.int64)
    first = np.cumsum(m) - m
    every = np.concatenate(outer).reshape(-1, 2)
    end_at = np.flatnonzero(is_end[every[:, 1] * stride + every[:, 0]])
    owner = np.searchsorted(first, end_at, side="right") - 1
    n_ends = np.bincount(owner, minlength=len(m))
    k = np.searchsorted(owner, np.arange(len(m)))  # each contour's first end in ``end_at``
    last = max(len(end_at) - 1, 0)
    e0 = end_at[np.minimum(k, last)] - first if len(end_at) else np.zeros(len(m), np.int64)
    e1 = end_at[np.minimum(k + 1, last)] - first if len(end_at) else e0
    # Between two ends, the contour's way out is the branch; a contour with one end walks
    # out and back, so its first half is the branch; one with none is a closed 1-px loop.
    whole = (m <= 2) | (n_ends == 0)
    begin = np.where(whole, 0, e0)
    size = np.where(whole, m, np.where(n_ends >= 2, (e1 - e0) % m, m // 2) + 1)
    branch = np.repeat(np.arange(len(m)), size)
    step = ragged.within(size)
    xy = every[first[branch] + (begin[branch] + step) % m[branch]]
    closed = (n_ends == 0) & (m > 2)
    # Which junction (if any) touches each end of an open branch.
    nodes = np.zeros((len(m), 2), np.int64)
    if len(junction):
        tips = xy[np.column_stack([np.cumsum(size) - size, np.cumsum(size) - 1]).ravel()]
        near = (tips[:, 1] * stride + tips[:, 0])[None, :] + around[:, None]  # (8, 2B)
        at = np.minimum(np.searchsorted(junction, near), len(junction) - 1)
        touching = np.where(junction[at] == near, labels[at], 0)
        # A tip next to two junctions (a one-pixel branch between them) goes to the higher
        # at its first end and the lower at its last, so the branch links the two.
        none = len(centroids)  # above every label
        lowest = np.where(touching > 0, touching, none).min(0)
        lowest = np.where(lowest == none, 0, lowest)
        nodes = np.column_stack([touching.max(0)[0::2], lowest[1::2]])
        nodes[closed] = 0
    return _Branches((xy - 1).astype(np.float64), size, closed, nodes, centroids)


def _merge_junctions(branches: _Branches, max_length: float) -> _Branches:
    """Merge junctions joined by a branch shorter than ``max_length`` px into one, and drop
    those branches.

    Where lines cross or meet at a shallow angle, where a spur leaves a line next to another
    junction, and all along a jagged 1-px boundary, thinning leaves two or three junction
    clusters a pixel or a few apart instead of one. Pairing ends at each cluster alone would
    cut the lines into fragments there (the short link between them would continue one line
    and stop the others); one junction with all their ends pairs the lines straight through.
    Merged clusters form connected components over those short links (union–find over
    the links, a few dozen a frame), each labelled by its lowest junction; the merged
    junction's centre is the mean of its clusters' centres.
    """
    n0, n1 = branches.nodes[:, 0], branches.nodes[:, 1]
    link = (n0 > 0) & (n1 > 0) & (n0 != n1) & (branches.lengths() < max_length)
    if not link.any():
        return branches
    root = list(range(len(branches.centroids)))

    def find(a: int) -> int:
        while root[a] != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    for a, b in zip(n0[link].tolist(), n1[link].tolist(), strict=True):
        ra, rb = find(a), find(b)
        root[max(ra, rb)] = min(ra, rb)
    label = np.array([find(a) for a in range(len(root))])
    # Node 0 (no junction) has no links, so it stays 0.
    count = np.bincount(label, minlength=len(label))
    centroids = np.zeros_like(branches.centroids)
    for axis in (0, 1):
        centroids[:, axis] = np.bincount(label, branches.centroids[:, axis], len(label))
    centroids /= np.maximum(count, 1)[:, None]
    kept = branches.keep(~link)
    return replace(kept, nodes=label[kept.nodes], centroids=centroids)


def _prune_spurs(branches: _Branches, spur_length: float) -> _Branches:
    """Drop branches with one free end and one junction end shorter than ``spur_length``,
    and short ones looping back into the junction they left."""
    short = branches.lengths() < spur_length
    n0, n1 = branches.nodes[:, 0], branches.nodes[:, 1]
    one_free = (n0 == 0) != (n1 == 0)
    node = np.maximum(n0, n1)
    kept = np.ones(len(short), bool)
    for _ in range(2):  # a spur's removal can turn a neighbour into a spur of its own
        degree = np.bincount(branches.nodes[kept].ravel(), minlength=len(branches.centroids))
        drop = kept & short & ((one_free & (degree[node] >= 3)) | ((n0 == n1) & (n0 != 0)))
        if not drop.any():
            break
        kept &= ~drop
    return branches if kept.all() else branches.keep(kept)


def _free_lonely_ends(branches: _Branches) -> _Branches:
    """A junction left with one branch end (its spurs pruned) is no junction: that end
    becomes a free end, so it can be attached or bridged like any other. The junction's
    centre becomes the branch's last point there (the stroke still reaches it)."""
    degree = np.bincount(branches.nodes.ravel(), minlength=len(branches.centroids))
    lonely = (branches.nodes > 0) & (degree[branches.nodes] == 1)
    if not lonely.any():
        return branches
    head, tail = lonely[:, 0], lonely[:, 1]
    first = branches.starts
    # Tails first: a tail and the next branch's head go in at the same index, in this order.
    at = np.concatenate([(first + branches.sizes)[tail], first[head]])
    centre = branches.centroids[np.concatenate([branches.nodes[tail, 1], branches.nodes[head, 0]])]
    return _Branches(
        np.insert(branches.points, at, centre, axis=0),
        branches.sizes + head + tail,
        branches.closed,
        np.where(lonely, 0, branches.nodes),
        branches.centroids,
    )


ATTACH_NEIGHBOURS = 16  # nearest skeleton points looked at per end
HOOK = 3  # points: a target this close to a branch end cuts off the rest as a hook


def _attach_ends(
    branches: _Branches,
    shape: tuple[int, int],
    reach: float,
    min_length: float,
    max_turn_deg: float,
) -> _Branches:
    """Close the gaps an edge detector leaves where a line runs into another: every free end
    of a branch at least ``min_length`` px long is joined to the nearest skeleton point of
    another branch that lies ahead of it, at most ``reach`` px away (Chebyshev distance, as
    for gaps) and at most ``max_turn_deg`` off the end's direction (the point ``q`` of an
    end at ``t`` heading ``d`` qualifies when ``(q − t)·d ≥ cos(max_turn_deg)·|q − t|``).

    Canny's non-maximum suppression breaks a boundary for a pixel or a few where it meets
    another (a T-junction of an occluder), and often leaves a 1-2 px hook at the broken end:
    on a Canny map of a photo, about a third of the free ends that gap bridging would leave
    have another line at most 3 px ahead. The target branch is cut at the point it is
    reached at, and the point becomes a junction of the two halves and the attached end, so
    the pairing at junctions then decides which of them continue each other: the straight
    pair goes through, the other stops there. A point within ``HOOK`` points of the target's
    own free end cuts off the hook beyond it (a spur of that junction, pruned afterwards),
    which joins two ends whose tips miss each other; the other branch's free tip itself
    joins the two ends at a junction half way between the tips; a point near a junction end
    of the target joins that junction. ``shape`` is the skeleton's ``(H, W)``. Ends are
    taken nearest first; an end, and the last ``HOOK`` points before it, take part in one
    attachment at most. The same branches come back when nothing is attached.
    """
    points, sizes, starts = branches.points, branches.sizes, branches.starts
    end_node = branches.nodes.ravel()
    long_open = ~branches.closed & (branches.lengths() >= min_length)
    ends = np.flatnonzero((end_node == 0) & np.repeat(long_open, 2))
    if reach <= 0 or len(ends) == 0:
        return branches
    tips = branches.end_points()[ends]
    heading = branches.end_directions()[ends]
    # Only skeleton points within reach of some end go into the search tree: those in the
    # cell of an end or next to it, on a grid of cells at least ``reach`` px wide.
    cell = int(np.floor(reach)) + 1
    h, w = shape
    columns = w // cell + 3
    grid = np.zeros((h // cell + 3) * columns, bool)
    tip_cell = (
        (tips[:, 1].astype(np.int64) // cell + 1) * columns
        + tips[:, 0].astype(np.int64) // cell
        + 1
    )
    around = np.array([dy * columns + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    grid[(tip_cell[:, None] + around[None, :]).ravel()] = True
    xy = points.astype(np.int64)
    near = np.flatnonzero(grid[(xy[:, 1] // cell + 1) * columns + xy[:, 0] // cell + 1])
    k = min(ATTACH_NEIGHBOURS, len(near))
    tree = cKDTree(points[near], balanced_tree=False, compact_nodes=False)  # built for one query
    _, hit = tree.query(tips, k=k, p=np.inf, distance_upper_bound=reach + 1e-9)
    hit = hit.reshape(len(ends), k)
    found = hit < len(near)
    target = near[np.where(found, hit, 0)]  # (E, k) point indices
    owner = np.searchsorted(starts, target, side="right") - 1
    local = target - starts[owner]
    step = points[target] - tips[:, None, :]
    span = np.hypot(step[..., 0], step[..., 1])
    ahead = (step * heading[:, None, :]).sum(-1) >= np.cos(np.deg2rad(max_turn_deg)) * span
    own_branch = ends // 2
    tip_local = np.where(ends % 2 == 0, 0, sizes[own_branch] - 1)
    # The end's own branch near its tip is not a target (it is always there); far along
    # it is (a curve running back into itself).
    own = (owner == own_branch[:, None]) & (np.abs(local - tip_local[:, None]) <= 3 * reach + HOOK)
    usable = found & ahead & ~own & (span > 0)
    score = np.where(usable, span, np.inf)
    best = np.argmin(score, axis=1)
    has = np.isfinite(score[np.arange(len(ends)), best])
    if not has.any():
        return branches
    source = ends[has]
    point_branch = owner[has, best[has]]
    point_at = local[has, best[has]]
    order = np.argsort(score[has, best[has]], kind="stable")
    # Which ends take part: Python over a few hundred integers, nearest first.
    nodes = branches.nodes.copy()
    closed = branches.closed.tolist()
    size = sizes.tolist()
    busy = [False] * len(end_node)
    cut_branch: list[int] = []
    cut_at: list[int] = []
    cut_source: list[int] = []
    link_centre: list[np.ndarray] = []
    index_of = {int(e): i for i, e in enumerate(ends.tolist())}
    for e, b, at in zip(
        source[order].tolist(),
        point_branch[order].tolist(),
        point_at[order].tolist(),
        strict=True,
    ):
        if busy[e]:
            continue
        head = not closed[b] and at <= HOOK
        tail = not closed[b] and size[b] - 1 - at <= HOOK
        if (head and busy[2 * b]) or (tail and busy[2 * b + 1]):
            continue
        busy[e] = True
        near_end = (2 * b if head else 2 * b + 1) if head or tail else -1
        if near_end >= 0 and end_node[near_end] > 0:
            nodes.flat[e] = end_node[near_end]  # the target ends at a junction: join it
            continue
        if near_end >= 0 and at == (0 if near_end % 2 == 0 else size[b] - 1):
            # The target is the other branch's free tip: both ends meet at a new junction
            # half way between their tips (nothing to cut off).
            busy[near_end] = True
            nodes.flat[e] = nodes.flat[near_end] = len(branches.centroids) + len(link_centre)
            link_centre.append(0.5 * (points[starts[b] + at] + tips[index_of[e]]))
            continue
        if head:
            busy[2 * b] = True
        if tail:
            busy[2 * b + 1] = True
        cut_branch.append(b)
        cut_at.append(at)
        cut_source.append(e)
    if link_centre:
        branches = replace(branches, centroids=np.vstack([branches.centroids, *link_centre]))
    if not cut_branch:
        return replace(branches, nodes=nodes)
    return _cut(branches, nodes, np.array(cut_branch), np.array(cut_at), np.array(cut_source))


def _cut(
    branches: _Branches,
    nodes: np.ndarray,
    cut_branch: np.ndarray,
    cut_at: np.ndarray,
    cut_source: np.ndarray,
) -> _Branches:
    """Cut branches at points (``cut_branch``, ``cut_at`` local index) that become new
    junctions, and give each ``cut_source`` end (``2·branch + end``) its cut's junction.

    Cuts of one branch at most two points apart are one junction (the points between go);
    the junction sits at the mean of its first and last point. An open branch cut ``m``
    times becomes ``m + 1`` pieces, a closed one ``m`` (the last wraps past its first
    point), each with the junctions at its two ends; empty pieces go. ``nodes`` ``(B, 2)``
    are the branches' junctions with the sources' ends not yet set.
    """
    points, sizes, starts = branches.points, branches.sizes, branches.starts
    order = np.lexsort((cut_at, cut_branch))
    cb, ca, cs = cut_branch[order], cut_at[order], cut_source[order]
    new_run = np.r_[True, (cb[1:] != cb[:-1]) | (ca[1:] - ca[:-1] > 2)]
    run = np.cumsum(new_run) - 1  # the junction of every cut
    first = np.flatnonzero(new_run)
    last = np.r_[first[1:], len(cb)] - 1
    jb, lo, hi = cb[first], ca[first], ca[last]
    junction = len(branches.centroids) + np.arange(len(first))
    centroids = np.vstack(
        [branches.centroids, 0.5 * (points[starts[jb] + lo] + points[starts[jb] + hi])]
    )
    nodes = nodes.copy()
    nodes.flat[cs] = junction[run]
    # Piece rows: every open branch's head piece, and one after every cut junction.
    is_open = ~branches.closed
    uncut_closed = branches.closed & (np.bincount(jb, minlength=len(sizes)) == 0)
    head_rows = np.flatnonzero(is_open | uncut_closed)
    row_branch = np.concatenate([head_rows, jb])
    row_start = np.concatenate([np.zeros(len(head_rows), np.int64), hi + 1])
    row_lo = np.concatenate([np.zeros(len(head_rows), np.int64), lo])  # where its cut began
    row_left = np.concatenate([np.where(is_open[head_rows], nodes[head_rows, 0], 0), junction])
    by = np.lexsort((row_start, row_branch))
    row_branch, row_start, row_lo, row_left = (
        row_branch[by],
        row_start[by],
        row_lo[by],
        row_left[by],
    )
    n = sizes[row_branch]
    same_next = np.r_[row_branch[1:] == row_branch[:-1], False]
    first_row = np.r_[True, row_branch[1:] != row_branch[:-1]]
    branch_first = np.flatnonzero(first_row)[np.cumsum(first_row) - 1]  # each row's first
    nxt = np.minimum(np.arange(len(row_branch)) + 1, len(row_branch) - 1)
    wrap = branches.closed[row_branch] & ~uncut_closed[row_branch]
    row_end = np.where(
        same_next,
        row_lo[nxt] - 1,
        np.where(wrap, row_lo[branch_first] - 1 + n, n - 1),
    )
    row_right = np.where(
        same_next,
        row_left[nxt],
        np.where(
            wrap, row_left[branch_first], np.where(is_open[row_branch], nodes[row_branch, 1], 0)
        ),
    )
    piece_size = row_end - row_start + 1
    keep = piece_size > 0
    row_branch, row_start, piece_size = row_branch[keep], row_start[keep], piece_size[keep]
    row_left, row_right = row_left[keep], row_right[keep]
    within = ragged.within(piece_size)
    owner = np.repeat(row_branch, piece_size)
    index = starts[owner] + (np.repeat(row_start, piece_size) + within) % sizes[owner]
    return _Branches(
        points[index],
        piece_size,
        uncut_closed[row_branch],
        np.column_stack([row_left, row_right]),
        centroids,
    )


class _Links:
    """Per end (``2·branch + end``): the partner end it continues into (−1: none) and the
    junction it goes through (0: a bridged gap), plus the junction an unpaired junction
    end reaches out to (its centre is added to the stroke; 0: none)."""

    def __init__(self, ends: int) -> None:
        self.partner = [-1] * ends
        self.via = [0] * ends
        self.cap = [0] * ends

    def join(self, a: int, b: int, via: int) -> None:
        self.partner[a], self.partner[b] = b, a
        self.via[a] = self.via[b] = via


HEADING_REACH = 3 * END_REACH  # points behind an end that give its heading at a crossing
INFLECTION = np.sin(np.deg2rad(8.0))  # a turn this large each way is an S, not a line


def _shared_overlaps(
    branches: _Branches, max_turn_deg: float, distance: np.ndarray | None
) -> tuple[_Branches, list[tuple[int, int, int]]]:
    """Lines that cross at a shallow angle run together for a stretch: their ink is one
    line there, and its skeleton is two forks (junctions of three branches) joined by one
    branch, the overlap. Paired at each fork alone, one line would take the overlap and the
    other stop at both forks, and which of the two fork arms takes it is a coin toss (both
    turn by half the crossing angle), so the one stroke left often bounces back.

    Here such an overlap is given to both lines, the second one running through a copy of
    it, when three things hold:

    * it is as long as a crossing makes it: lines ``w`` px wide crossing at ``θ`` share
      about ``w / sin(θ/2)`` px of ink, and up to twice that is taken (``w`` the arms' mean
      width from the ink's ``distance`` transform, :func:`width_from_distance`; ``θ`` the
      mean angle between the two arms of a fork, clear of it). Two thin edges that run
      together along an occluder's boundary share far more than that: a real shared
      boundary, left alone. Without ``distance`` no overlap is shared;
    * of the two ways to pair one fork's arms with the other's through it, the straighter
      (``d_a · d_b`` summed, the arms' headings over :data:`HEADING_REACH` points, so the
      bend thinning gives them next to the fork does not decide) turns every arm by at most
      ``max_turn_deg``;
    * no pair bends into an S: turning one way on its way in and the other on its way out
      by more than :data:`INFLECTION` (two round outlines that touch, which straight pairing
      would join across the contact).

    Returns the branches with the copies appended and the joins
    ``(end, end, junction)`` to make before any other pairing."""
    nodes = branches.nodes
    if distance is None:
        return branches, []
    degree = np.bincount(nodes.ravel(), minlength=len(branches.centroids))
    degree[0] = 0
    n0, n1 = nodes[:, 0], nodes[:, 1]
    overlap = np.flatnonzero(
        ~branches.closed & (n0 > 0) & (n1 > 0) & (n0 != n1) & (degree[n0] == 3) & (degree[n1] == 3)
    )
    if len(overlap) == 0:
        return branches, []
    heading = branches.end_directions(HEADING_REACH)
    bend, clear, far = _end_bends(branches)
    xy = np.rint(clear).astype(np.int64)
    width = width_from_distance(distance[xy[:, 1], xy[:, 0]])
    length = branches.lengths()
    straight = -np.cos(np.deg2rad(max_turn_deg))
    end_node = nodes.ravel()
    order = np.argsort(end_node, kind="stable")
    first = np.searchsorted(end_node[order], np.arange(len(degree)))
    used = np.zeros(len(degree), bool)
    joins: list[tuple[int, int, int]] = []
    copies: list[int] = []
    for b in overlap.tolist():
        j1, j2 = int(n0[b]), int(n1[b])
        if used[j1] or used[j2]:
            continue
        arms1 = [int(e) for e in order[first[j1] : first[j1] + 3] if e // 2 != b]
        arms2 = [int(e) for e in order[first[j2] : first[j2] + 3] if e // 2 != b]
        if len(arms1) != 2 or len(arms2) != 2:
            continue  # the overlap itself loops back into a fork
        a1, a2 = arms1
        arms = arms1 + arms2
        half_angle = 0.25 * (
            np.arccos(np.clip(far[a1] @ far[a2], -1, 1))
            + np.arccos(np.clip(far[arms2[0]] @ far[arms2[1]], -1, 1))
        )
        if length[b] > 2.0 * width[arms].mean() / max(np.sin(half_angle), 1e-3):
            continue
        options = ((arms2[0], arms2[1]), (arms2[1], arms2[0]))
        dots = [
            (float(heading[a1] @ heading[c1]), float(heading[a2] @ heading[c2]))
            for c1, c2 in options
        ]
        best = int(np.argmin([sum(d) for d in dots]))
        if max(dots[best]) > straight:
            continue
        # Along a → overlap → c the path turns one way on a and, run outwards, the other
        # way on c where it bends into an S: two round outlines that touch, not crossing.
        if any(
            bend[a] * bend[c] > 0 and min(abs(bend[a]), abs(bend[c])) > INFLECTION
            for a, c in zip(arms1, options[best], strict=True)
        ):
            continue
        used[j1] = used[j2] = True
        c1, c2 = options[best]
        copy = len(branches.sizes) + len(copies)
        copies.append(b)
        joins += [(a1, 2 * b, j1), (2 * b + 1, c1, j2), (a2, 2 * copy, j1), (2 * copy + 1, c2, j2)]
    if not copies:
        return branches, []
    copied = np.array(copies)
    rows = np.concatenate([np.arange(len(branches.points)), _branch_rows(branches, copied)])
    extended = _Branches(
        branches.points[rows],
        np.concatenate([branches.sizes, branches.sizes[copied]]),
        np.concatenate([branches.closed, branches.closed[copied]]),
        np.vstack([nodes, nodes[copied]]),
        branches.centroids,
    )
    return extended, joins


def _end_bends(branches: _Branches) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed turn, sine of the angle, of every end ``(2B,)`` between two stretches of
    :data:`HEADING_REACH` points behind it, the nearer one starting :data:`END_REACH`
    points from the tip (clear of the bend thinning gives a line next to a fork): the
    cross product of the farther stretch's direction with the nearer one's, both pointing
    out of the end (0 for branches too short to have both); the point between the two
    stretches ``(2B, 2)``, where the line is clear of the fork, and the farther stretch's
    unit direction ``(2B, 2)``."""
    near, middle, far = (
        branches.points_in(END_REACH),
        branches.points_in(END_REACH + HEADING_REACH),
        branches.points_in(END_REACH + 2 * HEADING_REACH),
    )
    d1, d2 = middle - far, near - middle
    n1, n2 = np.hypot(*d1.T), np.hypot(*d2.T)
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    enough = np.repeat(branches.sizes > END_REACH + 2 * HEADING_REACH, 2)
    bends: np.ndarray = np.where(enough, cross / np.maximum(n1 * n2, 1e-9), 0.0)
    return bends, middle, d1 / np.maximum(n1, 1e-9)[:, None]


def _branch_rows(branches: _Branches, which: np.ndarray) -> np.ndarray:
    """Point rows of branches ``which``, one after the other."""
    sizes = branches.sizes[which]
    rows: np.ndarray = np.repeat(branches.starts[which], sizes) + ragged.within(sizes)
    return rows


def _link_at_junctions(
    branches: _Branches,
    directions: np.ndarray,
    max_turn_deg: float,
    joins: list[tuple[int, int, int]] | None = None,
) -> _Links:
    """Pair branch ends meeting at a junction: ``joins`` first (``(end, end, junction)``);
    two ends at a junction continue each other; at a busier one, the straightest pairs
    (turn at most ``max_turn_deg``) are joined, straightest first."""
    end_node = branches.nodes.ravel()
    links = _Links(len(end_node))
    for a, b, via in joins or []:
        links.join(a, b, via)
    at_junction = np.flatnonzero(end_node > 0)
    at_junction = at_junction[np.argsort(end_node[at_junction], kind="stable")]
    node = end_node[at_junction]
    group_start = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
    group_size = np.diff(np.r_[group_start, len(node)])
    for g in group_start[group_size == 2].tolist():
        if links.partner[int(at_junction[g])] < 0:
            links.join(int(at_junction[g]), int(at_junction[g + 1]), int(node[g]))
    # Busy junctions: every pair of their ends, sorted by junction, then by straightness.
    pairs = []
    for size in np.unique(group_size[group_size >= 3]).tolist():
        iu, ju = np.triu_indices(size, 1)
        base = group_start[group_size == size][:, None]
        pairs.append(np.stack([at_junction[base + iu], at_junction[base + ju]], -1).reshape(-1, 2))
    if pairs:
        pair = np.concatenate(pairs)
        dots = (directions[pair[:, 0]] * directions[pair[:, 1]]).sum(1)
        straight = -np.cos(np.deg2rad(max_turn_deg))
        pair_node = end_node[pair[:, 0]]
        order = np.lexsort((dots, pair_node))
        order = order[dots[order] <= straight]  # pairs that turn too much stay apart
        for (a, b), n in zip(pair[order].tolist(), pair_node[order].tolist(), strict=True):
            if links.partner[a] < 0 and links.partner[b] < 0:
                links.join(a, b, n)
    for e in at_junction.tolist():
        if links.partner[e] < 0:  # the stroke stops at the junction: reach its centre
            links.cap[e] = int(end_node[e])
    return links


def _bridge_gaps(branches: _Branches, directions: np.ndarray, links: _Links, gap: float) -> None:
    """Link free ends closer than ``gap`` px that face each other (closest pairs first)."""
    if gap <= 0:
        return
    end_node = branches.nodes.ravel()
    open_end = np.repeat(~branches.closed, 2)
    free = np.flatnonzero((end_node == 0) & open_end & (np.array(links.partner) < 0))
    if len(free) < 2:
        return
    pos = branches.end_points()[free]
    # Chebyshev distance: a break of k missing pixels is k + 1 apart in every direction
    # (Euclidean would bridge a 2-px break along an axis but not along a diagonal).
    pairs = cKDTree(pos).query_pairs(gap, p=np.inf, output_type="ndarray")
    if len(pairs) == 0:
        return
    offset = pos[pairs[:, 1]] - pos[pairs[:, 0]]
    dist = np.hypot(*offset.T)
    step = offset / np.maximum(dist, 1e-12)[:, None]
    a_end, b_end = free[pairs[:, 0]], free[pairs[:, 1]]
    # The ends must point at each other, unless they (nearly) touch; across one missing
    # pixel (at most 2 px apart) it is enough that they do on average, as the last pixels
    # of a broken 1-px boundary often zigzag.
    a_faces = (directions[a_end] * step).sum(1)
    b_faces = (directions[b_end] * -step).sum(1)
    one_pixel = np.abs(offset).max(1) <= 2
    facing = (
        (dist <= 1.5)
        | ((a_faces >= 0.3) & (b_faces >= 0.3))
        | (one_pixel & (a_faces + b_faces >= 0.3))
    )
    # Don't curl a short dash into a ring.
    curl = (a_end // 2 == b_end // 2) & (branches.lengths()[a_end // 2] < 4 * gap)
    order = np.argsort(dist, kind="stable")
    usable = (facing & ~curl)[order]
    for a, b in zip(a_end[order][usable].tolist(), b_end[order][usable].tolist(), strict=True):
        if links.partner[a] < 0 and links.partner[b] < 0:
            links.join(a, b, 0)


def _walk(branches: _Branches, links: _Links) -> PathBatch:
    """Follow links from branch to branch; what comes back to its start is a closed loop.

    Each path is recorded as runs over a point table (the branch points, then the junction
    centroids): a branch forwards or backwards, or one centroid; all paths' points are
    gathered from the runs at once.
    """
    n_points = len(branches.points)
    starts = branches.starts.tolist()
    sizes = branches.sizes.tolist()
    closed_branch = branches.closed.tolist()
    partner, via, cap = links.partner, links.via, links.cap
    visited = [False] * len(sizes)
    run_start: list[int] = []
    run_size: list[int] = []
    run_step: list[int] = []
    path_runs: list[int] = []
    path_closed: list[bool] = []

    def point(node: int) -> None:
        run_start.append(n_points + node)
        run_size.append(1)
        run_step.append(1)

    def branch_run(i: int, forward: bool) -> None:
        head, tail = (2 * i, 2 * i + 1) if forward else (2 * i + 1, 2 * i)
        if cap[head]:
            point(cap[head])
        run_start.append(starts[i] if forward else starts[i] + sizes[i] - 1)
        run_size.append(sizes[i])
        run_step.append(1 if forward else -1)
        if cap[tail]:
            point(cap[tail])

    def walk(start: int, entry: int) -> None:
        first_run = len(run_start)
        i, e = start, entry
        closed = False
        while True:
            visited[i] = True
            branch_run(i, e == 0)
            out = 2 * i + 1 - e
            nxt = partner[out]
            if nxt < 0:
                break
            j, f = divmod(nxt, 2)
            if visited[j]:
                closed = (j, f) == (start, entry)
                if closed and via[out]:
                    point(via[out])
                break
            if via[out]:
                point(via[out])
            i, e = j, f
        path_runs.append(len(run_start) - first_run)
        path_closed.append(closed)

    for i in range(len(sizes)):
        if visited[i]:
            continue
        if closed_branch[i]:
            visited[i] = True
            branch_run(i, True)
            path_runs.append(1)
            path_closed.append(True)
            continue
        for e in (0, 1):
            if partner[2 * i + e] < 0:
                walk(i, e)
                break
    for i in range(len(sizes)):  # whatever is left is made of loops through links
        if not visited[i]:
            walk(i, 0)
    table = np.vstack([branches.points, branches.centroids])
    size = np.array(run_size, np.int64)
    within = ragged.within(size)
    step = np.array(run_step, np.int64)
    index = np.repeat(np.array(run_start, np.int64), size) + np.repeat(step, size) * within
    run_path = np.repeat(np.arange(len(path_runs)), path_runs)
    path_size = np.bincount(run_path, size, len(path_runs)).astype(np.int64)
    points = table[index]
    closed = np.array(path_closed, bool)
    # A loop that comes back onto its first point does not repeat it.
    last = np.cumsum(path_size) - 1
    first = last - path_size + 1
    repeat = closed & (path_size > 2) & (points[first] == points[last]).all(1)
    if repeat.any():
        keep = np.ones(len(points), bool)
        keep[last[repeat]] = False
        points, path_size = points[keep], path_size - repeat
    return PathBatch.from_flat(points, path_size, closed)


def trace_stroke_batch(
    skeleton: np.ndarray | PixelSet,
    spur_length: float = 6.0,
    gap: float = 3.0,
    max_turn_deg: float = 45.0,
    attach: float = 0.0,
    distance: np.ndarray | None = None,
) -> PathBatch:
    """Ordered stroke paths of a one-pixel skeleton (an ``(H, W)`` mask, or the pixels
    :func:`~talos.axis.geometry.skeleton.thin_pixels` gives), as one batch.

    ``spur_length`` (px): side branches shorter than this are pruned, and junctions joined by
    a branch shorter than this are one. ``gap`` (px): free ends at most this far apart (in x
    and in y) that face each other are joined. ``max_turn_deg``: at a junction of three or
    more branches, two are joined when one continues the other with a turn of at most this
    many degrees. ``attach`` (px): a free end of a branch at least ``spur_length`` long is
    joined to the line it runs into at most this far ahead (within ``max_turn_deg`` of its
    direction); 0 attaches nothing. ``distance`` (the ink's distance transform ``(H, W)``,
    :func:`~talos.axis.geometry.skeleton.ink_distance`): with it, lines that cross at a
    shallow angle, and so share a stretch of ink, both go through it (:func:`_shared_overlaps`).
    """
    sk = skeleton if isinstance(skeleton, PixelSet) else PixelSet.of(skeleton)
    if len(sk.pixels) == 0:
        return PathBatch.from_flat(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, bool))
    branches = _prune_spurs(_merge_junctions(_branches(sk), spur_length), spur_length)
    freed = _free_lonely_ends(branches)
    branches = _attach_ends(freed, sk.shape, attach, spur_length, max_turn_deg)
    if branches is not freed:  # attached ends: new junctions may be close, new spurs short
        branches = _prune_spurs(_merge_junctions(branches, spur_length), spur_length)
    branches, joins = _shared_overlaps(branches, max_turn_deg, distance)
    directions = branches.end_directions()
    links = _link_at_junctions(branches, directions, max_turn_deg, joins)
    _bridge_gaps(branches, directions, links, gap)
    return _walk(branches, links)


def trace_strokes(
    skeleton: np.ndarray | PixelSet,
    spur_length: float = 6.0,
    gap: float = 3.0,
    max_turn_deg: float = 45.0,
    attach: float = 0.0,
    distance: np.ndarray | None = None,
) -> list[StrokePath]:
    """:func:`trace_stroke_batch` as one :class:`StrokePath` per stroke."""
    batch = trace_stroke_batch(skeleton, spur_length, gap, max_turn_deg, attach, distance)
    return [
        StrokePath(points, closed)
        for points, closed in zip(
            batch.split(batch.points), batch.path_closed.tolist(), strict=True
        )
    ]


def extend_ends(batch: PathBatch, distance: np.ndarray, reach: int = 6) -> PathBatch:
    """Give back what thinning ate at open ends: walk on along each free end's direction
    while the ink lasts, and stop half the local line width short of its edge (so a round
    cap of that radius ends where the ink ends). ``distance`` is the ink's distance
    transform ``(H, W)`` (ink where it is > 0); ends that would grow by less than 1 px are
    left alone. All ends are probed at once."""
    h, w = distance.shape
    which = np.flatnonzero(~batch.path_closed & (batch.sizes >= 3))
    if len(which) == 0:
        return batch
    first = batch.starts[which]
    last = first + batch.sizes[which] - 1
    k = np.minimum(reach, batch.sizes[which] - 1)
    pts = batch.points
    tip = pts[np.column_stack([first, last]).ravel()]
    d = tip - pts[np.column_stack([first + k, last - k]).ravel()]
    norm = np.hypot(*d.T)
    unit = d / np.maximum(norm, 1e-9)[:, None]
    steps = np.arange(1, 4 * reach + 1) * 0.5  # px, in half-pixel steps
    probe = np.rint(tip[:, None, :] + steps[None, :, None] * unit[:, None, :]).astype(np.int64)
    x, y = probe[..., 0], probe[..., 1]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    on_ink = inside & (distance[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)] > 0)
    run = np.where(on_ink.all(1), len(steps), np.argmin(on_ink, axis=1)) * 0.5
    t = np.rint(tip).astype(np.int64)
    half = np.maximum(distance[np.clip(t[:, 1], 0, h - 1), np.clip(t[:, 0], 0, w - 1)] - 0.5, 0)
    grow = np.where(norm > 1e-9, run - half, 0.0)
    new_tip = tip + grow[:, None] * unit
    head, tail = grow[0::2] >= 1.0, grow[1::2] >= 1.0
    # Tails first: a tail and the next path's head go in at the same index, in this order.
    at = np.concatenate([last[tail] + 1, first[head]])
    added = np.concatenate([new_tip[1::2][tail], new_tip[0::2][head]])
    sizes = batch.sizes.copy()
    sizes[which] += head.astype(np.int64) + tail
    points = np.insert(pts, at, added, axis=0)
    return PathBatch.from_flat(points, sizes, batch.path_closed)

"""Re-cutting a frame's strokes along tracked lines, and re-joining the pieces of one line.

Steps 3 and 4 of :class:`~talos.axis.tracking.tracker.StrokeTracker`. A stroke's samples
carry claims (which tracked line each lies on, :mod:`~talos.axis.tracking.claims`); the
stroke is cut where its stretch of one line meets another line's (:func:`recut_stroke`),
unless the two are pieces of one line (:func:`merge_stretches`). Pieces of one line are then
joined where their ends meet over ink (:func:`rejoin`). What a track is (closed, how old,
where its ends are) is asked of the tracker through the :class:`Lines` protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from talos.axis.strokes import Stroke
from talos.axis.tracking.claims import UNCLAIMED, clean_labels, runs
from talos.axis.tracking.pieces import cut_stroke, join_strokes, reversed_stroke

SUPPORTED = 0.75  # share of a gap's length that must lie on ink for a join across it
TOUCHING_PX = 3.0  # ends this close join without looking at the ink

Stretch = tuple[int, int, int]  # (track, first sample, last sample + 1)
# Where a stroke passes from one established line's end into another's: the most it may
# turn there (over HEADING_SAMPLES samples each side) to be one line running on.
STRAIGHT_ON_DEG = 30.0
HEADING_SAMPLES = 3
# ... unless each side bends the other way by more than this over BEND_SAMPLES samples.
BEND_SAMPLES = 6
S_BEND_DEG = 3.0


@dataclass
class Piece:
    """A stroke of the output being assembled: its geometry, the track that claims it
    (:data:`~talos.axis.tracking.claims.UNCLAIMED` if none), how many of its ``size``
    samples that track claimed, the tracks it absorbed (merged), and whether it is a
    primitive (``atomic``: never cut or joined; ``source`` is its index among them)."""

    stroke: Stroke
    track: int
    claimed: int
    size: int
    absorbed: tuple[int, ...] = ()
    atomic: bool = False
    source: int = -1


class Lines(Protocol):
    """What re-cutting needs to know about the tracked lines (by track index)."""

    def at_end(self, track: int, position: int) -> bool:
        """Whether point ``position`` of the track's prediction is near an open end."""
        ...

    def anchor(self, track: int) -> int | None:
        """The id of the line the track is a piece of: the root it split from, or itself
        when established (None: a young track born on its own, maybe a piece of a
        neighbour)."""
        ...

    def is_root(self, track: int) -> bool:
        """Whether the track is an established line that no other split from: where its
        pieces join again, the joined line keeps its id."""
        ...

    def related(self, a: int, b: int) -> bool:
        """Whether tracks ``a`` and ``b`` are pieces of one line (same anchor)."""
        ...

    def share_along(self, track: int, points: np.ndarray) -> float:
        """The share of ``points`` ``(m, 2)`` that lie on the track's prediction."""
        ...

    def runs_on(self, a: int, b: int) -> bool:
        """This frame's stroke runs from the end of ``a`` on into ``b`` without a bend:
        whether it has done so in each of the last few frames (then ``a`` and ``b`` are
        one line, cut in two where it was first seen)."""
        ...


def primitive_piece(proxy: Stroke, claimed: np.ndarray, index: int) -> Piece:
    """A circle or triangle (as its outline ``proxy``): the track claiming over half of its
    samples, if one does."""
    labels = claimed[claimed != UNCLAIMED]
    track, count = UNCLAIMED, 0
    if len(labels):
        values, counts = np.unique(labels, return_counts=True)
        k = int(np.argmax(counts))
        if counts[k] * 2 > len(claimed):
            track, count = int(values[k]), int(counts[k])
    return Piece(proxy, track, count, len(claimed), atomic=True, source=index)


def merge_stretches(
    stretches: list[Stretch],
    claimed: np.ndarray,
    position: np.ndarray,
    points: np.ndarray,
    closed: bool,
    lines: Lines,
) -> tuple[list[Stretch], dict[int, set[int]]]:
    """Stretches relabelled where the stroke does not really pass between two lines.

    - A stretch between two stretches of one line (``X Y X``, or ``X Y Z`` with ``Z`` split
      from ``X``: :meth:`Lines.related`), shorter than those two together, whose samples
      (``points``) mostly lie on their prediction as well, is ``X``'s: ``Y`` crosses or
      runs along the line there (where the stroke leaves the line for a stretch of ``Y``
      elsewhere, it is cut).
    - Where the stretches of two pieces of one line meet (one split from the other), the
      stroke mended the break; where two lines' stretches meet at an end of both lines
      (``position``: the index of each sample's nearest predicted point), it may have. They
      merge into the established line they are pieces of (:meth:`Lines.is_root`), else the
      line with more of the stroke (then the older one) — as long as a merged group holds
      pieces of at most one established line (:meth:`Lines.anchor`).
      Two lines that each lived on their own are two lines where the vectorizer runs one
      into the other at a corner, and a chain of young pieces never joins them; but where
      it has run one straight on into the other, end to end, for a few frames running
      (:meth:`Lines.runs_on`), they are one line that was first seen in two pieces (an
      outline cut where another line met it), and they merge.

    Returns the stretches and ``{kept line: lines merged into it}``.
    """
    labels = [r[0] for r in stretches]
    lengths = [r[2] - r[1] for r in stretches]
    n = len(stretches)
    for k in range(n):
        before, after = k - 1, k + 1
        if not closed and (before < 0 or after >= n):
            continue
        before, after = before % n, after % n
        x, y, z = labels[before], labels[k], labels[after]
        if y in (x, z) or lengths[k] >= lengths[before] + lengths[after]:
            continue
        if x != z and not lines.related(x, z):
            continue
        inside = points[stretches[k][1] : stretches[k][2]]
        if max(lines.share_along(x, inside), lines.share_along(z, inside)) >= 0.5:
            labels[k] = x
    parent = {label: label for label in labels}
    anchors = {label: {lines.anchor(label)} - {None} for label in labels}

    def root(label: int) -> int:
        while parent[label] != label:
            label = parent[label]
        return label

    def may_join(ra: int, rb: int) -> bool:
        return len(anchors[ra] | anchors[rb]) <= 1

    def claims_of(k: int) -> np.ndarray:
        rows = slice(stretches[k][1], stretches[k][2])
        claims: np.ndarray = position[rows][claimed[rows] == labels[k]]
        return claims

    for k in range(n) if closed else range(1, n):
        a, b = (k - 1) % n, k
        if root(labels[a]) == root(labels[b]):
            continue
        a_pos, b_pos = claims_of(a), claims_of(b)
        ends_meet = (
            len(a_pos) > 0
            and len(b_pos) > 0
            and lines.at_end(labels[a], int(a_pos[-1]))
            and lines.at_end(labels[b], int(b_pos[0]))
        )
        if not (ends_meet or lines.related(labels[a], labels[b])):
            continue
        if may_join(root(labels[a]), root(labels[b])) or (
            ends_meet
            and _runs_straight(points, stretches[a], stretches[b], closed)
            and lines.runs_on(labels[a], labels[b])
        ):
            ra, rb = root(labels[a]), root(labels[b])
            parent[rb] = ra
            anchors[ra] |= anchors.pop(rb)
    total: dict[int, int] = {}
    for label, length in zip(labels, lengths, strict=True):
        total[label] = total.get(label, 0) + length
    groups: dict[int, list[int]] = {}
    for label in total:
        groups.setdefault(root(label), []).append(label)
    keeper: dict[int, int] = {}
    absorbed: dict[int, set[int]] = {}
    for members in groups.values():
        keep = max(members, key=lambda label: (lines.is_root(label), total[label], -label))
        absorbed[keep] = set(members) - {keep}
        keeper.update({label: keep for label in members})
    merged = [(keeper[label], r[1], r[2]) for label, r in zip(labels, stretches, strict=True)]
    return merged, {k: v for k, v in absorbed.items() if v}


def _runs_straight(points: np.ndarray, a: Stretch, b: Stretch, closed: bool) -> bool:
    """Whether the stroke runs straight on where stretch ``a`` gives way to stretch ``b``
    (their samples ``points`` ``(P, 2)``; on a ``closed`` stroke the samples wrap round):
    the headings over :data:`HEADING_SAMPLES` samples either side differ by at most
    :data:`STRAIGHT_ON_DEG`, and the two stretches do not bend opposite ways there (an S:
    the outlines of two round shapes that touch, each curving round its own body)."""
    if min(a[2] - a[1], b[2] - b[1]) <= HEADING_SAMPLES:
        return False
    end, start, reach, bend = a[2] - 1, b[1], HEADING_SAMPLES, BEND_SAMPLES
    rows = np.array(
        [
            [end - reach, end, start, start + reach],  # the headings either side
            [end - 2 * bend, end - bend, end, end],  # a's bend: far, middle, near
            [start, start + bend, start + 2 * bend, start + 2 * bend],  # b's bend
        ]
    )
    rows = rows % len(points) if closed else np.clip(rows, 0, len(points) - 1)
    p = points[rows]  # (3, 4, 2)
    u, v = p[0, 1] - p[0, 0], p[0, 3] - p[0, 2]
    norm = float(np.hypot(*u) * np.hypot(*v))
    if norm == 0 or float(u @ v) < np.cos(np.deg2rad(STRAIGHT_ON_DEG)) * norm:
        return False
    d1, d2 = p[1:, 1] - p[1:, 0], p[1:, 2] - p[1:, 1]
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    turns = cross / np.maximum(np.hypot(*d1.T) * np.hypot(*d2.T), 1e-9)
    s_bend = np.sin(np.deg2rad(S_BEND_DEG))
    return not (turns[0] * turns[1] < 0 and float(np.abs(turns).min()) > s_bend)


def recut_stroke(
    stroke: Stroke,
    claimed: np.ndarray,
    position: np.ndarray,
    points: np.ndarray,
    segment: np.ndarray,
    t: np.ndarray,
    min_run: int,
    lines: Lines,
) -> list[Piece]:
    """``stroke`` cut where it passes from one tracked line to another's.

    ``claimed``, ``position``, ``points``, ``segment`` and ``t`` are per sample of the
    stroke: its claims (:class:`~talos.axis.tracking.claims.Claims`) and where the sample
    is, in px and on the curve (:class:`~talos.axis.tracking.batch.StrokeSamples`). The
    claims are cleaned into stretches (:func:`~talos.axis.tracking.claims.clean_labels`),
    merged where they are one line (:func:`merge_stretches`), and the stroke is cut exactly
    at the first sample of each stretch; a closed stroke's stretch across its start stays
    one piece.
    """
    stretches = runs(clean_labels(claimed, min_run, stroke.closed))
    absorbed: dict[int, set[int]] = {}
    if len(stretches) > 1:
        merged, absorbed = merge_stretches(
            stretches, claimed, position, points, stroke.closed, lines
        )
        labels = np.concatenate([np.full(r[2] - r[1], r[0], np.int64) for r in merged])
        stretches = runs(labels)
    tracks = [int(r[0]) for r in stretches]
    if len(set(tracks)) <= 1:  # one line (or none) throughout
        track = tracks[0] if tracks else UNCLAIMED
        merged_in = tuple(sorted(absorbed.get(track, ())))
        return [Piece(stroke, track, int(np.sum(claimed == track)), len(claimed), merged_in)]
    starts = [(int(segment[s]), float(t[s])) for _, s, _ in stretches]
    spans = [[(a, b)] for _, a, b in stretches]  # the samples of each piece
    if not stroke.closed:
        cuts = starts[1:]
    elif tracks[0] == tracks[-1]:  # the stretch across the start is one piece
        cuts, tracks = starts[1:], tracks[:-1]
        spans = [spans[-1] + spans[0], *spans[1:-1]]
    else:  # cut_stroke gives the piece that ends at the start first
        cuts, tracks = starts, [tracks[-1], *tracks[:-1]]
        spans = [spans[-1], *spans[:-1]]
    out = []
    for piece, k, span in zip(cut_stroke(stroke, cuts), tracks, spans, strict=True):
        own = np.concatenate([claimed[a:b] for a, b in span])
        size = sum(b - a for a, b in span)
        out.append(Piece(piece, k, int(np.sum(own == k)), size, tuple(sorted(absorbed.get(k, ())))))
    return out


def bridge_supported(
    a: np.ndarray, b: np.ndarray, line_map: np.ndarray | None, widest: float
) -> bool:
    """Whether the straight gap from ``a`` to ``b`` (px) may be bridged: the ends are within
    :data:`TOUCHING_PX`, or the gap is at most ``widest`` px and ink of ``line_map``
    ``(H, W)`` lies within 1 px of at least :data:`SUPPORTED` of it."""
    gap = float(np.hypot(*(b - a)))
    if gap <= TOUCHING_PX:
        return True
    if gap > widest or line_map is None:
        return False
    n = max(2, int(np.ceil(gap)))
    pts = a + np.linspace(0.0, 1.0, n)[:, None] * (b - a)
    h, w = line_map.shape
    x = np.clip(np.rint(pts[:, 0]).astype(np.int64), 1, w - 2)
    y = np.clip(np.rint(pts[:, 1]).astype(np.int64), 1, h - 2)
    near = np.zeros(n, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= line_map[y + dy, x + dx] > 0
    return float(near.mean()) >= SUPPORTED


def rejoin(
    pieces: list[Piece],
    line_of: Callable[[int], int],
    supported: Callable[[int, int, np.ndarray, np.ndarray], bool],
    is_root: Callable[[int], bool] = lambda track: False,
) -> list[Piece]:
    """Pieces of one line joined end to end.

    Pieces belong to one line when ``line_of`` maps their tracks to the same value (a track,
    or the pieces split from one root). In each line the root's piece (``is_root``: the
    established line the others split from), else the largest piece, takes the others, in
    rounds until none joins, wherever ``supported(track, other track, a, b)`` allows the gap
    between the two nearest ends ``a`` and ``b``; a joined piece's track, if another, is
    absorbed (merged). Primitives and closed pieces stay as they are.
    """
    by_line: dict[int, list[int]] = {}
    for k, piece in enumerate(pieces):
        if piece.track != UNCLAIMED and not piece.atomic and not piece.stroke.closed:
            by_line.setdefault(line_of(piece.track), []).append(k)
    gone: set[int] = set()
    for members in by_line.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda k: (not is_root(pieces[k].track), -pieces[k].claimed))
        main, waiting = pieces[members[0]], members[1:]
        joined = True
        while joined and waiting:
            joined = False
            for k in list(waiting):
                other = pieces[k]
                ends = [
                    (float(np.hypot(*(p - q))), i, j)
                    for i, p in enumerate(main.stroke.control_points[[0, -1]].astype(float))
                    for j, q in enumerate(other.stroke.control_points[[0, -1]].astype(float))
                ]
                _, i, j = min(ends)
                first = main.stroke if i == 1 else reversed_stroke(main.stroke)
                second = other.stroke if j == 0 else reversed_stroke(other.stroke)
                end, start = first.control_points[-1], second.control_points[0]
                if not supported(main.track, other.track, end.astype(float), start.astype(float)):
                    continue
                taken = {other.track} - {main.track}
                main = Piece(
                    join_strokes(first, second),
                    main.track,
                    main.claimed + other.claimed,
                    main.size + other.size,
                    tuple(sorted({*main.absorbed, *other.absorbed, *taken})),
                )
                gone.add(k)
                waiting.remove(k)
                joined = True
        pieces[members[0]] = main
    return [p for k, p in enumerate(pieces) if k not in gone]

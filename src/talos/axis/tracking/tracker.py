"""StrokeTracker: give the same line the same ``stroke_id`` from frame to frame.

Identity is decided point by point along the lines, not stroke by stroke: the vectorizer
may join two lines into one stroke at a junction in one frame and not in the next, or break
a line in two, and an id must follow the line, not the vectorizer's cut. Per frame:

1. **Predict**: every live track's points (its line, sampled every ``sample_step_px`` along
   the curve) move with the optical flow from the previous frame, then by one translation
   that fits them to this frame's strokes (:func:`~talos.axis.tracking.claims.refine_offsets`,
   within ``gate_px``).
2. **Claim**: every sample of every stroke is claimed by the track whose nearest predicted
   point lies within ``claim_px`` (:func:`~talos.axis.tracking.claims.claim_points`).
   Along each stroke the claims are cleaned into stretches of one track each
   (:func:`~talos.axis.tracking.claims.clean_labels`: a crossing line's brief claim is
   dropped, unclaimed growth goes to its neighbour).
3. **Re-cut**: where a stroke passes from one track's stretch to another's, it is cut
   (exactly on the curve, :mod:`~talos.axis.tracking.pieces`) — unless both stretches end
   there at the ends of their lines, when the stroke joined two pieces of one line: then
   the tracks merge.
4. **Re-join**: pieces of one track whose ends are within ``stitch_px`` are joined, when the
   line map has ink along the gap (two lines crossing, or a one-frame break).
5. **Assign**: each track goes to its largest piece; other pieces of it are new tracks that
   it split into. A piece no track claims is compared with the dormant tracks
   (:mod:`~talos.axis.tracking.reid`), else it is born with a new id.
6. **Bookkeeping**: tracks not seen are kept for ``max_lost`` frames (moved with the flow),
   then go dormant; the track table (:mod:`~talos.axis.tracking.tracks`) records every
   track's frames, splits, merges and consistency.

Circles and triangles are tracked as whole *primitives*: they claim like strokes but are
never cut or joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from talos.axis.geometry import ragged
from talos.axis.geometry.sampling import sample_bilinear
from talos.axis.model import Stroke
from talos.axis.tracking.batch import mean_curvatures, sample_strokes, sample_strokes_at
from talos.axis.tracking.claims import (
    UNCLAIMED,
    claim_points,
    clean_labels,
    curve_normals,
    refine_offsets,
    runs,
)
from talos.axis.tracking.pieces import cut_stroke, join_strokes, reversed_stroke
from talos.axis.tracking.reid import DormantTracks
from talos.axis.tracking.tracks import Track, link, table_summary

__all__ = ["StrokeTracker", "delta_kappa", "table_summary", "resample_polyline", "warp_points"]

_MIN_RUN_PX = 12.0  # a track's claim on a stroke shorter than this is a crossing, not a line
_END_PX = 9.0  # a claim this close to a line's end is "at the end" of that line
_SUPPORTED = 0.75  # share of a gap's length that must lie on ink for a join across it
_TOUCHING_PX = 3.0  # ends this close join without looking at the ink
_YOUNG_FRAMES = 3  # a track seen this few frames may still be a piece of its neighbour


def resample_polyline(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` px of arc length along a polyline ``(n, 2)`` (ends kept)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 2:
        return points.copy()
    seg = np.hypot(*np.diff(points, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    if total <= step:
        return points[[0, -1]]
    t = np.linspace(0.0, total, int(np.ceil(total / step)) + 1)
    return np.column_stack([np.interp(t, s, points[:, 0]), np.interp(t, s, points[:, 1])])


def stroke_samples(stroke: Stroke, step: float) -> np.ndarray:
    """The stroke's curve sampled about every ``step`` px, ``(m, 2)``."""
    return sample_strokes([stroke], step)[0]


def warp_points(points: np.ndarray, flow: np.ndarray | None) -> np.ndarray:
    """Move ``(n, 2)`` points by the flow ``(H, W, 2)`` at their positions (bilinear)."""
    if flow is None or len(points) == 0:
        return points
    return points + sample_bilinear(flow, points).astype(np.float64)


@dataclass
class _Piece:
    """A stroke of the output being assembled: its geometry, the track that claims it
    (:data:`UNCLAIMED` if none), how many of its samples that track claimed, tracks it
    absorbed (merged), and whether it is a primitive (never cut or joined)."""

    stroke: Stroke
    track: int
    claimed: int
    size: int  # samples
    absorbed: tuple[int, ...] = ()
    atomic: bool = False
    source: int = -1  # index of the primitive it stands for


class StrokeTracker:
    """Stable ids for strokes across frames (see the module docstring for the method).

    ``gate_px``: the largest correction of a track's predicted position, px;
    ``claim_px``: how near a stroke point must be to a track's prediction to lie on it;
    ``max_lost``: frames an unseen track is kept live; ``sample_step_px``: spacing of the
    compared points; ``stitch_px``: the widest gap joined between pieces of one track;
    ``reid_frames``: frames a dormant track can be re-identified (0: never);
    ``reid_px``: how far a returning line may be from where its track predicted it.
    """

    def __init__(
        self,
        gate_px: float = 12.0,
        max_lost: int = 5,
        sample_step_px: float = 3.0,
        claim_px: float = 4.0,
        stitch_px: float = 12.0,
        reid_frames: int = 48,
        reid_px: float = 48.0,
    ) -> None:
        self.gate = float(gate_px)
        self.claim = min(float(claim_px), self.gate)
        self.max_lost = int(max_lost)
        self.step = float(sample_step_px)
        self.stitch = float(stitch_px)
        self.min_run = max(2, round(_MIN_RUN_PX / self.step))
        self.end_samples = max(1, round(_END_PX / self.step))
        self.tracks: list[Track] = []
        self.finished: list[Track] = []
        self.dormant = DormantTracks(reid_frames, radius=self.claim, reach=reid_px)
        self.next_id = 0

    # ----------------------------------------------------------------- public

    def table(self) -> list[dict[str, Any]]:
        """Every track so far (:meth:`Track.row`), by id."""
        every = (*self.finished, *self.dormant.tracks, *self.tracks)
        return sorted((t.row() for t in every), key=lambda r: r["stroke_id"])

    def cut(self) -> None:
        """The shot changed: every track ends here; later strokes get new ids (ids are never
        reused)."""
        self.finished.extend(self.tracks)
        self.finished.extend(self.dormant.clear())
        self.tracks = []

    def update(
        self,
        strokes: Sequence[Stroke],
        flow: np.ndarray | None,
        frame_index: int,
        frame_shape: tuple[int, int],
        line_map: np.ndarray | None = None,
        primitives: Sequence[Stroke] = (),
    ) -> list[Stroke]:
        """Track one frame.

        Returns the frame's strokes with their stable ids — re-cut and re-joined along the
        tracked lines, so there may be more or fewer than given — followed by
        ``primitives`` (closed Bézier stand-ins of circles and triangles) in their order,
        with theirs. ``line_map`` ``(H, W)`` (ink > 0) lets pieces be joined across gaps
        that have ink.
        """
        self._predict(flow)
        self.finished.extend(self.dormant.advance())
        predicted, track_of, track_start = self._prediction()
        samples = sample_strokes_at([*strokes, *primitives], self.step)
        if len(self.tracks):
            normals = curve_normals(samples.points, samples.owner)
            offsets = refine_offsets(
                predicted, track_of, len(self.tracks), samples.points, normals, self.gate
            )
            predicted = predicted + offsets[track_of]
        claims = claim_points(samples.points, predicted, track_of, track_start, self.claim)

        pieces: list[_Piece] = []
        bounds = np.cumsum(np.bincount(samples.owner, minlength=len(strokes) + len(primitives)))
        starts = np.concatenate([[0], bounds[:-1]])
        for j, stroke in enumerate([*strokes, *primitives]):
            rows = slice(int(starts[j]), int(bounds[j]))
            if j >= len(strokes):
                pieces.append(self._primitive_piece(stroke, claims.track[rows], j - len(strokes)))
            else:
                pieces += self._recut(
                    stroke,
                    claims.track[rows],
                    claims.position[rows],
                    samples.segment[rows],
                    samples.t[rows],
                )
        pieces = self._rejoin(pieces, line_map)
        return self._assign(pieces, frame_index, len(primitives))

    # ---------------------------------------------------------------- predict

    def _predict(self, flow: np.ndarray | None) -> None:
        if not self.tracks or flow is None:
            return
        before = np.concatenate([t.points for t in self.tracks])
        moved = warp_points(before, flow)
        sizes = [len(t.points) for t in self.tracks]
        for track, points, old in zip(
            self.tracks, ragged.split(moved, sizes), ragged.split(before, sizes), strict=True
        ):
            if track.lost == 0 and len(points):
                track.velocity = (points - old).mean(axis=0)
            track.points = points

    def _prediction(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.tracks:
            return np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64)
        sizes = np.array([len(t.points) for t in self.tracks], np.int64)
        track_of = np.repeat(np.arange(len(self.tracks)), sizes)
        return np.concatenate([t.points for t in self.tracks]), track_of, np.cumsum(sizes) - sizes

    # ----------------------------------------------------------------- re-cut

    def _primitive_piece(self, proxy: Stroke, claimed: np.ndarray, index: int) -> _Piece:
        """A circle or triangle: the track claiming most of its outline, if over half."""
        labels = claimed[claimed != UNCLAIMED]
        track, count = UNCLAIMED, 0
        if len(labels):
            values, counts = np.unique(labels, return_counts=True)
            k = int(np.argmax(counts))
            if counts[k] * 2 > len(claimed):
                track, count = int(values[k]), int(counts[k])
        return _Piece(proxy, track, count, len(claimed), atomic=True, source=index)

    def _at_end(self, track: int, position: int) -> bool:
        """Whether point ``position`` of ``track``'s prediction is near an end of an open
        line."""
        line = self.tracks[track]
        last = len(line.points) - 1
        return not line.closed and (
            position <= self.end_samples or position >= last - self.end_samples
        )

    def _recut(
        self,
        stroke: Stroke,
        claimed: np.ndarray,
        position: np.ndarray,
        segment: np.ndarray,
        t: np.ndarray,
    ) -> list[_Piece]:
        """``stroke`` cut where it passes from one track's line to another's (module step 3)."""
        labels = clean_labels(claimed, self.min_run, stroke.closed)
        stretches = runs(labels)
        if len(stretches) == 1 or (
            stroke.closed and len(stretches) == 2 and stretches[0][0] == stretches[-1][0]
        ):
            track = int(stretches[0][0]) if stretches else UNCLAIMED
            return [_Piece(stroke, track, int(np.sum(claimed == track)), len(claimed))]
        merged, absorbed = self._merge_stretches(stretches, claimed, position, stroke.closed)
        labels = np.concatenate([np.full(r[2] - r[1], r[0], np.int64) for r in merged])
        stretches = runs(labels)
        tracks = [int(r[0]) for r in stretches]
        if len(set(tracks)) == 1:  # all one line after the merges
            return [
                _Piece(
                    stroke,
                    tracks[0],
                    int(np.sum(claimed == tracks[0])),
                    len(claimed),
                    tuple(sorted(absorbed.get(tracks[0], ()))),
                )
            ]
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
            out.append(
                _Piece(piece, k, int(np.sum(own == k)), size, tuple(sorted(absorbed.get(k, ()))))
            )
        return out

    def _one_line(self, a: int, b: int) -> bool:
        """Whether tracks ``a`` and ``b``, whose ends a stroke joins, are pieces of one line:
        one split from the other, or one is only a few frames old (a break the vectorizer
        made and mended). Two lines that each lived on their own are two lines, even where
        the vectorizer runs one into the other at a junction."""
        x, y = self.tracks[a], self.tracks[b]
        if x.track_id in y.parents or y.track_id in x.parents:
            return True
        return min(x.length, y.length) <= _YOUNG_FRAMES

    def _merge_stretches(
        self,
        stretches: list[tuple[int, int, int]],
        claimed: np.ndarray,
        position: np.ndarray,
        closed: bool,
    ) -> tuple[list[tuple[int, int, int]], dict[int, set[int]]]:
        """Stretches relabelled where the stroke does not really pass between two lines.

        - A stretch between two stretches of one line (``X Y X``), shorter than those two
          together, is that line's: ``Y``'s prediction lies along ``X`` there.
        - Where two lines' stretches meet at an end of both lines and they are pieces of one
          line (:meth:`_one_line`), the stroke mended a break: they merge into the line with
          more of the stroke (then the older one). Returns the stretches and ``{kept line:
          lines merged into it}``.
        """
        labels = [r[0] for r in stretches]
        lengths = [r[2] - r[1] for r in stretches]
        n = len(stretches)
        for k in range(n):
            before, after = k - 1, k + 1
            if not closed and (before < 0 or after >= n):
                continue
            before, after = before % n, after % n
            if (
                labels[before] == labels[after] != labels[k]
                and lengths[k] < lengths[before] + lengths[after]
            ):
                labels[k] = labels[before]
        parent = {label: label for label in labels}

        def root(label: int) -> int:
            while parent[label] != label:
                label = parent[label]
            return label

        pairs = range(n) if closed else range(1, n)
        for k in pairs:
            a, b = (k - 1) % n, k
            if root(labels[a]) == root(labels[b]):
                continue
            a_pos = position[stretches[a][1] : stretches[a][2]]
            a_pos = a_pos[claimed[stretches[a][1] : stretches[a][2]] == labels[a]]
            b_pos = position[stretches[b][1] : stretches[b][2]]
            b_pos = b_pos[claimed[stretches[b][1] : stretches[b][2]] == labels[b]]
            if (
                len(a_pos)
                and len(b_pos)
                and self._at_end(labels[a], int(a_pos[-1]))
                and self._at_end(labels[b], int(b_pos[0]))
                and self._one_line(labels[a], labels[b])
            ):
                parent[root(labels[b])] = root(labels[a])
        total: dict[int, int] = {}
        for label, length in zip(labels, lengths, strict=True):
            total[label] = total.get(label, 0) + length
        groups: dict[int, list[int]] = {}
        for label in total:
            groups.setdefault(root(label), []).append(label)
        keeper: dict[int, int] = {}
        absorbed: dict[int, set[int]] = {}
        for members in groups.values():
            keep = max(members, key=lambda label: (total[label], -label))
            absorbed[keep] = set(members) - {keep}
            keeper.update({label: keep for label in members})
        merged = [(keeper[label], r[1], r[2]) for label, r in zip(labels, stretches, strict=True)]
        return merged, {k: v for k, v in absorbed.items() if v}

    # ---------------------------------------------------------------- re-join

    def _supported(self, a: np.ndarray, b: np.ndarray, line_map: np.ndarray | None) -> bool:
        """Whether the straight gap from ``a`` to ``b`` may be bridged: the ends touch, or
        ink (within 1 px) covers most of it."""
        gap = float(np.hypot(*(b - a)))
        if gap <= _TOUCHING_PX:
            return True
        if gap > self.stitch or line_map is None:
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
        return float(near.mean()) >= _SUPPORTED

    def _rejoin(self, pieces: list[_Piece], line_map: np.ndarray | None) -> list[_Piece]:
        """Pieces of one track joined where their ends meet (module step 4)."""
        by_track: dict[int, list[int]] = {}
        for k, piece in enumerate(pieces):
            if piece.track != UNCLAIMED and not piece.atomic and not piece.stroke.closed:
                by_track.setdefault(piece.track, []).append(k)
        gone: set[int] = set()
        for members in by_track.values():
            if len(members) < 2:
                continue
            members.sort(key=lambda k: -pieces[k].claimed)
            main = pieces[members[0]]
            for k in members[1:]:
                other = pieces[k]
                ends = [
                    (float(np.hypot(*(p - q))), i, j)
                    for i, p in enumerate(main.stroke.control_points[[0, -1]].astype(float))
                    for j, q in enumerate(other.stroke.control_points[[0, -1]].astype(float))
                ]
                _, i, j = min(ends)
                first = main.stroke if i == 1 else reversed_stroke(main.stroke)
                second = other.stroke if j == 0 else reversed_stroke(other.stroke)
                a = first.control_points[-1].astype(float)
                b = second.control_points[0].astype(float)
                if not self._supported(a, b, line_map):
                    continue
                main = _Piece(
                    join_strokes(first, second),
                    main.track,
                    main.claimed + other.claimed,
                    main.size + other.size,
                    tuple(sorted({*main.absorbed, *other.absorbed})),
                )
                gone.add(k)
            pieces[members[0]] = main
        return [p for k, p in enumerate(pieces) if k not in gone]

    # ----------------------------------------------------------------- assign

    def _holds(self, piece: _Piece) -> bool:
        """Whether a piece's claim makes it its track's line: at least half of the piece, or
        of the track's predicted line, lay on the other (a line may grow or shrink, not
        both at once; a line that only touches the prediction here and there is another)."""
        predicted = len(self.tracks[piece.track].points)
        return 2 * piece.claimed >= min(piece.size, predicted)

    def _new_track(self, samples: np.ndarray, closed: bool, frame: int) -> Track:
        track = Track(self.next_id, samples, closed, frame, frame)
        self.next_id += 1
        return track

    def _assign(self, pieces: list[_Piece], frame: int, n_primitives: int) -> list[Stroke]:
        """Ids for the pieces (module step 5) and the track bookkeeping (step 6)."""
        for k, piece in enumerate(pieces):
            if piece.track != UNCLAIMED and not self._holds(piece):
                pieces[k] = _Piece(
                    piece.stroke, UNCLAIMED, 0, piece.size, (), piece.atomic, piece.source
                )
        geometry = [p.stroke for p in pieces]
        points, owner = sample_strokes(geometry, self.step)
        piece_samples = ragged.split(points, np.bincount(owner, minlength=len(pieces)))
        winner: dict[int, int] = {}
        for k, piece in enumerate(pieces):
            if piece.track == UNCLAIMED:
                continue
            best = winner.get(piece.track)
            if best is None or piece.claimed > pieces[best].claimed:
                winner[piece.track] = k
        ids: list[int] = []
        live: list[Track] = []
        seen: set[int] = set()
        for k, piece in enumerate(pieces):
            samples = piece_samples[k]
            closed = piece.stroke.closed
            if piece.track != UNCLAIMED and winner[piece.track] == k:
                track = self.tracks[piece.track]
                predicted = max(len(track.points), len(samples), 1)
                track.seen(frame, samples, closed, min(1.0, piece.claimed / predicted))
                seen.add(piece.track)
            elif piece.track != UNCLAIMED:  # a smaller piece of a track: it split
                track = self._new_track(samples, closed, frame)
                link(self.tracks[piece.track], track)
                live.append(track)
            else:
                track = self.dormant.match(samples) if not piece.atomic else None
                if track is not None:
                    track.reidentified += 1
                    track.seen(frame, samples, closed, None)  # back after a gap: no score
                    live.append(track)
                else:
                    track = self._new_track(samples, closed, frame)
                    live.append(track)
            ids.append(track.track_id)
        merged = {t for p in pieces for t in p.absorbed} - seen
        for index, track in enumerate(self.tracks):
            if index in merged:
                keeper = next(p.track for p in pieces if index in p.absorbed)
                link(track, self.tracks[keeper])
                self.finished.append(track)
                continue
            if index not in seen:
                track.lost += 1
                if track.lost > self.max_lost:
                    if not self.dormant.add(track):
                        self.finished.append(track)
                    continue
            live.append(track)
        self.tracks = live
        strokes = [p.stroke.evolve(stroke_id=i) for p, i in zip(pieces, ids, strict=True)]
        body = [s for s, p in zip(strokes, pieces, strict=True) if not p.atomic]
        proxies = sorted(
            ((p.source, s) for s, p in zip(strokes, pieces, strict=True) if p.atomic),
            key=lambda item: item[0],
        )
        assert len(proxies) == n_primitives
        return [*body, *(s for _, s in proxies)]


def delta_kappa(
    previous: dict[int, float], strokes: Sequence[Stroke]
) -> tuple[float | None, dict[int, float]]:
    """Mean ``|κ(t+1) − κ(t)|`` over strokes whose id was also in the previous frame.

    ``κ`` is :attr:`Stroke.mean_curvature` (1/px). ``previous`` maps id → κ of the previous
    frame. Returns the mean (None when no id carried over) and this frame's map.
    """
    current = dict(
        zip((s.stroke_id for s in strokes), mean_curvatures(strokes).tolist(), strict=True)
    )
    diffs = [abs(k - previous[i]) for i, k in current.items() if i in previous]
    return (float(np.mean(diffs)) if diffs else None), current

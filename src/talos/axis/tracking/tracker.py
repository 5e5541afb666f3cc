"""StrokeTracker: give the same line the same ``stroke_id`` from frame to frame.

Identity is decided point by point along the lines, not stroke by stroke: the vectorizer
may join two lines into one stroke at a junction in one frame and not in the next, or break
a line in two, and an id must follow the line, not the vectorizer's cut. Per frame:

1. **Predict**: every live track's points (its line, sampled every ``sample_step_px`` along
   the curve) move with the optical flow from the previous frame, then by the translation
   that best lays them onto this frame's strokes (point-to-line ICP within ``gate_px``,
   :func:`~talos.axis.tracking.claims.refine_offsets`).
2. **Claim**: every sample of every stroke is claimed by the track whose nearest predicted
   point lies within ``claim_px`` (:func:`~talos.axis.tracking.claims.claim_points`).
   Along each stroke the claims are cleaned into stretches of one track each
   (:func:`~talos.axis.tracking.claims.clean_labels`: a crossing line's brief claim is
   dropped, unclaimed growth goes to its neighbour). A run of claims that lies on the
   stroke's main line throughout is the main line's: an occluder's outline that sweeps over
   a line it hides does not take that line's id.
3. **Re-cut**: where a stroke passes from one track's stretch to another's, it is cut
   exactly on the curve (:func:`~talos.axis.tracking.recut.recut_stroke`) — unless both
   stretches end there, at the ends of two pieces of one line (one split from the other,
   or one only a few frames old, or two lines the stroke has run straight on from one
   into the other for a few frames running): then the stroke mended a break, and the
   tracks merge. A loop has no ends, nor has a line whose ends nearly meet (a loop the
   vectorizer opened where another line touches it, and runs on into that line).
4. **Re-join**: pieces of one track whose ends are within ``stitch_px`` are joined, when the
   line map has ink along the gap (two lines crossing, or a one-frame break;
   :func:`~talos.axis.tracking.recut.rejoin`).
5. **Assign**: each track goes to its largest piece; other pieces of it are new tracks that
   it split into, unless one is a dormant line back (a line coming out from behind an
   occluder is first drawn as part of the occluder's outline, then breaks off it). A piece
   no track claims is compared with the live tracks this frame does not see (no piece, or
   only a scrap, on their prediction: a line not detected for a frame or two, or moved by
   a flow that followed an occluder), then with the dormant tracks, by the shape and look
   test of :mod:`~talos.axis.tracking.reid`; else it is born with a new id.
6. **Bookkeeping**: tracks not seen are kept for ``max_lost`` frames (moved with the flow),
   then go dormant; the track table (:mod:`~talos.axis.tracking.tracks`) records every
   track's frames, splits, merges and consistency.

Circles and triangles are tracked as whole *primitives*: they claim like strokes but are
never cut or joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from talos.axis.geometry import ragged
from talos.axis.geometry.sampling import polyline_lengths, warp_points
from talos.axis.geometry.similarity import apply_similarity, fit_similarity
from talos.axis.strokes import Stroke
from talos.axis.tracking.batch import mean_curvatures, sample_strokes, sample_strokes_at
from talos.axis.tracking.claims import (
    UNCLAIMED,
    claim_points,
    claim_range,
    curve_normals,
    refine_offsets,
)
from talos.axis.tracking.recut import (
    TOUCHING_PX,
    Piece,
    bridge_supported,
    primitive_piece,
    recut_stroke,
    rejoin,
)
from talos.axis.tracking.reid import DormantTracks, side_colours
from talos.axis.tracking.tracks import Track, link, table_summary

__all__ = ["StrokeTracker", "delta_kappa", "table_summary"]

_MIN_RUN_PX = 12.0  # a track's claim on a stroke shorter than this is a crossing, not a line
_END_PX = 9.0  # a claim this close to a line's end is "at the end" of that line
_YOUNG_FRAMES = 3  # a track seen this few frames may still be a piece of its neighbour
_MIN_COVER = 0.3  # least share of a track's predicted line a piece must cover to be it
# Frames running that a stroke must run one established line straight on into another for
# the two to merge (a coincidence of one frame's vectorizing is not a line).
_RUN_ON_FRAMES = 3
_RUN_ON_MOTION_PX = 0.2
# An open line whose ends lie this near each other, at least this many times as long, is a
# loop the vectorizer opened where another line touches it: it has no end to run on from.
_LOOP_GAP_PX = _END_PX
_LOOP_LENGTH_GAPS = 4.0


def _seen_again(
    track: Track,
    frame: int,
    samples: np.ndarray,
    closed: bool,
    look: np.ndarray | None,
    length: float,
) -> None:
    """``track``'s line is back in ``frame`` after a gap (re-identified): seen, with no
    consistency score, as there was no prediction of it to score."""
    track.reidentified += 1
    track.seen(frame, samples, closed, None, look, length)


def _loop(line: Track, step: float) -> bool:
    """Whether ``line`` (sampled every ``step`` px) is closed, or open with its ends nearly
    meeting."""
    if line.closed:
        return True
    gap = float(np.hypot(*(line.points[-1] - line.points[0])))
    return gap <= _LOOP_GAP_PX and len(line.points) * step >= _LOOP_LENGTH_GAPS * _LOOP_GAP_PX


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
        stitch_px: float = 36.0,
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
        self.finished: list[dict[str, Any]] = []  # rows of the tracks that ended
        self.dormant = DormantTracks(
            reid_frames, radius=self.claim, reach=reid_px, least_reach=self.gate
        )
        self.next_id = 0
        # This frame's corrected prediction, for share_along (per-track trees built on use).
        self._predicted = np.zeros((0, 2))
        self._track_start = np.zeros(0, np.int64)
        self._trees: dict[int, cKDTree] = {}
        # Pairs of track ids a stroke ran straight on from one into the other: for how many
        # frames running up to the last, and in this frame.
        self._run_on: dict[tuple[int, int], int] = {}
        self._run_on_now: set[tuple[int, int]] = set()
        # The flow's motion of the tracks' points into this frame, before and after, in the
        # rows of this frame's prediction (None without a flow).
        self._motion: tuple[np.ndarray, np.ndarray] | None = None

    # ----------------------------------------------------------------- public

    def table(self) -> list[dict[str, Any]]:
        """Every track so far (:meth:`Track.row`), by id."""
        rows = [*self.finished, *(t.row() for t in (*self.dormant.tracks, *self.tracks))]
        return sorted(rows, key=lambda r: r["stroke_id"])

    def cut(self) -> None:
        """The shot changed: every track ends here; later strokes get new ids (ids are never
        reused)."""
        self._finish([*self.tracks, *self.dormant.clear()])
        self.tracks = []
        self._run_on, self._run_on_now = {}, set()

    def _finish(self, tracks: Sequence[Track]) -> None:
        """These tracks end: only their table rows are kept (not their lines), so memory
        does not grow with the clip's length beyond a row per track."""
        self.finished.extend(t.row() for t in tracks)

    def update(
        self,
        strokes: Sequence[Stroke],
        flow: np.ndarray | None,
        frame_index: int,
        frame_shape: tuple[int, int],
        line_map: np.ndarray | None = None,
        primitives: Sequence[Stroke] = (),
        image: np.ndarray | None = None,
    ) -> list[Stroke]:
        """Track one frame.

        Returns the frame's strokes with their stable ids — re-cut and re-joined along the
        tracked lines, so there may be more or fewer than given — followed by
        ``primitives`` (closed Bézier stand-ins of circles and triangles) in their order,
        with theirs. ``line_map`` ``(H, W)`` (ink > 0) lets pieces be joined across gaps
        that have ink. ``frame_shape`` ``(H, W)`` is the frame's size (the matching works on
        points and needs no raster of it). ``image`` ``(H, W, 3)`` uint8 BGR, the frame: the
        colours either side of a line help to know it when it comes back (None: its shape
        alone).
        """
        self._predict(flow)
        self._finish(self.dormant.advance(frame_shape))
        self._run_on = {pair: self._run_on.get(pair, 0) + 1 for pair in self._run_on_now}
        self._run_on_now = set()
        predicted, track_of, track_start = self._prediction()
        samples = sample_strokes_at([*strokes, *primitives], self.step)
        if len(self.tracks):
            normals = curve_normals(samples.points, samples.owner)
            offsets = refine_offsets(
                predicted, track_of, len(self.tracks), samples.points, normals, self.gate
            )
            predicted = predicted + offsets[track_of]
        claims = claim_points(
            samples.points, predicted, track_of, track_start, self.claim, samples.owner
        )
        self._predicted, self._track_start, self._trees = predicted, track_start, {}

        pieces: list[Piece] = []
        bounds = np.cumsum(np.bincount(samples.owner, minlength=len(strokes) + len(primitives)))
        starts = np.concatenate([[0], bounds[:-1]])
        # Most strokes lie on one track (or none): they need no re-cut. Unclaimed samples
        # count as that one track (clean_labels would give them to it).
        lowest, highest = claim_range(claims.track, starts)
        for j, stroke in enumerate([*strokes, *primitives]):
            rows = slice(int(starts[j]), int(bounds[j]))
            if j >= len(strokes):
                pieces.append(primitive_piece(stroke, claims.track[rows], j - len(strokes)))
            elif lowest[j] >= highest[j]:  # one track, or none, along the whole stroke
                track = int(highest[j])
                count = int(np.count_nonzero(claims.track[rows] == track)) if track >= 0 else 0
                pieces.append(Piece(stroke, track, count, rows.stop - rows.start))
            else:
                pieces += recut_stroke(
                    stroke,
                    claims.track[rows],
                    claims.position[rows],
                    samples.points[rows],
                    samples.segment[rows],
                    samples.t[rows],
                    self.min_run,
                    self,
                )
        pieces = rejoin(
            pieces,
            lambda track: (lambda root: -1 - track if root is None else root)(self.anchor(track)),
            lambda track, other, a, b: self._bridgeable(track, other, a, b, line_map),
            self.is_root,
        )
        return self._assign(pieces, frame_index, len(primitives), image)

    # ---------------------------------------------------------------- predict

    def _predict(self, flow: np.ndarray | None) -> None:
        self._motion = None
        if not self.tracks or flow is None:
            return
        before = np.concatenate([t.points for t in self.tracks])
        moved = warp_points(before, flow)
        sizes = [len(t.points) for t in self.tracks]
        self._motion = (before, moved)
        for track, points, old in zip(
            self.tracks, ragged.split(moved, sizes), ragged.split(before, sizes), strict=True
        ):
            if track.lost == 0 and len(points):
                track.velocity = (points - old).mean(axis=0)
            track.points = points
            track.whole = track.whole + track.velocity  # at its velocity while lost

    def _prediction(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.tracks:
            return np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64)
        sizes = np.array([len(t.points) for t in self.tracks], np.int64)
        track_of = np.repeat(np.arange(len(self.tracks)), sizes)
        return np.concatenate([t.points for t in self.tracks]), track_of, np.cumsum(sizes) - sizes

    # ---------------------------------------------------- what re-cutting asks

    def at_end(self, track: int, position: int) -> bool:
        """Whether point ``position`` of ``track``'s prediction is near an end of an open
        line."""
        line = self.tracks[track]
        last = len(line.points) - 1
        return not _loop(line, self.step) and (
            position <= self.end_samples or position >= last - self.end_samples
        )

    def share_along(self, track: int, points: np.ndarray) -> float:
        """The share of ``points`` ``(m, 2)`` within ``claim_px`` of ``track``'s prediction
        (this frame's, after the ICP correction)."""
        if len(points) == 0:
            return 0.0
        tree = self._trees.get(track)
        if tree is None:
            start = int(self._track_start[track])
            stop = start + len(self.tracks[track].points)
            tree = self._trees[track] = cKDTree(self._predicted[start:stop])
        distance, _ = tree.query(points, distance_upper_bound=self.claim)
        return float(np.isfinite(distance).mean())

    def anchor(self, track: int) -> int | None:
        """The line ``track`` is a piece of, as an id: the root it split from (splits record
        the root, so it is one step), else its own id once it is established (seen for more
        than a few frames); None for a young track born on its own."""
        line = self.tracks[track]
        if line.split_from is not None:
            return line.split_from
        return line.track_id if line.length > _YOUNG_FRAMES else None

    def _bridgeable(
        self, track: int, other: int, a: np.ndarray, b: np.ndarray, line_map: np.ndarray | None
    ) -> bool:
        """Whether pieces of ``track`` and ``other`` (one line) may be joined across the gap
        from ``a`` to ``b``: ink along it (:func:`~talos.axis.tracking.recut.
        bridge_supported`), and the gap on the line's prediction (either track's), not a
        shortcut."""
        if not bridge_supported(a, b, line_map, self.stitch):
            return False
        gap = float(np.hypot(*(b - a)))
        if gap <= TOUCHING_PX:
            return True
        bridge = a + np.linspace(0.0, 1.0, max(2, int(np.ceil(gap / self.step))))[:, None] * (b - a)
        along = self.share_along(track, bridge)
        if other != track:
            along = max(along, self.share_along(other, bridge))
        return along >= 0.75

    def runs_on(self, a: int, b: int) -> bool:
        """Whether a stroke has run track ``a`` straight on into ``b`` (or ``b`` into
        ``a``) in this frame and each of the :data:`_RUN_ON_FRAMES` − 1 before (this
        frame's is recorded here), the two moving as one (:meth:`_move_together`: the
        outlines of two shapes that touch slide along each other)."""
        if not self._move_together(a, b):
            return False
        ids = self.tracks[a].track_id, self.tracks[b].track_id
        pair = (min(ids), max(ids))
        self._run_on_now.add(pair)
        return self._run_on.get(pair, 0) + 1 >= _RUN_ON_FRAMES

    def _move_together(self, a: int, b: int) -> bool:
        """Whether the flow moved tracks ``a`` and ``b`` from the last frame as one rigid
        shape: one similarity fits both lines' motion within :data:`_RUN_ON_MOTION_PX` (rms
        over their points) of how well one for each line fits it (true without a flow)."""
        if self._motion is None:
            return True
        before, moved = self._motion  # rows as in this frame's prediction (_track_start)
        sizes = [len(self.tracks[k].points) for k in (a, b)]
        both = np.r_[
            self._track_start[a] + np.arange(sizes[0]), self._track_start[b] + np.arange(sizes[1])
        ]
        group = np.repeat([0, 1], sizes)
        source, target = before[both], moved[both]

        def rms(groups: np.ndarray, n: int) -> float:
            scale_turn, shift = fit_similarity(source, target, groups, n)
            miss = apply_similarity(source, scale_turn[groups], shift[groups]) - target
            return float(np.sqrt((miss**2).sum(axis=1).mean()))

        return rms(np.zeros_like(group), 1) <= rms(group, 2) + _RUN_ON_MOTION_PX

    def is_root(self, track: int) -> bool:
        """Whether ``track`` is an established line that no other split from (its own
        :meth:`anchor`)."""
        line = self.tracks[track]
        return line.split_from is None and line.length > _YOUNG_FRAMES

    def related(self, a: int, b: int) -> bool:
        """Whether tracks ``a`` and ``b`` are pieces of one line (one split from the other,
        or both from the same root)."""
        x, y = self.anchor(a), self.anchor(b)
        return x is not None and x == y

    # ----------------------------------------------------------------- assign

    def _holds(self, piece: Piece) -> bool:
        """Whether a piece lies on its claiming track's line: at least half of the piece, or
        of the track's predicted line, lay on the other (a line may grow or shrink, not
        both at once; a line that only touches the prediction here and there is another)."""
        predicted = len(self.tracks[piece.track].points)
        return 2 * piece.claimed >= min(piece.size, predicted)

    def _is_the_line(self, piece: Piece) -> bool:
        """Whether a piece on a track is a sizeable part of its line: it covers at least
        :data:`_MIN_COVER` of the track's predicted line. Only such a piece takes the id
        (the largest) or splits from the line (the others). A scrap of a line that went
        missing this frame (or a small shape next to it) gets an id of its own, its track
        lists the line as parent, and the line stays lost until it is seen again, with its
        id."""
        return piece.claimed >= _MIN_COVER * len(self.tracks[piece.track].points)

    def _new_track(
        self, samples: np.ndarray, closed: bool, frame: int, look: np.ndarray | None
    ) -> Track:
        track = Track(self.next_id, samples, closed, frame, frame, whole_look=look)
        self.next_id += 1
        return track

    def _unclaimed_match(
        self,
        samples: np.ndarray,
        closed: bool,
        look: np.ndarray | None,
        taken: set[int],
    ) -> int | None:
        """The live track that a piece no track claimed continues, by the dormant tracks'
        test (:meth:`~talos.axis.tracking.reid.DormantTracks.best`): one that this frame
        does not see (no piece, or only a scrap, lies on its prediction): a line not
        detected for a frame or two, or moved by a flow that lost it (near an occluder the
        flow follows the occluder); not one ``taken`` (seen, merged, or found by a sizeable
        piece), however many frames it was seen: a small line (a pupil, whose prediction
        the ICP correction laid onto the eye's outline beside it) is lost, and found, from
        its first frames on. It may have moved as far as a dormant track, but no further
        than its own length (and ``gate_px``): a short line has no shape to tell it from its
        twin (the other pupil) a little further. Its index, or None."""
        free = [index for index, track in enumerate(self.tracks) if index not in taken]
        if not free:
            return None
        ages = [self.tracks[index].lost for index in free]
        best = self.dormant.best(
            [self.tracks[i] for i in free], ages, samples, closed, look, bounded=True
        )
        return free[best] if best >= 0 else None

    def _dormant_back(
        self,
        piece: Piece,
        frame: int,
        samples: np.ndarray,
        look: np.ndarray | None,
        length: float,
    ) -> Track | None:
        """The dormant line that ``piece`` (sampled at ``samples``) is, seen again in
        ``frame`` (taken out of the dormant pool), or None; primitives are never one."""
        if piece.atomic:
            return None
        closed = piece.stroke.closed
        track = self.dormant.match(samples, closed, look)
        if track is not None:
            _seen_again(track, frame, samples, closed, look, length)
        return track

    def _assign(
        self, pieces: list[Piece], frame: int, n_primitives: int, image: np.ndarray | None
    ) -> list[Stroke]:
        """Ids for the pieces (module step 5) and the track bookkeeping (step 6)."""
        for k, piece in enumerate(pieces):
            if piece.track != UNCLAIMED and not self._holds(piece):
                pieces[k] = Piece(
                    piece.stroke, UNCLAIMED, 0, piece.size, (), piece.atomic, piece.source
                )
        geometry = [p.stroke for p in pieces]
        points, owner = sample_strokes(geometry, self.step)
        counts = np.bincount(owner, minlength=len(pieces))
        piece_samples = ragged.split(points, counts)
        looks = None if image is None else ragged.split(side_colours(image, points, owner), counts)
        lengths = polyline_lengths(points, owner, len(pieces))
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
        absorbed = {t for p in pieces for t in p.absorbed}
        # The tracks this frame sees: those whose largest piece is a sizeable part of them.
        found = {t for t, k in winner.items() if self._is_the_line(pieces[k])}
        track: Track | None
        for k, piece in enumerate(pieces):
            samples = piece_samples[k]
            closed = piece.stroke.closed
            look = None if looks is None else looks[k]
            if piece.track in found and winner[piece.track] == k:
                track = self.tracks[piece.track]
                predicted = max(len(track.points), len(samples), 1)
                consistency = min(1.0, piece.claimed / predicted)
                track.seen(frame, samples, closed, consistency, look, float(lengths[k]))
                seen.add(piece.track)
            elif piece.track != UNCLAIMED:  # another piece of a track's line
                # A line coming out from behind what hid it is first drawn as part of
                # that outline, and breaks off it here: it may be a dormant line back.
                track = self._dormant_back(piece, frame, samples, look, float(lengths[k]))
                if track is None:
                    track = self._new_track(samples, closed, frame, look)
                    if self._is_the_line(piece):  # a sizeable piece: the line split
                        track.split_from = self.anchor(piece.track)
                    # (a scrap: only the graph records where it came from)
                    link(self.tracks[piece.track], track)
                live.append(track)
            else:
                if not piece.atomic:
                    index = self._unclaimed_match(samples, closed, look, seen | absorbed | found)
                    if index is not None:  # live, but its prediction lost the line
                        lost = self.tracks[index]
                        _seen_again(lost, frame, samples, closed, look, float(lengths[k]))
                        seen.add(index)  # the bookkeeping below keeps it live
                        ids.append(lost.track_id)
                        continue
                track = self._dormant_back(piece, frame, samples, look, float(lengths[k]))
                if track is None:
                    track = self._new_track(samples, closed, frame, look)
                live.append(track)
            ids.append(track.track_id)
        merged = absorbed - seen
        for index, track in enumerate(self.tracks):
            if index in merged:
                keeper = next(p.track for p in pieces if index in p.absorbed)
                link(track, self.tracks[keeper])
                self._finish([track])
                continue
            if index not in seen:
                track.lost += 1
                if track.lost > self.max_lost:
                    if not self.dormant.add(track):
                        self._finish([track])
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

"""A track as a moving shape: a transform keyed over time and a path in its own coordinates.

The engine's shape hold (:mod:`talos.axis.tracking.hold`) draws a line as exact similarity
copies of one shape for as long as that shape fits its evidence. Keying such a track's path
on every frame would store the same shape again and again; here it is split into

* a **transform** per frame, ``z ↦ A_f·z + B_f`` (complex: ``|A_f|`` the scale, ``arg A_f``
  the rotation, ``B_f`` the position), and
* a **local path** per frame, ``L_f = (shape_f − B_f) / A_f``,

so that the path keeps one value over every run of similarity copies and only the
transform moves. ``A_0 = 1`` and ``B_0`` is the first frame's centroid (the local path is
centred on the origin, where rotation and scale turn it about its middle). Each next frame's
transform is the previous one composed with the least-squares similarity from the previous
frame's shape to this one (vertex for vertex). Where that similarity does not fit within
:data:`FIT_PX` (a re-fitted line: new knots, a new shape) or scales by more than
:data:`MAX_SCALE_STEP`, the last good step is repeated instead (the motion goes on at the
same speed through a change of shape) and the local path takes the change.

Keys (:func:`motion_keys`): the local path is **held** from key to key (a new key only
where it moved more than half the tolerance since the last one: a re-fit is a new shape,
not a shape to blend towards); the transform is thinned by Ramer–Douglas–Peucker
(:func:`~talos.axis.export.resample.reduce_by`) one property at a time, judged on what a
player draws: position, rotation and scale each interpolated linearly between their keys,
applied to the held local path, within ``tolerance`` px of every frame's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from talos.axis.export.resample import TrackAnimation, held_keys, reduce_by
from talos.axis.geometry.similarity import apply_similarity, fit_similarity

RIGID_PX = 0.05  # px: a frame this near a similarity copy of the last one keeps its path
FIT_PX = 0.5  # px: a worse step similarity is a change of shape, not motion
MAX_SCALE_STEP = 0.1  # a larger scale change in one frame is a change of shape, not motion
STAGE_SHARES = (0.7, 0.85, 1.0)  # of the tolerance: position, rotation, scale thinned in turn


@dataclass(frozen=True)
class TrackMotion:
    """Per frame ``(F,)`` of a track: ``position`` ``(F, 2)`` px, ``rotation`` radians
    (unwrapped; screen coordinates, x right and y down, so positive turns x towards y:
    clockwise on screen, as Lottie's rotation), ``scale`` (1 = as traced); and the local
    path, ``vertices``, ``in_tangents``, ``out_tangents`` ``(F, K, 2)`` (tangents relative
    to their vertex, as in :class:`~talos.axis.export.resample.TrackAnimation`)."""

    frames: np.ndarray
    position: np.ndarray
    rotation: np.ndarray
    scale: np.ndarray
    vertices: np.ndarray
    in_tangents: np.ndarray
    out_tangents: np.ndarray

    def tangents_and_vertices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(in_tangents, out_tangents, vertices)``, Lottie's ``i``, ``o`` and ``v``."""
        return self.in_tangents, self.out_tangents, self.vertices

    def local_absolute(self) -> np.ndarray:
        """The local path's knots and absolute handles, ``(F, 3K, 2)``."""
        v = self.vertices
        return np.concatenate([v, v + self.in_tangents, v + self.out_tangents], axis=1)


def _complex(points: np.ndarray) -> np.ndarray:
    z: np.ndarray = points[..., 0] + 1j * points[..., 1]
    return z


def _points(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], axis=-1)


def step_similarities(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity from each frame's points to the next's, point for point,
    ``points`` ``(F, M, 2)``: ``a``, ``b`` ``(F − 1,)`` complex and the largest residual
    ``(F − 1,)`` px."""
    count, m = points.shape[:2]
    source = points[:-1].reshape(-1, 2)
    target = points[1:].reshape(-1, 2)
    group = np.repeat(np.arange(count - 1), m)
    a, b = fit_similarity(source, target, group, count - 1)
    moved = apply_similarity(source, a[group], b[group])
    residual = np.hypot(*(moved - target).T).reshape(count - 1, m).max(axis=1)
    return a, b, residual


def track_motion(track: TrackAnimation) -> TrackMotion:
    """The track as a transform and a local path (see the module docstring)."""
    absolute = track.absolute()
    z = _complex(absolute)
    count = len(z)
    big_a = np.ones(count, complex)
    big_b = np.full(count, z[0].mean())
    residual = np.full(max(count - 1, 0), np.inf)
    if count > 1:
        a_step, b_step, residual = step_similarities(absolute)
        step = (1.0 + 0j, 0j)
        for f in range(1, count):
            if residual[f - 1] <= FIT_PX and abs(abs(a_step[f - 1]) - 1.0) <= MAX_SCALE_STEP:
                step = (a_step[f - 1], b_step[f - 1])
            big_a[f] = step[0] * big_a[f - 1]
            big_b[f] = step[0] * big_b[f - 1] + step[1]
    local = (z - big_b[:, None]) / big_a[:, None]
    # A similarity copy keeps exactly the path it was copied from (no rounding drift).
    for copy in np.flatnonzero(residual <= RIGID_PX) + 1:
        local[copy] = local[copy - 1]
    k = track.knots
    v, i, o = local[:, :k], local[:, k : 2 * k], local[:, 2 * k :]
    return TrackMotion(
        frames=track.frames,
        position=_points(big_b),
        rotation=np.unwrap(np.angle(big_a)),
        scale=np.abs(big_a),
        vertices=_points(v),
        in_tangents=_points(i - v),
        out_tangents=_points(o - v),
    )


def motion_keys(
    track: TrackAnimation, motion: TrackMotion, tolerance: float
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Rows to key the local path at (held keys), and rows to key the transform's position,
    rotation and scale at (linear keys), so that what a player draws stays within
    ``tolerance`` px of every frame's shape (see the module docstring).

    The three transform properties are thinned one after the other, each judged with the
    ones before it interpolated from their keys and the ones after it exact, within
    :data:`STAGE_SHARES` of the tolerance: position first, which carries most motion."""
    frames = motion.frames
    scale_max = float(motion.scale.max()) if len(motion.scale) else 1.0
    local_all = motion.local_absolute()
    path_rows = held_keys(frames, local_all, 0.5 * tolerance / scale_max)
    held = np.searchsorted(path_rows, np.arange(len(frames)), side="right") - 1
    local = _complex(local_all[path_rows[held]])
    target = _complex(track.absolute())
    params = np.column_stack([motion.position, motion.rotation, motion.scale])
    drawn_params = params.copy()  # what a player uses: thinned properties interpolated
    columns = ([0, 1], [2], [3])
    rows: list[np.ndarray] = []
    for share, column in zip(STAGE_SHARES, columns, strict=True):

        def deviation(a: int, b: int, column: list[int] = column) -> np.ndarray:
            f = frames[a + 1 : b].astype(np.float64)
            w = ((f - frames[a]) / (frames[b] - frames[a]))[:, None]
            p = drawn_params[a + 1 : b].copy()
            p[:, column] = params[a, column] * (1 - w) + params[b, column] * w
            big_a = p[:, 3] * np.exp(1j * p[:, 2])
            drawn = big_a[:, None] * local[a + 1 : b] + (p[:, 0] + 1j * p[:, 1])[:, None]
            dev: np.ndarray = np.abs(drawn - target[a + 1 : b]).max(axis=1)
            return dev

        kept = reduce_by(frames, deviation, share * tolerance)
        for c in column:
            drawn_params[:, c] = np.interp(frames, frames[kept], params[kept, c])
        rows.append(kept)
    return path_rows, rows

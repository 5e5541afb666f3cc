"""What a traced frame is made of: strokes, circles and triangles (BRIEF §7).

Coordinates are pixels at the processing resolution, x to the right, y down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

import numpy as np

from talos.axis.geometry import ragged

DEFAULT_LAYER = "foreground"


@overload
def _frozen(array: np.ndarray, dtype: type = np.float32) -> np.ndarray: ...
@overload
def _frozen(array: None, dtype: type = np.float32) -> None: ...
@overload
def _frozen(array: np.ndarray | None, dtype: type = np.float32) -> np.ndarray | None: ...


def _frozen(array: np.ndarray | None, dtype: type = np.float32) -> np.ndarray | None:
    if array is None:
        return None
    if isinstance(array, np.ndarray) and array.dtype == dtype and not array.flags.writeable:
        # Already frozen: from the stroke this one evolves from, or from frozen_pieces.
        return array
    out: np.ndarray = np.array(array, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def frozen_pieces(values: np.ndarray, sizes: np.ndarray | Sequence[int]) -> list[np.ndarray]:
    """``values`` as read-only float32, cut into consecutive pieces of ``sizes`` rows (views):
    the arrays of a frame's strokes in one conversion (a :class:`Stroke` keeps them as they
    are instead of copying each)."""
    out = np.array(values, np.float32)
    out.setflags(write=False)
    return ragged.split(out, sizes)


@dataclass(frozen=True, eq=False)
class Stroke:
    """One editable line: a chain of cubic Bézier segments with per-knot pressure.

    ``control_points`` has shape ``(3n + 1, 2)`` for ``n`` segments: knots at indices
    ``0, 3, 6, ...`` and the two inner control points of each segment between them.
    ``pressure`` has shape ``(n + 1,)``, one value in [0, 1] per knot; the drawn width at a
    knot is ``width * pressure``. ``curvature`` (1/px, signed) and ``points_3d`` (world or
    camera coordinates, ``(n + 1, 3)``) are per knot too, when known.
    """

    stroke_id: int
    control_points: np.ndarray
    pressure: np.ndarray
    closed: bool = False
    layer: str = DEFAULT_LAYER
    style_class: str = "outline"
    width: float = 2.0
    curvature: np.ndarray | None = None
    curvature_mean: float | None = None
    points_3d: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cp = _frozen(self.control_points)
        if cp.ndim != 2 or cp.shape[1] != 2 or (cp.shape[0] - 1) % 3 != 0 or cp.shape[0] < 4:
            raise ValueError(f"control_points must have shape (3n+1, 2), got {cp.shape}")
        n_knots = (cp.shape[0] - 1) // 3 + 1
        pressure = _frozen(self.pressure)
        if pressure.shape != (n_knots,):
            raise ValueError(f"pressure must have shape ({n_knots},), got {pressure.shape}")
        object.__setattr__(self, "control_points", cp)
        object.__setattr__(self, "pressure", pressure)
        object.__setattr__(self, "curvature", _frozen(self.curvature))
        object.__setattr__(self, "points_3d", _frozen(self.points_3d))

    @property
    def segment_count(self) -> int:
        return (len(self.control_points) - 1) // 3

    @property
    def knots(self) -> np.ndarray:
        """On-curve points, shape ``(n + 1, 2)``."""
        return self.control_points[::3]

    @property
    def mean_curvature(self) -> float:
        """Mean ``|κ|`` in 1/px (``curvature_mean`` when known, else computed from the curve)."""
        if self.curvature_mean is not None:
            return float(self.curvature_mean)
        from talos.axis.geometry.bezier import mean_abs_curvature

        return mean_abs_curvature(self.control_points)

    def evolve(self, **changes: Any) -> Stroke:
        return replace(self, **changes)

    @classmethod
    def from_polyline(
        cls, points: np.ndarray, stroke_id: int, closed: bool = False, **kwargs: Any
    ) -> Stroke:
        """A polyline as a Bézier chain whose segments are straight (inner points at 1/3, 2/3)."""
        pts = np.asarray(points, dtype=np.float32)
        if closed and len(pts) > 2 and not np.array_equal(pts[0], pts[-1]):
            pts = np.vstack([pts, pts[:1]])
        a, b = pts[:-1], pts[1:]
        cp = np.empty((3 * len(a) + 1, 2), np.float32)
        cp[0::3][:-1] = a
        cp[1::3] = a + (b - a) / 3.0
        cp[2::3] = a + 2.0 * (b - a) / 3.0
        cp[-1] = b[-1]
        kwargs.setdefault("pressure", np.ones(len(pts), np.float32))
        return cls(stroke_id=stroke_id, control_points=cp, closed=closed, **kwargs)


@dataclass(frozen=True)
class Circle:
    """A detected circle primitive; ``center`` is ``(x, y)`` in px, ``radius`` in px."""

    center: tuple[float, float]
    radius: float
    layer: str = DEFAULT_LAYER
    stroke_id: int | None = None
    width: float = 2.0


@dataclass(frozen=True)
class Triangle:
    """A detected triangle primitive; ``vertices`` is three ``(x, y)`` points in px."""

    vertices: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    layer: str = DEFAULT_LAYER
    stroke_id: int | None = None
    width: float = 2.0


def triangle_vertices(
    points: Iterable[Iterable[float]],
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """Three ``(x, y)`` points as :attr:`Triangle.vertices` (floats; ValueError unless there
    are three points of two coordinates)."""
    a, b, c = ((float(x), float(y)) for x, y in points)
    return a, b, c

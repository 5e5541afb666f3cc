"""The immutable per-frame record that carries one frame's data through the steps.

Steps never mutate a :class:`FrameContext`; they build a new one with
:class:`FrameContextBuilder` (``ctx.builder().set(line_map=m).build()``). Arrays are made
read-only when a context is built, so a step cannot change a neighbour's data by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NoReturn

import numpy as np

from talos.axis.strokes import Circle, Stroke, Triangle


class FrozenDict(dict[str, Any]):
    """A read-only dict that still pickles (contexts cross process boundaries)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("FrameContext mappings are read-only; use FrameContextBuilder")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any]]]:
        return (FrozenDict, (dict(self),))


_EMPTY: Mapping[str, Any] = FrozenDict()


@dataclass(frozen=True, eq=False)
class FrameContext:
    """One frame on its way through the pipeline.

    Attributes:
        index: Position of the frame in the output sequence (0-based).
        time: Presentation time in seconds from the start of the source.
        source_index: Index of the frame among all decoded frames of the source.
        image: ``(H, W, 3)`` uint8 BGR frame at the processing resolution.
        line_map: ``(H, W)`` uint8, 255 where there is a line, 0 elsewhere.
        depth: ``(H, W)`` float32 depth (scene units), if a depth step ran.
        flow: ``(H, W, 2)`` float32 optical flow from the previous frame to this one, px.
        strokes, circles, triangles: the vector result.
        raster: ``(H, W)`` uint8 strokes rendered back to pixels (255 = ink), for scoring.
        metrics: per-frame quality figures (``ssim``, ``delta_kappa``, ...).
        counts: per-frame counts reported with step timings (``strokes``, ``points``, ...).
        artifacts: files to write for this frame, relative path → bytes.
        extras: anything else a step hands to a later one.
    """

    index: int
    time: float
    image: np.ndarray
    source_index: int = 0
    line_map: np.ndarray | None = None
    depth: np.ndarray | None = None
    flow: np.ndarray | None = None
    strokes: tuple[Stroke, ...] = ()
    circles: tuple[Circle, ...] = ()
    triangles: tuple[Triangle, ...] = ()
    raster: np.ndarray | None = None
    metrics: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    counts: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    artifacts: Mapping[str, bytes] = field(default_factory=lambda: _EMPTY)
    extras: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def builder(self) -> FrameContextBuilder:
        return FrameContextBuilder(self)


_FIELD_NAMES = frozenset(f.name for f in fields(FrameContext))
_MAPPINGS = ("metrics", "counts", "artifacts", "extras")


class FrameContextBuilder:
    """Collects changes to a :class:`FrameContext` and builds a new, frozen one."""

    def __init__(self, base: FrameContext | None = None, **initial: Any) -> None:
        self._base = base
        self._changes: dict[str, Any] = {}
        self._merged: dict[str, dict[str, Any]] = {}
        self.set(**initial)

    def set(self, **changes: Any) -> FrameContextBuilder:
        unknown = set(changes) - _FIELD_NAMES
        if unknown:
            raise TypeError(f"FrameContext has no field(s) {sorted(unknown)}")
        self._changes.update(changes)
        return self

    def _merge(self, name: str, values: Mapping[str, Any]) -> FrameContextBuilder:
        self._merged.setdefault(name, {}).update(values)
        return self

    def add_metrics(self, **values: float) -> FrameContextBuilder:
        return self._merge("metrics", {k: float(v) for k, v in values.items()})

    def add_counts(self, **values: int) -> FrameContextBuilder:
        return self._merge("counts", {k: int(v) for k, v in values.items()})

    def add_artifacts(self, files: Mapping[str, bytes]) -> FrameContextBuilder:
        return self._merge("artifacts", files)

    def add_extras(self, **values: Any) -> FrameContextBuilder:
        return self._merge("extras", values)

    def build(self) -> FrameContext:
        changes = dict(self._changes)
        for name in _MAPPINGS:
            current = changes.get(name, getattr(self._base, name) if self._base else _EMPTY)
            merged = {**current, **self._merged.get(name, {})}
            changes[name] = FrozenDict(merged)
        for name in ("strokes", "circles", "triangles"):
            if name in changes:
                changes[name] = tuple(changes[name])
        for name, value in changes.items():
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value = value.view()
                value.setflags(write=False)
                changes[name] = value
        if self._base is None:
            return FrameContext(**changes)
        return replace(self._base, **changes)

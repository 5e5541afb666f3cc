"""Strategy interfaces: each algorithm behind a step is one of these, chosen by name.

Implementations register themselves in the registry of their interface; Settings name them
(``edges.strategy: xdog``). A strategy is built from its own section of the settings (an edge
detector from :class:`~talos.config.EdgeSettings`, ...; see
:class:`~talos.axis.registry.StrategyRegistry`), so it can be made and tested without the rest.
Importing this package registers every built-in strategy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from talos.axis.registry import StrategyRegistry
from talos.axis.strokes import Circle, Stroke, Triangle


class EdgeDetector(ABC):
    """Image → line map. ``detect`` takes ``(H, W, 3)`` uint8 BGR and returns ``(H, W)`` uint8,
    255 on lines, 0 elsewhere."""

    @abstractmethod
    def detect(self, image: np.ndarray) -> np.ndarray: ...

    def detect_with_weak(
        self, image: np.ndarray, ratio: float
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The line map and the *weak* lines: ``(H, W)`` bool, the line candidates that pass
        ``ratio`` × the low threshold but that hysteresis did not keep (none drawn). A later
        step keeps those that continue last frame's lines (temporal hysteresis). None when
        the strategy has no such candidates."""
        return self.detect(image), None


class DepthEstimator(ABC):
    """Image → depth. ``estimate`` returns ``(H, W)`` float32 depth, larger = farther."""

    @abstractmethod
    def estimate(self, image: np.ndarray, frame_index: int) -> np.ndarray: ...


class FlowEstimator(ABC):
    """Two grayscale frames ``(H, W)`` uint8 → dense flow ``(H, W, 2)`` float32 in px, such that
    ``next[y + fy, x + fx] ≈ prev[y, x]``."""

    @abstractmethod
    def estimate(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class VectorResult:
    """What a vectorizer found in one line map."""

    strokes: tuple[Stroke, ...] = ()
    circles: tuple[Circle, ...] = ()
    triangles: tuple[Triangle, ...] = ()
    line_map: np.ndarray | None = None  # the cleaned map it traced, when it cleaned the input


class Vectorizer(ABC):
    """Line map ``(H, W)`` uint8 → strokes (ids are per frame; tracking makes them stable)."""

    @abstractmethod
    def vectorize(self, line_map: np.ndarray) -> VectorResult: ...


EDGE_DETECTORS: StrategyRegistry[EdgeDetector] = StrategyRegistry("edge strategy", "edges")
DEPTH_ESTIMATORS: StrategyRegistry[DepthEstimator] = StrategyRegistry("depth strategy", "depth")
FLOW_ESTIMATORS: StrategyRegistry[FlowEstimator] = StrategyRegistry("flow strategy", "flow")
VECTORIZERS: StrategyRegistry[Vectorizer] = StrategyRegistry("vectorize strategy", "vectorize")

from talos.axis.strategies import auto as _auto  # noqa: E402,F401
from talos.axis.strategies import centerline as _centerline  # noqa: E402,F401
from talos.axis.strategies import depth as _depth  # noqa: E402,F401
from talos.axis.strategies import edges as _edges  # noqa: E402,F401  (registers built-ins)
from talos.axis.strategies import flow as _flow  # noqa: E402,F401
from talos.axis.strategies import hed as _hed  # noqa: E402,F401
from talos.axis.strategies import onnx_edges as _onnx_edges  # noqa: E402,F401
from talos.axis.strategies import vectorize as _vectorize  # noqa: E402,F401

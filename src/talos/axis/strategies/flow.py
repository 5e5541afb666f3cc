"""Dense optical flow strategies: DIS (default), Farneback, and a learned ONNX model.

Every strategy returns ``(H, W, 2)`` float32 flow in px at the size of its inputs, such that
``next[y + fy, x + fx] ≈ prev[y, x]``. Flow may be estimated on frames downscaled to
``flow.max_width`` and scaled back up (vectors are multiplied by the same factor).
"""

from __future__ import annotations

import cv2
import numpy as np

from talos.axis.errors import StrategyError
from talos.axis.strategies import FLOW_ESTIMATORS, FlowEstimator
from talos.axis.strategies.onnx_model import OnnxModel
from talos.config import FlowSettings

MIN_SIDE = 16  # px; smaller frames get zero flow


def _check_pair(prev: np.ndarray, nxt: np.ndarray) -> None:
    if prev.shape != nxt.shape or prev.ndim != 2:
        raise StrategyError(
            f"flow needs two gray frames of one size, got {prev.shape} and {nxt.shape}"
        )


def dis_flow(dis: cv2.DISOpticalFlow, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """``dis.calc(prev, nxt, None)``: the flow from no initial estimate."""
    # OpenCV takes None for the in/out flow array; its stubs require an array.
    flow: np.ndarray = dis.calc(prev, nxt, None)  # type: ignore[call-overload]
    return flow


def resize_flow(flow: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(h, w, 2)`` flow → ``(height, width, 2)``, vectors scaled by the size ratio."""
    h, w = flow.shape[:2]
    if (h, w) == (height, width):
        return flow
    out = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= width / w
    out[..., 1] *= height / h
    return out


class _DownscaledFlow(FlowEstimator):
    """Estimate on frames at most ``max_width`` wide, return flow at the input size."""

    def __init__(self, max_width: int) -> None:
        self.max_width = max_width

    def _raw(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def estimate(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        _check_pair(prev, nxt)
        height, width = prev.shape
        if min(height, width) < MIN_SIDE:
            # Too small to hold a patch: no measurable motion (DIS needs 12 px).
            return np.zeros((height, width, 2), np.float32)
        if self.max_width and width > self.max_width:
            size = (
                max(self.max_width, MIN_SIDE),
                max(MIN_SIDE, round(height * self.max_width / width)),
            )
            prev = cv2.resize(prev, size, interpolation=cv2.INTER_AREA)
            nxt = cv2.resize(nxt, size, interpolation=cv2.INTER_AREA)
        prev, nxt = np.ascontiguousarray(prev), np.ascontiguousarray(nxt)
        return resize_flow(self._raw(prev, nxt), width, height)


@FLOW_ESTIMATORS.register("dis")
class DISFlow(_DownscaledFlow):
    """OpenCV's Dense Inverse Search (Kroeger et al. 2016) with variational refinement."""

    _PRESETS = {
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }

    def __init__(self, flow: FlowSettings) -> None:
        super().__init__(flow.max_width)
        self.dis = cv2.DISOpticalFlow.create(self._PRESETS[flow.dis_preset])

    def _raw(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        return dis_flow(self.dis, prev, nxt)


@FLOW_ESTIMATORS.register("farneback")
class FarnebackFlow(_DownscaledFlow):
    """Farnebäck's polynomial-expansion flow (3 pyramid levels, 15 px window)."""

    def __init__(self, flow: FlowSettings) -> None:
        super().__init__(flow.max_width)

    def _raw(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(prev, nxt, None, 0.5, 3, 15, 3, 5, 1.2, 0)


@FLOW_ESTIMATORS.register("onnx")
class OnnxFlow(FlowEstimator):
    """A learned flow model (RAFT-style) from ``flow.model_path``.

    Interface: two inputs ``(1, 3, H, W)`` float32 RGB in [0, 255] (previous, next); first
    output ``(1, 2, H, W)`` flow in px at the input size. A model with fixed ``H``/``W`` gets
    resized frames, and its flow is scaled back to the frame size.
    """

    def __init__(self, flow: FlowSettings) -> None:
        self.model = OnnxModel(flow.model_path, inputs=2, kind="flow model")

    def estimate(self, prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        _check_pair(prev, nxt)
        height, width = prev.shape
        blobs = [
            self.model.blob(np.repeat(image[:, :, None], 3, axis=2).astype(np.float32))
            for image in (prev, nxt)
        ]
        out = self.model.run(*blobs)
        if out.ndim != 4 or out.shape[:2] != (1, 2):
            raise StrategyError(f"flow model output has shape {out.shape}, expected (1, 2, H, W)")
        flow = np.ascontiguousarray(out[0].transpose(1, 2, 0))
        return resize_flow(flow, width, height)

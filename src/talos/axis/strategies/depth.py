"""Depth strategies: a constant plane (default), a supplied depth sequence, an ONNX model.

Every strategy returns ``(H, W)`` float32 depth in scene units, finite and > 0, larger =
farther, at the frame's size. :func:`check_depth` is the one gate every depth map passes:
NaN, infinities, zeros, negative values or a shape that does not fit the frame raise
:class:`DepthError` naming the file or source.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from talos.axis.errors import InputError
from talos.axis.strategies import DEPTH_ESTIMATORS, DepthEstimator
from talos.axis.strategies.onnx_model import OnnxModel, output_plane
from talos.config import DepthSettings

DEPTH_SUFFIXES = (".png", ".npy", ".exr")


class DepthError(InputError):
    """A depth map is unusable (bad values, wrong shape, unreadable, missing for a frame)."""


def check_depth(depth: np.ndarray, width: int, height: int, source: str) -> np.ndarray:
    """Validate a depth map and fit it to ``(height, width)``; return float32.

    A map of another size but the same aspect ratio (within 1 %) is resized (depth sensors and
    models often work at lower resolution); any other shape is an error.
    """
    depth = np.asarray(depth)
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2 or depth.size == 0:
        raise DepthError(f"depth from {source} has shape {depth.shape}, expected (H, W)")
    if not np.issubdtype(depth.dtype, np.number):
        raise DepthError(f"depth from {source} has non-numeric type {depth.dtype}")
    depth = depth.astype(np.float32, copy=False)
    if not np.isfinite(depth).all():
        bad = int((~np.isfinite(depth)).sum())
        raise DepthError(f"depth from {source} has {bad} NaN or infinite values")
    if (depth <= 0).any():
        bad = int((depth <= 0).sum())
        raise DepthError(f"depth from {source} has {bad} zero or negative values (need > 0)")
    h, w = depth.shape
    if (h, w) != (height, width):
        if abs(w / h - width / height) > 0.01 * (width / height):
            raise DepthError(
                f"depth from {source} is {w}x{h}, which does not fit frames of {width}x{height}"
            )
        depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_LINEAR)
    return depth


def read_depth_file(path: str | Path) -> np.ndarray:
    """One depth map from a 16-bit PNG, a ``.npy`` or an OpenEXR file (first channel), raw."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            loaded: np.ndarray = np.load(path, allow_pickle=False)
            return loaded
        if suffix == ".png":
            data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if data is None:
                raise DepthError(f"depth file {path} is not a readable PNG")
            if data.dtype != np.uint16:
                raise DepthError(f"depth PNG {path} is {data.dtype}, expected 16-bit gray")
            return data
        if suffix == ".exr":
            import OpenEXR

            with OpenEXR.File(str(path)) as exr:
                channels = exr.channels()
                name = next((c for c in ("Z", "Y", "R", "depth") if c in channels), None)
                name = name or next(iter(channels))
                return np.array(channels[name].pixels, dtype=np.float32)
    except DepthError:
        raise
    except Exception as exc:
        raise DepthError(f"cannot read depth file {path}: {exc}".splitlines()[0]) from None
    raise DepthError(f"depth file {path}: unsupported type (use {', '.join(DEPTH_SUFFIXES)})")


@DEPTH_ESTIMATORS.register("planar")
class PlanarDepth(DepthEstimator):
    """Every pixel at ``depth.planar_depth``: a flat card facing the camera."""

    def __init__(self, depth: DepthSettings) -> None:
        self.value = np.float32(depth.planar_depth)

    def estimate(self, image: np.ndarray, frame_index: int) -> np.ndarray:
        # A read-only broadcast: no H×W allocation per frame.
        return np.broadcast_to(self.value, image.shape[:2])


@DEPTH_ESTIMATORS.register("sequence")
class SequenceDepth(DepthEstimator):
    """Depth supplied with the footage, one map per decoded frame (``frame_index`` = the
    frame's index among all decoded frames of the source), times ``depth.scale``.

    ``depth.sequence_path`` is a folder of ``.png`` (16-bit), ``.npy`` or ``.exr`` files
    taken in name order, or one ``.npy`` file of shape ``(N, H, W)``.
    """

    def __init__(self, depth: DepthSettings) -> None:
        path = depth.sequence_path
        if path is None or not Path(path).exists():
            raise DepthError(f"depth.sequence_path not found: {path}")
        self.path = Path(path)
        self.scale = depth.scale
        if self.path.is_dir():
            self.files = sorted(
                p for p in self.path.iterdir() if p.suffix.lower() in DEPTH_SUFFIXES
            )
            if not self.files:
                raise DepthError(f"no depth files ({', '.join(DEPTH_SUFFIXES)}) in {self.path}")
        elif self.path.suffix.lower() == ".npy":
            self.files = []
        else:
            raise DepthError(f"depth.sequence_path {self.path}: expected a folder or an .npy file")

    @cached_property
    def _stack(self) -> np.ndarray:
        try:
            stack: np.ndarray = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except Exception as exc:
            raise DepthError(f"cannot read depth file {self.path}: {exc}".splitlines()[0]) from None
        if stack.ndim != 3:
            raise DepthError(f"depth stack {self.path} has shape {stack.shape}, expected (N, H, W)")
        return stack

    def estimate(self, image: np.ndarray, frame_index: int) -> np.ndarray:
        height, width = image.shape[:2]
        count = len(self.files) if self.files else len(self._stack)
        if not 0 <= frame_index < count:
            raise DepthError(f"no depth for frame {frame_index}: {self.path} holds {count} maps")
        if self.files:
            source = str(self.files[frame_index])
            raw = read_depth_file(self.files[frame_index])
        else:
            source = f"{self.path}[{frame_index}]"
            raw = np.asarray(self._stack[frame_index])
        depth = check_depth(raw, width, height, source)
        return depth * np.float32(self.scale) if self.scale != 1.0 else depth


@DEPTH_ESTIMATORS.register("onnx")
class OnnxDepth(DepthEstimator):
    """A monocular depth model (MiDaS-style) from ``depth.model_path``.

    Interface: one input ``(1, 3, H, W)`` float32 RGB, normalised with the ImageNet mean and
    std; first output one plane of *relative inverse depth* (larger = nearer, unknown scale
    and shift). The output is normalised to ``s ∈ [0, 1]`` over the frame and mapped to depth
    in ``[near, far]`` through inverse depth: ``1/D = 1/far + s·(1/near − 1/far)``.
    """

    MEAN = np.array([0.485, 0.456, 0.406], np.float32)
    STD = np.array([0.229, 0.224, 0.225], np.float32)

    def __init__(self, depth: DepthSettings) -> None:
        self.model = OnnxModel(depth.model_path, inputs=1, kind="depth model")
        self.near = depth.near
        self.far = depth.far

    def estimate(self, image: np.ndarray, frame_index: int) -> np.ndarray:
        height, width = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) * (1.0 / 255.0)
        blob = self.model.blob((rgb - self.MEAN) / self.STD)
        inverse = output_plane(self.model.run(blob), "depth model")
        if not np.isfinite(inverse).all():
            raise DepthError(f"depth model {self.model.path} produced NaN or infinite values")
        lo, hi = float(inverse.min()), float(inverse.max())
        s = (inverse - lo) / (hi - lo) if hi > lo else np.zeros_like(inverse)
        depth = 1.0 / (1.0 / self.far + s * (1.0 / self.near - 1.0 / self.far))
        return check_depth(depth, width, height, f"depth model {self.model.path}")

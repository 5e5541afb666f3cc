"""One way to load and run the learned models behind strategies: ONNX Runtime sessions.

A model that cannot be loaded (missing file, not ONNX, wrong inputs) raises
:class:`ModelLoadError` with a one-line message; services answer it with HTTP 503.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from talos.axis.errors import StrategyError


class ModelLoadError(StrategyError):
    """A configured model file could not be loaded or does not have the expected interface."""


class OnnxModel:
    """An ONNX Runtime session with the input layout AXIS strategies need.

    ``inputs`` is the number of image inputs the strategy feeds (1, or 2 for flow). Each image
    input must be 4-D ``(N, C, H, W)``; ``H``/``W`` may be fixed in the model (then images are
    resized to them) or dynamic (images are fed at their own size).
    """

    def __init__(self, path: str | Path | None, inputs: int = 1, kind: str = "model") -> None:
        if path is None:
            raise ModelLoadError(f"{kind}: no model_path configured")
        self.path = Path(path)
        self.kind = kind
        self.inputs = inputs
        self._load()

    def __getstate__(self) -> dict[str, Any]:
        # Sessions do not pickle; worker processes load the model again from its path.
        return {"path": self.path, "inputs": self.inputs, "kind": self.kind}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._load()

    def _load(self) -> None:
        kind, inputs = self.kind, self.inputs
        try:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3
            available = ort.get_available_providers()
            wanted = ("CUDAExecutionProvider", "CPUExecutionProvider")
            providers = [p for p in wanted if p in available]
            self.session = ort.InferenceSession(str(self.path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises several unrelated types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"{kind}: cannot load ONNX model {self.path}: {first}") from None
        model_inputs = self.session.get_inputs()
        if len(model_inputs) != inputs:
            raise ModelLoadError(
                f"{kind}: model {self.path} takes {len(model_inputs)} inputs, expected {inputs}"
            )
        for item in model_inputs:
            if len(item.shape) != 4:
                raise ModelLoadError(
                    f"{kind}: model input {item.name!r} has shape {item.shape}, "
                    "expected (N, C, H, W)"
                )
        self.input_names = [item.name for item in model_inputs]
        self.channels = _fixed(model_inputs[0].shape[1])
        self.fixed_size = _fixed_size(model_inputs[0].shape)

    def blob(self, image: np.ndarray) -> np.ndarray:
        """``(H, W, C)`` or ``(H, W)`` float32 image → ``(1, C, h, w)`` at the model's size."""
        if self.fixed_size is not None:
            h, w = self.fixed_size
            image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        if image.ndim == 2:
            image = image[:, :, None]
        return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)

    def run(self, *blobs: np.ndarray) -> np.ndarray:
        """The model's first output for the given input blobs."""
        feed: dict[str, Any] = dict(zip(self.input_names, blobs, strict=True))
        try:
            return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StrategyError(f"{self.kind}: model {self.path} failed: {first}") from None


def _fixed(dim: Any) -> int | None:
    return int(dim) if isinstance(dim, int) and dim > 0 else None


def _fixed_size(shape: list[Any]) -> tuple[int, int] | None:
    h, w = _fixed(shape[2]), _fixed(shape[3])
    return (h, w) if h is not None and w is not None else None


def output_plane(output: np.ndarray, kind: str) -> np.ndarray:
    """A model output ``(1, 1, h, w)``, ``(1, h, w)`` or ``(h, w)`` → ``(h, w)`` float32."""
    plane = np.squeeze(output)
    if plane.ndim != 2:
        raise StrategyError(f"{kind}: model output has shape {output.shape}, expected one plane")
    return plane.astype(np.float32, copy=False)

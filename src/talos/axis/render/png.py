"""A frame's strokes as a PNG image (the service's ``frames/{n}.png``)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from talos.axis.io.frames import circle_from_dict, stroke_from_dict, triangle_from_dict
from talos.axis.render.raster import render_frame


def frame_png(data: dict[str, Any]) -> bytes:
    """The frame drawn by the engine's raster renderer (variable width from pressure, the
    same pixels the ``score`` step measures), black on white, as PNG bytes."""
    ink = render_frame(
        int(data["width"]),
        int(data["height"]),
        [stroke_from_dict(item) for item in data.get("strokes", [])],
        [circle_from_dict(item) for item in data.get("circles", [])],
        [triangle_from_dict(item) for item in data.get("triangles", [])],
    )
    ok, encoded = cv2.imencode(".png", np.subtract(255, ink, dtype=np.uint8))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()

"""A "real footage" clip made from real photographs: a slow pan and zoom over images that
ship with scikit-image (no downloads). Used where a benchmark or test needs natural images
rather than the generated line shapes of :mod:`talos.axis.io.sample`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from talos.media import bgr_video_frame

PHOTOS = ("astronaut", "coffee", "chelsea", "camera")


def _photo(name: str) -> np.ndarray:
    """One of scikit-image's bundled photographs as ``(H, W, 3)`` uint8 BGR."""
    from skimage import data

    image: np.ndarray = getattr(data, name)()
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR)


def photo_frames(
    width: int, height: int, frames: int, photo: str = "astronaut"
) -> Iterator[np.ndarray]:
    """Frame ``i`` of the pan/zoom over ``photo``, as a generator of ``(height, width, 3)``."""
    source = _photo(photo)
    sh, sw = source.shape[:2]
    for i in range(frames):
        t = i / max(frames - 1, 1)
        zoom = 1.0 + 0.25 * t  # 25% closer by the end
        crop_w, crop_h = sw / zoom, sw / zoom * height / width
        crop_h = min(crop_h, sh / zoom)
        x0 = (sw - crop_w) * (0.2 + 0.6 * t)  # pan left to right
        y0 = (sh - crop_h) * 0.5
        # Affine map from the crop to the output frame (sub-pixel, so motion is smooth).
        sx, sy = width / crop_w, height / crop_h
        matrix = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
        yield cv2.warpAffine(source, matrix, (width, height), flags=cv2.INTER_CUBIC)


def generate_photo_clip(
    out_path: str | Path,
    width: int = 1920,
    height: int = 1080,
    frames: int = 24,
    fps: int = 24,
    photo: str = "astronaut",
) -> Path:
    """Write the pan/zoom clip over ``photo`` (one of :data:`PHOTOS`) to ``out_path``."""
    if photo not in PHOTOS:
        raise ValueError(f"photo must be one of {', '.join(PHOTOS)}")
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError("width and height must be even and at least 16")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast", "threads": "1", "bframes": "0"}
        for image in photo_frames(width, height, frames, photo):
            for packet in stream.encode(bgr_video_frame(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out

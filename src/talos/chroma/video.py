"""Encode rendered frames as an H.264 MP4 with PyAV, one frame at a time (flat memory)."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

from talos.media import bgr_video_frame


def encode_mp4(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    codec: str = "libx264",
    crf: int = 20,
) -> int:
    """Write BGR uint8 frames ``(H, W, 3)`` to ``path``; return the number of frames written.

    H.264 in yuv420p needs even sizes, so odd widths/heights are padded by one pixel
    (edge-replicated). The frame rate is kept as an exact fraction (``fps`` to 1/1000).
    """
    rate = Fraction(round(fps * 1000), 1000)
    count = 0
    with av.open(str(path), mode="w", format="mp4") as container:
        stream: VideoStream | None = None
        for image in frames:
            if stream is None:
                height, width = image.shape[:2]
                added = container.add_stream(codec, rate=rate)
                if not isinstance(added, VideoStream):
                    raise ValueError(f"{codec!r} is not a video codec")
                stream = added
                stream.width, stream.height = width + width % 2, height + height % 2
                stream.pix_fmt = "yuv420p"
                if codec == "libx264":
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
            pad_h, pad_w = stream.height - image.shape[0], stream.width - image.shape[1]
            if pad_h or pad_w:
                image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            frame = bgr_video_frame(image)
            container.mux(stream.encode(frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count

"""Video files as every module sees them: what a file's header says, and frames to encode.

PRISM probes a source video for its size, rate and length when it writes a cut spec; AXIS
reads the same facts when it opens a video to trace (:mod:`talos.axis.io.video` decodes the
frames). Only the container's header is read (PyAV).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from talos.errors import InputError


class MediaError(InputError):
    """A video file cannot be opened or says nothing usable about itself; one line naming it."""


@dataclass(frozen=True)
class VideoInfo:
    """What a source (a video, or a folder of images) says about itself: size in px, frames
    per second, ``frame_count`` and ``duration`` in s (None when unknown), the codec's name."""

    uri: str
    kind: str  # "video" or "images"
    width: int
    height: int
    fps: float
    frame_count: int | None
    duration: float | None
    codec: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The fields as a JSON-ready dict (``lines.json`` ``source``)."""
        return asdict(self)


def probe_video(path: str | Path) -> VideoInfo:
    """What the video file at ``path`` says about itself, from its header (no frame decoded).

    An unknown or non-finite frame rate reads as 24 fps; ``frame_count`` is the stream's count
    or, failing that, duration × fps. Raises :class:`MediaError` naming the file when it is
    missing, cannot be opened, has no video stream or no frame size.
    """
    path = Path(path)
    if not path.exists():
        raise MediaError(f"input not found: {path}")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaError(f"cannot open video {path}: {exc}") from None
    with container:
        if not container.streams.video:
            raise MediaError(f"no video stream in {path}")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if not ctx.width or not ctx.height:
            raise MediaError(f"video {path} has no frame size (corrupt header?)")
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        if not math.isfinite(fps) or fps <= 0:
            fps = 24.0
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        frame_count = stream.frames or (round(duration * fps) if duration else None)
        return VideoInfo(
            uri=str(path),
            kind="video",
            width=int(ctx.width),
            height=int(ctx.height),
            fps=fps,
            frame_count=int(frame_count) if frame_count else None,
            duration=duration,
            codec=ctx.name,
        )


def bgr_video_frame(image: np.ndarray) -> av.VideoFrame:
    """An ``(H, W, 3)`` uint8 BGR image as a yuv420p frame to encode (H.264 takes 4:2:0).

    The colour conversion is OpenCV's (BT.601, limited range, as FFmpeg's) rather than the
    one the encoder would run itself: FFmpeg's swscale gave BGR → yuv420p results that
    differed now and then within one process (seen on the generated clips, whose bytes must
    be the same for the same arguments). Odd sizes, which 4:2:0 cannot hold, go to PyAV as
    BGR.
    """
    height, width = image.shape[:2]
    if height % 2 or width % 2:
        return av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
    yuv: np.ndarray[Any, np.dtype[np.uint8]] = np.asarray(
        cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2YUV_I420), np.uint8
    )
    return av.VideoFrame.from_ndarray(yuv, format="yuv420p")

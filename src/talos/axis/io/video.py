"""Streaming frame sources: a video file (PyAV) or a folder of images, one frame at a time.

Nothing here holds more than the frame being handed out, so memory stays flat however long
the clip is. Every failure to read is an :class:`~talos.axis.errors.InputError` with a
one-line message that names the file and the problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from talos.axis.errors import InputError
from talos.axis.types import Frame
from talos.config import ProcessingSettings
from talos.media import MediaError, VideoInfo, probe_video

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


def output_size(width: int, height: int, processing: ProcessingSettings) -> tuple[int, int]:
    """Processing resolution ``(w, h)`` for a ``width × height`` source (aspect kept when one
    side is 0; both 0 keeps the source size)."""
    w, h = processing.width, processing.height
    if w and h:
        return w, h
    if w:
        return w, max(1, round(height * w / width))
    if h:
        return max(1, round(width * h / height)), h
    return width, height


class FrameSampler:
    """Decides which decoded frames to keep: ``start``/``end`` (s), every N-th, target fps,
    and at most ``max_frames``."""

    def __init__(self, processing: ProcessingSettings, source_fps: float) -> None:
        self.p = processing
        self.source_fps = source_fps
        self.out_fps = processing.fps if processing.fps > 0 else source_fps / processing.every
        self._next_time = processing.start
        self._seen = 0
        self.kept = 0

    def before_start(self, t: float) -> bool:
        return t + 1e-6 < self.p.start

    def past_end(self, t: float) -> bool:
        if self.p.max_frames and self.kept >= self.p.max_frames:
            return True
        return self.p.end is not None and t >= self.p.end - 1e-6

    def keep(self, t: float) -> bool:
        """Call once per decoded frame in [start, end) in order."""
        self._seen += 1
        if self.p.fps > 0:
            if t + 0.5 / self.source_fps < self._next_time:
                return False
            while self._next_time <= t + 0.5 / self.source_fps:
                self._next_time += 1.0 / self.p.fps
        elif (self._seen - 1) % self.p.every:
            return False
        self.kept += 1
        return True


class FrameSource:
    """Iterable of :class:`Frame` at the processing resolution; ``info`` describes the source.

    Opening checks that the input exists and is readable; iteration decodes lazily.
    """

    def __init__(self, path: str | Path, processing: ProcessingSettings) -> None:
        self.path = Path(path)
        self.processing = processing
        if not self.path.exists():
            raise InputError(f"input not found: {self.path}")
        if self.path.is_dir():
            self._images = sorted(
                p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not self._images:
                raise InputError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {self.path}")
            first = _read_image(self._images[0])
            fps = processing.sequence_fps
            self.info = VideoInfo(
                uri=str(self.path),
                kind="images",
                width=first.shape[1],
                height=first.shape[0],
                fps=fps,
                frame_count=len(self._images),
                duration=len(self._images) / fps,
            )
        else:
            self._images = []
            try:
                self.info = probe_video(self.path)
            except MediaError as exc:  # the engine's callers catch its own InputError
                raise InputError(str(exc)) from None
        self.width, self.height = output_size(self.info.width, self.info.height, processing)
        self.fps = processing.fps if processing.fps > 0 else self.info.fps / processing.every

    @property
    def expected_frames(self) -> int | None:
        """How many frames iteration will yield, from the source's frame count, the time range,
        the output rate and ``max_frames``; None when the source does not say."""
        info, p = self.info, self.processing
        if not info.frame_count:
            return None
        duration = info.frame_count / info.fps
        span = (min(p.end, duration) if p.end is not None else duration) - p.start
        n = max(0, round(span * self.fps))
        return min(n, p.max_frames) if p.max_frames else n

    def __iter__(self) -> Iterator[Frame]:
        frames = self._iter_images() if self._images else self._iter_video()
        count = 0
        for frame in frames:
            count += 1
            yield frame
        if count == 0:
            raise InputError(f"no frames to process in {self.path} (check start/end and the file)")

    def _resize(self, image: np.ndarray) -> np.ndarray:
        if image.shape[1] == self.width and image.shape[0] == self.height:
            return image
        shrinking = self.width < image.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(image, (self.width, self.height), interpolation=interpolation)

    def _iter_images(self) -> Iterator[Frame]:
        sampler = FrameSampler(self.processing, self.info.fps)
        for source_index, path in enumerate(self._images):
            t = source_index / self.info.fps
            if sampler.before_start(t):
                continue
            if sampler.past_end(t):
                return
            if sampler.keep(t):
                image = _read_image(path)
                yield Frame(sampler.kept - 1, t, self._resize(image), source_index)

    def _iter_video(self) -> Iterator[Frame]:
        sampler = FrameSampler(self.processing, self.info.fps)
        decoded = 0
        stopped_early = False
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                time_base = float(stream.time_base) if stream.time_base else None
                t0 = 0.0
                if time_base and stream.start_time is not None:
                    t0 = stream.start_time * time_base
                if self.processing.start > 0 and time_base:
                    target = int((self.processing.start + t0) / time_base)
                    container.seek(target, stream=stream)
                for frame in container.decode(stream):
                    source_index = decoded
                    decoded += 1
                    if frame.pts is not None and time_base:
                        t = frame.pts * time_base - t0
                    else:
                        t = source_index / self.info.fps
                    if sampler.before_start(t):
                        continue
                    if sampler.past_end(t):
                        stopped_early = True
                        break
                    if not sampler.keep(t):
                        continue
                    image = frame.to_ndarray(
                        format="bgr24",
                        width=self.width,
                        height=self.height,
                        interpolation="AREA" if self.width < self.info.width else "BILINEAR",
                    )
                    yield Frame(sampler.kept - 1, t, image, round(t * self.info.fps))
        except av.error.FFmpegError as exc:
            raise InputError(
                f"video {self.path} is corrupt or truncated after {decoded} frames: {exc}"
            ) from None
        expected = self.info.frame_count
        whole_file = self.processing.start == 0 and not stopped_early
        if whole_file and expected and decoded and decoded < expected - 1:
            raise InputError(
                f"video {self.path} is truncated: decoded {decoded} of {expected} frames"
            )


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read image {path}: not a readable image file")
    return image

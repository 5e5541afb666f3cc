"""The standard clip every benchmark runs on: 10 s of 1920×1080 at 24 fps (240 frames).

It is :func:`talos.axis.io.sample.generate_sample` with a fixed seed and shape count:
24 line shapes (three of each kind) moving, turning and breathing over a textured
background, with ground truth beside it. Encoding is single-threaded x264 with fixed
options, so the same package versions write the same bytes on every machine;
:func:`clip_sha256` lets a report say exactly which bytes it measured.

Shorter or longer "standard-style" clips (the CI gate's first 48 frames, the 60 s memory
check) are the same scene with another frame count: their first frames are the standard
clip's.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

from talos.axis.io.sample import generate_sample, ground_truth_path


@dataclass(frozen=True)
class ClipSpec:
    """Arguments of :func:`generate_sample` for one generated clip."""

    width: int
    height: int
    frames: int
    fps: int
    seed: int
    shapes: int

    def with_frames(self, frames: int) -> ClipSpec:
        """The same scene, ``frames`` long (a prefix of it, or a longer run of it)."""
        if frames < 1:
            raise ValueError("frames must be at least 1")
        return ClipSpec(self.width, self.height, frames, self.fps, self.seed, self.shapes)

    @property
    def file_name(self) -> str:
        return (
            f"standard-{self.width}x{self.height}-{self.frames}f-{self.fps}fps"
            f"-s{self.seed}-n{self.shapes}.mp4"
        )

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


STANDARD = ClipSpec(width=1920, height=1080, frames=240, fps=24, seed=2026, shapes=24)


def write_clip(path: str | Path, spec: ClipSpec = STANDARD) -> Path:
    """Write the clip of ``spec`` to ``path`` (and its ``.gt.json``); return the GT path."""
    return generate_sample(
        path, spec.width, spec.height, spec.frames, spec.seed, spec.fps, spec.shapes
    )


def cached_clip(folder: str | Path, spec: ClipSpec = STANDARD) -> Path:
    """The clip of ``spec`` in ``folder``, generated on first use (named after its spec)."""
    path = Path(folder) / spec.file_name
    if not path.is_file() or not ground_truth_path(path).is_file():
        write_clip(path, spec)
    return path


def clip_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

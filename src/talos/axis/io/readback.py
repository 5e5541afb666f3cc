"""A trace's output folder read back: its manifest checked (:func:`read_manifest`), the
source video it names (:func:`manifest_source`) and the source frames the trace saw, decoded
again at its processing size (:func:`decode_frames`).

Contact sheets and the temporal evaluation look at a finished trace through these; every
failure is an :class:`~talos.axis.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from talos.axis.errors import InputError
from talos.axis.io.manifest import MANIFEST_FILE
from talos.axis.io.video import FrameSource
from talos.config import Settings


def read_manifest(outdir: str | Path, allow_empty: bool = False) -> dict[str, Any]:
    """``OUTDIR/lines.json`` as a dict, or :class:`InputError` naming what is wrong (a
    manifest that lists no frames too, unless ``allow_empty``: the exporters write an empty
    animation for an empty shot)."""
    folder = Path(outdir)
    if not folder.is_dir():
        raise InputError(f"trace output folder not found: {folder}")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise InputError(f"{folder} has no {MANIFEST_FILE} (not an 'axis trace' output folder)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
        size = manifest["frame_size"]
        ok = int(size["width"]) > 0 and int(size["height"]) > 0
        ok = ok and isinstance(manifest["frames"], list) and isinstance(manifest["source"], dict)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not a readable trace manifest: {exc!r}") from None
    if not ok:
        raise InputError(f"{path} is not a trace manifest (frame_size, frames, source)")
    if not manifest["frames"] and not allow_empty:
        raise InputError(f"{path} lists no frames")
    return manifest


def read_frame(outdir: str | Path, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The frame file a manifest ``frames`` entry names (its ``path``, relative to
    ``outdir``), as a dict; :class:`InputError` naming the file when it is missing or
    unreadable."""
    path = Path(outdir) / str(entry.get("path", ""))
    try:
        data: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"frame file missing: {path}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read frame file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"frame file {path} is not a JSON object")
    return data


def manifest_source(outdir: str | Path) -> Path:
    """The traced video (or image folder) named in ``OUTDIR/lines.json``'s ``source.uri``."""
    uri = read_manifest(outdir)["source"].get("uri")
    if not uri:
        raise InputError(f"{Path(outdir) / MANIFEST_FILE} names no source; pass the video")
    return Path(str(uri).removeprefix("file://"))


def decode_frames(
    source: str | Path,
    manifest: Mapping[str, Any],
    times: Sequence[float],
    settings: Settings,
) -> list[np.ndarray]:
    """The source frames the trace saw at ``times`` (s, as in the manifest), each
    ``(H, W, 3)`` uint8 BGR at the manifest's ``frame_size``.

    Decodes with :class:`FrameSource` keeping every source frame between the first and last
    time (seeking to the first) and resized as the trace resized them; a frame matches a
    time within half a source frame interval. Raises :class:`InputError` when the source is
    missing, unreadable, of another size than the traced source, or lacks a frame.
    """
    path = Path(source)
    size = manifest["frame_size"]
    traced = manifest["source"]
    source_fps = float(traced.get("fps") or manifest.get("fps") or 24.0)
    half = 0.5 / source_fps
    processing = settings.processing.model_copy(
        update={
            "width": int(size["width"]),
            "height": int(size["height"]),
            "every": 1,
            "fps": 0.0,
            "start": max(0.0, min(times) - half),
            "end": max(times) + half,
            "max_frames": 0,
            "sequence_fps": source_fps,
        }
    )
    frames = FrameSource(path, processing)
    expected = (traced.get("width"), traced.get("height"))
    if None not in expected and (frames.info.width, frames.info.height) != expected:
        raise InputError(
            f"{path} is {frames.info.width}x{frames.info.height}, but the trace read a "
            f"{expected[0]}x{expected[1]} source ({traced.get('uri')}); pass the traced video"
        )
    found: list[np.ndarray | None] = [None] * len(times)
    wanted = np.asarray(times, np.float64)
    for frame in frames:
        for i in np.flatnonzero(np.abs(wanted - frame.time) <= half + 1e-6):
            if found[i] is None:
                found[i] = frame.image
        if all(image is not None for image in found):
            break
    missing = [t for t, image in zip(times, found, strict=True) if image is None]
    if missing:
        raise InputError(f"{path} has no frame at t = {missing[0]:.3f} s (is it the traced video?)")
    return [image for image in found if image is not None]

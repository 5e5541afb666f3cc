"""One CHROMA job: read ``lines.json`` and its frames by URL, render each frame in a style
profile, write ``/{job_id}/chroma/frames/NNNNNN.png``, ``video.mp4`` and ``chroma.json``.

A request for some ``frames`` only (use case 3, re-render an edited frame) writes just those
PNGs and no video; its output URL is the first PNG's. Otherwise the output URL is the MP4's.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from talos.axis.errors import InputError
from talos.axis.validation import validate
from talos.chroma.profiles import StyleProfile, load_profile, parse_profile
from talos.chroma.render import render_frame
from talos.chroma.video import encode_mp4
from talos.config import Settings
from talos.store import Store
from talos.web.inputs import check_url, fetch

MANIFEST_LIMIT = 64 << 20  # bytes: lines.json and frame files are small JSON


def resolve_profile(
    settings: Settings, style: str | None, style_profile_url: str | None
) -> StyleProfile:
    """The profile named by URL, else by name, else ``chroma.default_style``."""
    if style_profile_url:
        data = _read_url(style_profile_url, settings, "style_profile_url")
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"style_profile_url: not valid JSON: {exc}") from None
        return parse_profile(document, "style_profile_url")
    return load_profile(style or settings.chroma.default_style, settings.chroma.profiles_dir)


def _read_url(url: str, settings: Settings, field: str) -> bytes:
    checked = check_url(url, settings, field)
    with tempfile.TemporaryDirectory(prefix="chroma-") as tmp:
        return fetch(checked, Path(tmp) / "input", settings, MANIFEST_LIMIT, field).read_bytes()


def _read_json(url: str, settings: Settings, field: str) -> Any:
    try:
        return json.loads(_read_url(url, settings, field))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{field}: {url} is not valid JSON: {exc}") from None


def _png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 BGR image
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()


def colorize(
    job_id: str,
    lines_data_url: str,
    profile: StyleProfile,
    settings: Settings,
    store: Store,
    frames: Sequence[int] | None = None,
) -> str:
    """Run one job; return the output URL (the MP4, or the first PNG when ``frames`` given)."""
    manifest = _read_json(lines_data_url, settings, "lines_data_url")
    validate("lines", manifest, "lines_data_url")
    entries = manifest["frames"]
    if frames is not None:
        by_index = {e["index"]: e for e in entries}
        missing = sorted(set(frames) - set(by_index))
        if missing:
            raise InputError(f"frames: not in lines.json: {missing[:5]}")
        entries = [by_index[i] for i in sorted(set(frames))]
    if not entries:
        raise InputError("lines_data_url: lines.json lists no frames")
    layers = [layer["name"] for layer in sorted(manifest["layers"], key=lambda x: x["order"])]
    base = lines_data_url.rsplit("/", 1)[0]
    prefix = f"{job_id}/chroma"
    written: list[dict[str, Any]] = []

    def rendered() -> Iterator[np.ndarray]:
        for entry in entries:
            frame = _read_json(f"{base}/{entry['path']}", settings, "lines_data_url")
            validate("frame", frame, entry["path"])
            image = render_frame(frame, profile, layers)
            key = f"{prefix}/frames/{entry['index']:06d}.png"
            written.append({"index": entry["index"], "png": store.put_bytes(key, _png(image))})
            yield image

    result: dict[str, Any] = {
        "format": "talos.chroma.render",
        "job_id": job_id,
        "lines_data_url": lines_data_url,
        "style": profile.name,
        "profile": profile.model_dump(),
        "fps": manifest["fps"],
    }
    if frames is None:
        with tempfile.TemporaryDirectory(prefix="chroma-") as tmp:
            local = Path(tmp) / "video.mp4"
            encode_mp4(rendered(), local, manifest["fps"], settings.chroma.codec,
                       settings.chroma.crf)  # fmt: skip
            result["video"] = output = store.put_file(f"{prefix}/video.mp4", local)
    else:
        for _ in rendered():
            pass
        output = written[0]["png"]
    result["frames"] = written
    store.put_bytes(f"{prefix}/chroma.json", json.dumps(result, indent=1).encode())
    return output

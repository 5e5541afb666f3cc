"""A deterministic, rule-based director: prompt (+ source video facts) → cut_spec dict.

Rules, in order of precedence: explicit numbers in the prompt ("4 seconds", "30 fps"), then
the source video's facts, then the defaults from :class:`~talos.config.PrismSettings`.
The camera move is the first motion word found (pan, tilt, zoom, dolly, orbit, static and
their synonyms); its direction comes from left/right/up/down/in/out. The camera path is a
world→camera pose per frame (``x_cam = R·X + t``) with an ease-in-out profile over the shot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from talos.config import PrismSettings
from talos.contracts.camera import default_intrinsics

CUT_SPEC_VERSION = "1.0"
DIRECTOR_NAME = "talos.prism.rules/1"

# Synonyms → motion; the first word found in the prompt wins.
MOTION_WORDS: dict[str, str] = {
    "static": "static", "still": "static", "locked": "static", "fixed": "static",
    "pan": "pan", "panning": "pan", "pans": "pan", "sweep": "pan", "tracking": "pan",
    "tilt": "tilt", "tilting": "tilt", "tilts": "tilt",
    "zoom": "zoom", "zooming": "zoom", "zooms": "zoom", "push": "zoom",
    "dolly": "dolly", "dollies": "dolly", "fly": "dolly", "flythrough": "dolly",
    "orbit": "orbit", "orbiting": "orbit", "orbits": "orbit", "circle": "orbit",
    "around": "orbit", "rotate": "orbit", "rotating": "orbit",
}  # fmt: skip
DIRECTION_WORDS = ("left", "right", "up", "down", "in", "out", "clockwise", "counterclockwise")
DEFAULT_DIRECTION = {
    "pan": "right",
    "tilt": "up",
    "zoom": "in",
    "dolly": "in",
    "orbit": "clockwise",
}
# Layer words → layer name; layers are emitted back to front in LAYER_ORDER.
LAYER_WORDS: dict[str, str] = {
    "sky": "background", "skyline": "background", "city": "background",
    "landscape": "background", "mountains": "background", "background": "background",
    "room": "background", "forest": "background", "sea": "background", "ocean": "background",
    "street": "midground", "buildings": "midground", "trees": "midground", "midground": "midground",
    "character": "foreground", "person": "foreground", "man": "foreground", "woman": "foreground",
    "cat": "foreground", "dog": "foreground", "robot": "foreground", "car": "foreground",
    "hero": "foreground", "foreground": "foreground", "bird": "foreground", "ball": "foreground",
    "shapes": "foreground",
}  # fmt: skip
LAYER_ORDER = ("background", "midground", "foreground")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:fps|frames per second)\b")
_STYLE = re.compile(r"\b(?:in|with)\s+(?:an?\s+|the\s+)?([a-z0-9_-]+)\s+style\b")
_WORD = re.compile(r"[a-z]+")


def _words(prompt: str) -> list[str]:
    return _WORD.findall(prompt.lower())


def detect_motion(prompt: str) -> tuple[str, str | None]:
    """``(motion, direction)`` from the prompt; ``("static", None)`` when no motion word."""
    words = _words(prompt)
    motion = next((MOTION_WORDS[w] for w in words if w in MOTION_WORDS), "static")
    if motion == "static":
        return motion, None
    direction = next((w for w in words if w in DIRECTION_WORDS), DEFAULT_DIRECTION[motion])
    return motion, direction


def detect_layers(prompt: str) -> list[str]:
    """Layer names back to front; ``["background", "foreground"]`` when none are named."""
    found = {LAYER_WORDS[w] for w in _words(prompt) if w in LAYER_WORDS}
    found |= {"background", "foreground"}
    return [name for name in LAYER_ORDER if name in found]


def _rotation_y(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rotation_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def camera_path(
    motion: str, direction: str | None, frames: int, amount: float, depth: float
) -> list[dict[str, Any]]:
    """World→camera poses for ``frames`` frames.

    ``amount`` scales the move: the pan/tilt angle in degrees, the orbit angle in degrees,
    the dolly distance as a fraction of ``depth`` (scene distance, world units), and the
    zoom's focal-length gain (``focal_scale`` goes 1 → 1 + amount/100). Progress follows
    the smoothstep ease ``s(u) = 3u² − 2u³`` for ``u ∈ [0, 1]``.
    """
    u = np.linspace(0.0, 1.0, frames) if frames > 1 else np.zeros(1)
    ease = 3 * u**2 - 2 * u**3
    sign = -1.0 if direction in ("left", "up", "out", "counterclockwise") else 1.0
    poses = []
    for index, s in enumerate(ease):
        rot, t, focal = np.eye(3), np.zeros(3), 1.0
        if motion == "pan":
            rot = _rotation_y(sign * math.radians(amount) * s)
        elif motion == "tilt":
            rot = _rotation_x(sign * math.radians(amount) * s)
        elif motion == "zoom":
            focal = 1.0 + sign * (amount / 100.0) * s
        elif motion == "dolly":
            t = np.array([0.0, 0.0, -sign * depth * (amount / 100.0) * s])
        elif motion == "orbit":
            # Orbit the point at `depth` in front of the start camera: rotate about y there.
            rot = _rotation_y(sign * math.radians(amount) * s)
            centre = np.array([0.0, 0.0, depth])
            t = centre - rot @ centre
        pose: dict[str, Any] = {
            "frame": index,
            "R": np.round(rot, 6).tolist(),
            "t": np.round(t, 6).tolist(),
        }
        if motion == "zoom":
            pose["focal_scale"] = round(max(focal, 0.05), 6)
        poses.append(pose)
    return poses


def direct(
    prompt: str,
    settings: PrismSettings,
    style: str | None = None,
    source: Mapping[str, Any] | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """The cut_spec for ``prompt``.

    ``source`` holds optional facts of the source video (``width``, ``height``, ``fps``,
    ``duration``/``frame_count``): they set the resolution and timing unless the prompt
    names them. ``style`` (an explicit request field) beats "in the X style" in the prompt,
    which beats ``settings.default_style``. Same inputs, same output.
    """
    text = prompt.lower()
    source = dict(source or {})
    fps_match, duration_match = _FPS.search(text), _DURATION.search(text)
    fps = float(fps_match.group(1)) if fps_match else float(source.get("fps") or settings.fps)
    if duration_match:
        duration = float(duration_match.group(1))
    elif source.get("duration"):
        duration = float(source["duration"])
    elif source.get("frame_count") and source.get("fps"):
        duration = float(source["frame_count"]) / float(source["fps"])
    else:
        duration = settings.duration_s
    duration = max(duration, 1.0 / fps)
    frame_count = max(1, round(duration * fps))
    width = int(source.get("width") or settings.width)
    height = int(source.get("height") or settings.height)
    style_match = _STYLE.search(text)
    chosen_style = style or (style_match.group(1) if style_match else settings.default_style)
    motion, direction = detect_motion(prompt)
    camera: dict[str, Any] = {
        "fov_deg": settings.fov_deg,
        "intrinsics": default_intrinsics(width, height, settings.fov_deg),
        "motion": motion,
        "extrinsics": camera_path(
            motion, direction, frame_count, settings.move_amount, settings.scene_depth
        ),
    }
    if direction is not None:
        camera["direction"] = direction
    spec: dict[str, Any] = {
        "version": CUT_SPEC_VERSION,
        "prompt": prompt,
        "duration_s": round(duration, 6),
        "fps": round(fps, 6),
        "frame_range": [0, frame_count - 1],
        "resolution": {"width": width, "height": height},
        "camera": camera,
        "layers": detect_layers(prompt),
        "style": chosen_style,
        "director": DIRECTOR_NAME,
    }
    if job_id is not None:
        spec["job_id"] = job_id
    if source:
        spec["source"] = source
    return spec

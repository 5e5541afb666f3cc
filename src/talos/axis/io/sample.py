"""Deterministic test clips with ground truth: line shapes that move, rotate and scale.

:func:`generate_sample` writes ``OUT.mp4`` and ``OUT.gt.json``. The ground truth names each
line (``id``, ``kind``, drawn width in px) and gives, per frame, its true geometry in px:
a polyline for every line, plus ``center``/``radius`` for circles and ``vertices`` for
triangles. Shapes live in their own cells of a grid so true lines never cross.

Each frame also carries the true motion: ``poses``, ``{"<id>": [a, b, tx, c, d, ty]}``, the
2×3 affine map from each line's own unit coordinates (``lines[k]["unit"]``, ``(n, 2)``) to
frame px, ``x_px = [[a, b], [c, d]] @ u + [tx, ty]``: here each shape's similarity
(rotation by its angle, uniform scale, its centre), so ``poses`` applied to ``unit`` give
``points``; and ``camera``, the map from world px to frame px, always the identity here (no
camera). Floats in ``poses`` and ``unit`` keep 6 significant digits.

The same arguments give the same frames and the same bytes (single-threaded x264).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from talos.media import bgr_video_frame

KINDS = ("circle", "triangle", "square", "curve", "wave", "line", "ellipse", "arc")
GT_POINTS = 49  # divisible sides: polygon corners fall on samples
INK_BGR = (30, 25, 20)  # dark ink on paper
# x264 for drawn lines: near-lossless, single-threaded (same bytes everywhere), no B-frames
LINES_X264 = {"crf": "16", "preset": "veryfast", "threads": "1", "bframes": "0"}
IDENTITY_POSE = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # a 2x3 affine map, row by row


@dataclass(frozen=True)
class ShapeSpec:
    """One moving line: where its cell is, and how it moves, turns and breathes over time."""

    line_id: int
    kind: str
    cell_center: tuple[float, float]
    size: float
    drift: tuple[float, float]
    phase: float
    spin: float
    breathe: float
    width: float
    params: tuple[float, ...]


def _unit_outline(
    kind: str, params: tuple[float, ...], n: int = GT_POINTS
) -> tuple[np.ndarray, bool]:
    """Outline of a shape of radius ~1 around the origin, ``(n, 2)``, and whether it is closed."""
    t = np.linspace(0.0, 1.0, n, endpoint=kind not in ("circle", "ellipse"))
    if kind == "circle":
        a = 2 * np.pi * t
        return np.stack([np.cos(a), np.sin(a)], 1), True
    if kind == "ellipse":
        a = 2 * np.pi * t
        return np.stack([np.cos(a), params[0] * np.sin(a)], 1), True
    if kind in ("triangle", "square"):
        sides = 3 if kind == "triangle" else 4
        corners = np.array(
            [
                [
                    math.cos(2 * math.pi * i / sides - math.pi / 2),
                    math.sin(2 * math.pi * i / sides - math.pi / 2),
                ]
                for i in range(sides + 1)
            ]
        )
        per_side = np.linspace(0, sides, n)
        idx = np.minimum(per_side.astype(int), sides - 1)
        frac = (per_side - idx)[:, None]
        return corners[idx] * (1 - frac) + corners[idx + 1] * frac, True
    if kind == "curve":
        p0, p1, p2, p3 = np.array(
            [[-1, 0.3], [-0.4, -1.0 * params[0]], [0.4, 1.0 * params[0]], [1, -0.3]]
        )
        tt = t[:, None]
        pts = (
            ((1 - tt) ** 3) * p0
            + 3 * ((1 - tt) ** 2) * tt * p1
            + 3 * (1 - tt) * tt**2 * p2
            + tt**3 * p3
        )
        return pts, False
    if kind == "wave":
        x = 2 * t - 1
        return np.stack([x, 0.35 * np.sin(2 * np.pi * params[0] * t)], 1), False
    if kind == "line":
        x = 2 * t - 1
        return np.stack([x, np.zeros_like(x)], 1), False
    if kind == "arc":
        a = np.pi * (0.15 + 1.2 * t)
        return np.stack([np.cos(a), np.sin(a)], 1), False
    raise ValueError(f"unknown shape kind {kind!r}")


def _scene(width: int, height: int, seed: int, n_shapes: int) -> list[ShapeSpec]:
    rng = np.random.default_rng(seed)
    cols = max(1, round(math.sqrt(n_shapes * width / height)))
    rows = math.ceil(n_shapes / cols)
    cell_w, cell_h = width / cols, height / rows
    scale = min(width, height) / 720.0
    shapes = []
    for i in range(n_shapes):
        r, c = divmod(i, cols)
        kind = KINDS[i % len(KINDS)]
        shapes.append(
            ShapeSpec(
                line_id=i,
                kind=kind,
                cell_center=((c + 0.5) * cell_w, (r + 0.5) * cell_h),
                size=0.28 * min(cell_w, cell_h),
                drift=(0.12 * cell_w * rng.uniform(0.5, 1), 0.12 * cell_h * rng.uniform(0.5, 1)),
                phase=float(rng.uniform(0, 2 * np.pi)),
                spin=float(rng.uniform(-1, 1)) * 0.6,
                breathe=float(rng.uniform(0.05, 0.15)),
                width=float(max(1.5, round(rng.uniform(2.5, 5.0) * scale * 2) / 2)),
                params=(float(rng.uniform(0.5, 0.8)), float(rng.uniform(1, 2))),
            )
        )
    return shapes


def shape_points(shape: ShapeSpec, t: float) -> tuple[np.ndarray, bool, float, float, np.ndarray]:
    """Geometry of ``shape`` at time ``t`` s: points ``(n, 2)`` px, closed, angle, scale, center."""
    unit, closed = _unit_outline(shape.kind, shape.params)
    angle = shape.spin * t + shape.phase * 0.1
    scale = shape.size * (1.0 + shape.breathe * math.sin(1.3 * t + shape.phase))
    center = np.array(shape.cell_center) + np.array(shape.drift) * np.array(
        [math.sin(0.7 * t + shape.phase), math.cos(0.5 * t + 2 * shape.phase)]
    )
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return unit @ rot.T * scale + center, closed, angle, scale, center


def significant(values: np.ndarray, digits: int = 6) -> list[Any]:
    """``values`` (any shape) as nested lists of floats kept to ``digits`` significant digits
    (a compact, exact decimal form for JSON)."""
    a = np.asarray(values, np.float64)
    flat = [float(format(v, f".{digits}g")) for v in a.ravel().tolist()]
    nested: list[Any] = np.array(flat).reshape(a.shape).tolist()
    return nested


def pose_entry(matrix: np.ndarray) -> list[float]:
    """The ``(2, 3)`` or ``(3, 3)`` affine ``matrix`` as ``[a, b, tx, c, d, ty]``, 6
    significant digits."""
    return significant(np.asarray(matrix, np.float64)[:2].ravel())


def _shape_pose(angle: float, scale: float, center: np.ndarray) -> np.ndarray:
    """The ``(2, 3)`` similarity that :func:`shape_points` applies to the unit outline."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, center[0]], [s, c, center[1]]])


def paper_background(width: int, height: int, seed: int) -> np.ndarray:
    """Paper: ``(H, W, 3)`` uint8 BGR, light and warm, a gentle gradient and soft grain."""
    rng = np.random.default_rng(seed + 7919)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 200 + 30 * (xx / width) + 15 * (yy / height)
    noise = cv2.GaussianBlur(rng.normal(0, 12, (height, width)).astype(np.float32), (0, 0), 6)
    gray = np.clip(base + noise, 0, 255).astype(np.uint8)
    bgr = np.stack([gray, (gray * 0.97).astype(np.uint8), (gray * 0.92).astype(np.uint8)], 2)
    return np.ascontiguousarray(bgr)


def _gt_entry(shape: ShapeSpec, t: float) -> dict[str, object]:
    points, closed, angle, scale, center = shape_points(shape, t)
    entry: dict[str, object] = {
        "id": shape.line_id,
        "closed": closed,
        "points": np.round(points, 2).tolist(),
    }
    if shape.kind == "circle":
        entry["center"] = np.round(center, 2).tolist()
        entry["radius"] = round(scale, 2)
    if shape.kind == "triangle":
        a = np.array([2 * math.pi * i / 3 - math.pi / 2 for i in range(3)])
        rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        corners = np.stack([np.cos(a), np.sin(a)], 1) @ rot.T * scale + center
        entry["vertices"] = np.round(corners, 2).tolist()
    return entry


def draw_ink(frame: np.ndarray, points: np.ndarray, closed: bool, width: float) -> None:
    """Draw the polyline ``points`` ``(n, 2)`` px on ``frame`` ``(H, W, 3)`` uint8 in place:
    dark ink (:data:`INK_BGR`), ``round(width)`` px wide, anti-aliased, at 1/16 px."""
    shift = 4
    pts = np.round(points * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(
        frame,
        [pts],
        closed,
        INK_BGR,
        thickness=max(1, round(width)),
        lineType=cv2.LINE_AA,
        shift=shift,
    )


def render_sample_frame(shapes: list[ShapeSpec], background: np.ndarray, t: float) -> np.ndarray:
    """The frame at time ``t``: every shape drawn in dark ink, anti-aliased, on ``background``."""
    frame = background.copy()
    for shape in shapes:
        points, closed, *_ = shape_points(shape, t)
        draw_ink(frame, points, closed, shape.width)
    return frame


def encode_frames(
    out: Path,
    images: Iterable[np.ndarray],
    width: int,
    height: int,
    fps: int,
    options: dict[str, str] = LINES_X264,
) -> None:
    """Encode ``images`` (``(H, W, 3)`` uint8 BGR each) into the H.264 MP4 ``out``."""
    with av.open(str(out), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = dict(options)
        for image in images:
            for packet in stream.encode(bgr_video_frame(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def generate_sample(
    out_path: str | Path,
    width: int = 1280,
    height: int = 720,
    frames: int = 48,
    seed: int = 0,
    fps: int = 24,
    shapes: int = 8,
) -> Path:
    """Write the clip to ``out_path`` and its ground truth beside it; return the GT path."""
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError("width and height must be even and at least 16")
    if frames < 1:
        raise ValueError("frames must be at least 1")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    scene = _scene(width, height, seed, shapes)
    background = paper_background(width, height, seed)
    frame_truth: list[dict[str, Any]] = []
    truth: dict[str, object] = {
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "seed": seed,
        "lines": [
            {
                "id": s.line_id,
                "kind": s.kind,
                "width": s.width,
                "closed": _unit_outline(s.kind, s.params)[1],
                "unit": significant(_unit_outline(s.kind, s.params)[0]),
            }
            for s in scene
        ],
        "frame_truth": frame_truth,
    }

    def images() -> Iterator[np.ndarray]:
        for i in range(frames):
            t = i / fps
            yield render_sample_frame(scene, background, t)
            poses = {
                str(s.line_id): pose_entry(_shape_pose(*shape_points(s, t)[2:])) for s in scene
            }
            frame_truth.append(
                {
                    "index": i,
                    "lines": [_gt_entry(s, t) for s in scene],
                    "poses": poses,
                    "camera": IDENTITY_POSE,
                }
            )

    encode_frames(out, images(), width, height, fps)
    gt_path = ground_truth_path(out)
    gt_path.write_text(json.dumps(truth, separators=(",", ":")))
    return gt_path


def ground_truth_path(video_path: str | Path) -> Path:
    """Where the ground truth of a sample clip lies: ``clip.mp4`` → ``clip.gt.json``."""
    p = Path(video_path)
    return p.with_name(p.stem + ".gt.json")

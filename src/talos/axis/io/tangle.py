"""The ``tangle`` scene: drawn lines that cross, leave the frame and pass under a paper card.

Hard on identity where the ``lines`` clip (:mod:`talos.axis.io.sample`) is easy: there every
shape keeps to its own grid cell. Here, on the same paper and in the same dark ink (2.5–5 px
at 720p, scaled with the height), ten lines move independently:

- two long straight lines that cross at a shallow angle (20–29° at rest, 15–35° while they
  swing), so their crossing slides far along both as they move;
- two waves and two S-shaped curves across the frame, two closed ellipses and a blob, which
  cross the long lines and each other: several crossings in every frame;
- a small ellipse that leaves the frame on the right and comes back (1 s period: absent
  7–9 frames of every 24 at 24 fps);
- an opaque card of paper with its own ink outline (a true line, ``kind`` ``occluder``),
  which sweeps over the middle of the frame in front of everything and hides the middle of
  the lines beneath it.

Every line is a polyline in its own unit coordinates (``unit``: a line or wave spans x in
−1…1) carried by a similarity that moves, turns and breathes over time (``poses``).

Ground truth: the format of :mod:`talos.axis.io.scenes` (``scene`` ``"tangle"``): per frame
the visible pieces of every line, with its id, cut exactly where a line meets the outer edge
of the card's ink or the frame border (a line split by the card is two or more entries with
one id; a line out of the frame is absent); ``poses`` of every line and ``camera`` (the
identity: no camera). The ink is drawn on the true polylines themselves, so it lies on them
within OpenCV's 1/16 px drawing precision before x264 (crf 16, as ``lines``).

Same arguments, same bytes; frame ``i`` shows time ``i / fps`` s.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from talos.axis.io.sample import (
    IDENTITY_POSE,
    draw_ink,
    encode_frames,
    ground_truth_path,
    paper_background,
    pose_entry,
    significant,
)
from talos.axis.io.scenes.geometry import inside_fast, offset_polygon, visible_pieces
from talos.axis.io.scenes.model import polar_table, table_outline
from talos.axis.io.scenes.render import coverage, pixel_box

LEAVE_PERIOD_S = 1.0  # the small ellipse is out of the frame for ~30 % of each period
_POINT_SPACING_PX = 3.0  # vertices of a unit line at its drawn size


@dataclass(frozen=True)
class Strand:
    """One line of the scene: its unit polyline and its motion.

    At ``t`` s its pose is the similarity ``x = s R(a) u + c`` with ``c = center +
    amplitude ⊙ sin(omega t + phase)`` px, ``a = angle + swing sin(swing_omega t + phase_y)``
    rad and ``s = size (1 + breathe sin(1.3 t + phase_x))`` px per unit.
    """

    line_id: int
    kind: str
    unit: np.ndarray  # (n, 2)
    closed: bool
    width: float  # ink, px
    center: tuple[float, float]
    amplitude: tuple[float, float]
    omega: tuple[float, float]
    phase: tuple[float, float]
    size: float
    angle: float
    swing: float
    swing_omega: float
    breathe: float


def strand_pose(strand: Strand, t: float) -> np.ndarray:
    """The ``(3, 3)`` map from ``strand``'s unit coordinates to frame px at ``t`` s."""
    c = np.array(strand.center) + np.array(strand.amplitude) * np.sin(
        np.array(strand.omega) * t + np.array(strand.phase)
    )
    a = strand.angle + strand.swing * math.sin(strand.swing_omega * t + strand.phase[1])
    s = strand.size * (1.0 + strand.breathe * math.sin(1.3 * t + strand.phase[0]))
    cos, sin = s * math.cos(a), s * math.sin(a)
    return np.array([[cos, -sin, c[0]], [sin, cos, c[1]], [0.0, 0.0, 1.0]])


def _unit_line(kind: str, rng: np.random.Generator, n: int) -> tuple[np.ndarray, bool]:
    """A unit polyline of ``kind`` with ``n`` points, and whether it is closed."""
    x = np.linspace(-1.0, 1.0, n)
    if kind == "line":
        return np.stack([x, np.zeros(n)], 1), False
    if kind == "wave":
        amp, cycles, phase = rng.uniform(0.08, 0.14), rng.uniform(1.5, 2.5), rng.uniform(0, 6.3)
        return np.stack([x, amp * np.sin(np.pi * cycles * (x + 1) + phase)], 1), False
    if kind == "curve":  # an S: a cubic Bézier from (-1, y0) to (1, -y0)
        y0, c = rng.uniform(-0.2, 0.2), rng.uniform(0.35, 0.6) * rng.choice([-1.0, 1.0])
        p = np.array([[-1.0, y0], [-0.35, c], [0.35, -c], [1.0, -y0]])
        t = np.linspace(0.0, 1.0, n)[:, None]
        bez = (1 - t) ** 3 * p[0] + 3 * (1 - t) ** 2 * t * p[1] + 3 * (1 - t) * t**2 * p[2]
        return bez + t**3 * p[3], False
    if kind == "ellipse":
        a = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
        return np.stack([np.cos(a), rng.uniform(0.55, 0.75) * np.sin(a)], 1), True
    if kind in ("blob", "occluder"):
        table = polar_table("blob" if kind == "blob" else "superellipse", rng)
        return table_outline(table, n), True
    raise ValueError(f"unknown tangle line kind {kind!r}")  # pragma: no cover - internal


def _points(kind: str, size_px: float) -> int:
    """Vertices of a unit line of ``kind`` drawn ``size_px`` px per unit: one every ~3 px."""
    length = {"line": 2.0, "wave": 2.4, "curve": 2.8}.get(kind, 2 * np.pi)
    return int(np.clip(math.ceil(length * size_px / _POINT_SPACING_PX), 16, 1200))


def build_tangle(width: int, height: int, seed: int) -> list[Strand]:
    """The scene's lines, back to front (the card last): deterministic in the arguments."""
    rng = np.random.default_rng([seed, 21])
    w, h, k = float(width), float(height), height / 720.0

    def jit(x: float) -> float:
        return float(rng.uniform(-x, x))

    a_line = jit(0.1)  # the first long line's angle; the second's is 0.36-0.5 rad off it
    b_line = a_line + rng.choice([-1.0, 1.0]) * rng.uniform(0.36, 0.5)
    cross = np.array([0.34 * w + jit(0.03 * w), 0.45 * h + jit(0.03 * h)])  # where they meet

    def along(angle: float, d: float) -> tuple[float, float]:
        return tuple(cross + d * np.array([math.cos(angle), math.sin(angle)]))

    steep = rng.choice([-1.0, 1.0]) * (1.0 + jit(0.1))
    upright = math.pi / 2 + jit(0.2)
    # kind, centre px, size px/unit, angle rad, swing rad, amplitude (of W, H), omegas rad/s
    layout = [
        ("line", along(a_line, 0.16 * w), 0.42 * w, a_line, 0.05, (0.02, 0.05), (0.9, 1.7)),
        ("line", along(b_line, 0.05 * w), 0.3 * w, b_line, 0.04, (0.03, 0.07), (1.2, 2.1)),
        ("wave", (0.58 * w, 0.5 * h), 0.3 * w, -0.3 + jit(0.08), 0.06, (0.03, 0.04), (1.0, 1.4)),
        ("wave", (0.76 * w, 0.45 * h), 0.3 * h, steep, 0.1, (0.02, 0.03), (1.5, 0.8)),
        ("curve", (0.2 * w, 0.5 * h), 0.4 * h, upright, 0.08, (0.03, 0.03), (1.3, 0.9)),
        ("curve", (0.45 * w, 0.64 * h), 0.22 * w, -0.7 + jit(0.15), 0.08, (0.03, 0.04), (0.8, 1.6)),
        ("ellipse", (0.27 * w, 0.45 * h), 0.14 * h, jit(1.5), 0.3, (0.02, 0.03), (1.7, 1.1)),
        ("ellipse", (0.47 * w, 0.28 * h), 0.1 * h, jit(1.5), 0.4, (0.03, 0.02), (1.1, 1.9)),
        ("blob", (0.8 * w, 0.66 * h), 0.12 * h, jit(1.5), 0.3, (0.02, 0.03), (1.4, 1.2)),
    ]
    strands = []
    for line_id, (kind, center, size, angle, swing, amplitude, omega) in enumerate(layout):
        unit, closed = _unit_line(kind, rng, _points(kind, size))
        strands.append(
            Strand(
                line_id=line_id,
                kind=kind,
                unit=unit,
                closed=closed,
                width=_ink_width(rng, k),
                center=(float(center[0]), float(center[1])),
                amplitude=(amplitude[0] * w, amplitude[1] * h),
                omega=omega,
                phase=(float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0, 2 * np.pi))),
                size=size,
                angle=float(angle),
                swing=swing,
                swing_omega=float(rng.uniform(0.8, 1.6)),
                breathe=float(rng.uniform(0.02, 0.06)),
            )
        )
    # the ellipse that leaves on the right and comes back: x = W - 1 - A cos(2 pi t / T)
    size = 0.035 * h
    unit, _ = _unit_line("ellipse", rng, _points("ellipse", size))
    strands.append(
        Strand(
            line_id=len(strands),
            kind="ellipse",
            unit=unit,
            closed=True,
            width=_ink_width(rng, k),
            center=(w - 1, 0.22 * h),
            amplitude=(size + 0.025 * h, 0.02 * h),
            omega=(2 * np.pi / LEAVE_PERIOD_S, 1.0),
            phase=(-np.pi / 2, 0.0),
            size=size,
            angle=jit(1.5),
            swing=0.3,
            swing_omega=2.0,
            breathe=0.0,
        )
    )
    # the card: in front of everything, it sweeps 0.54-0.70 W over the first second
    size = 0.16 * h
    unit, _ = _unit_line("occluder", rng, _points("blob", size))
    strands.append(
        Strand(
            line_id=len(strands),
            kind="occluder",
            unit=unit,
            closed=True,
            width=float(max(1.0, round(3.0 * k))),
            center=(0.62 * w, 0.5 * h),
            amplitude=(0.08 * w, 0.03 * h),
            omega=(2.0, 1.3),
            phase=(-1.0, jit(3.0)),
            size=size,
            angle=jit(0.5),
            swing=0.1,
            swing_omega=1.0,
            breathe=0.03,
        )
    )
    return strands


def _ink_width(rng: np.random.Generator, k: float) -> float:
    """2.5–5 px at 720p, scaled by ``k``, to half a pixel (as ``lines``)."""
    return float(max(1.5, round(rng.uniform(2.5, 5.0) * k * 2) / 2))


def tangle_frame(
    strands: list[Strand], background: np.ndarray, t: float
) -> tuple[np.ndarray, dict[str, Any]]:
    """The frame at ``t`` s, ``(H, W, 3)`` uint8 BGR, and its ground truth entry (without
    ``index``): every line inked on ``background``, then the card (paper with an ink
    outline) over them."""
    h, w = background.shape[:2]
    poses = [strand_pose(s, t) for s in strands]
    points = [s.unit @ p[:2, :2].T + p[:2, 2] for s, p in zip(strands, poses, strict=True)]
    frame = background.copy()
    for strand, pts in zip(strands[:-1], points[:-1], strict=True):
        draw_ink(frame, pts, strand.closed, strand.width)
    card, card_pts = strands[-1], points[-1]
    box = pixel_box([card_pts], 2, w, h)
    if box is not None:
        x0, y0, x1, y1 = box
        alpha = coverage(card_pts, np.array([x0, y0], np.float64), (y1 - y0, x1 - x0))
        roi = np.s_[y0:y1, x0:x1]
        # The card covers what is under it by its coverage. Done in NumPy: cv2.blendLinear
        # on these strided views gave pixels that differed by a level from run to run (its
        # vector and scalar paths round differently, and which one a pixel takes moves with
        # the buffers), so the same arguments did not always give the same bytes.
        a = alpha[..., None].astype(np.float32)
        mixed = frame[roi] * (1.0 - a) + background[roi] * a
        frame[roi] = np.rint(mixed).astype(np.uint8)
    draw_ink(frame, card_pts, True, card.width)
    # what hides a line: the card and its ink, as drawn (round(width) px wide)
    hide = offset_polygon(card_pts, max(1, round(card.width)) / 2)
    rect = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
    entries = []
    for strand, pts in zip(strands, points, strict=True):
        vis = (pts[:, 0] >= 0) & (pts[:, 0] <= w - 1) & (pts[:, 1] >= 0) & (pts[:, 1] <= h - 1)
        cuts = [rect]
        if strand is not card:
            vis &= ~inside_fast(pts, hide)
            cuts.append(hide)
        for piece, closed in visible_pieces(pts, strand.closed, vis, cuts):
            entries.append(
                {"id": strand.line_id, "closed": closed, "points": np.round(piece, 2).tolist()}
            )
    truth = {
        "lines": entries,
        "poses": {str(s.line_id): pose_entry(p) for s, p in zip(strands, poses, strict=True)},
        "camera": IDENTITY_POSE,
    }
    return frame, truth


def generate_tangle(
    out_path: str | Path,
    width: int = 1280,
    height: int = 720,
    frames: int = 48,
    seed: int = 0,
    fps: int = 24,
) -> Path:
    """Write the tangle clip to ``out_path`` and its ground truth beside it; return the GT
    path. Arguments as :func:`talos.axis.io.scenes.generate_scene`; bad ones raise
    ``ValueError``."""
    if width < 64 or height < 48 or width % 2 or height % 2:
        raise ValueError("width and height must be even and at least 64 x 48")
    if frames < 1 or fps < 1:
        raise ValueError("frames and fps must be at least 1")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    strands = build_tangle(width, height, seed)
    background = paper_background(width, height, seed)
    truth: dict[str, Any] = {
        "scene": "tangle",
        "width": width,
        "height": height,
        "fps": fps,
        "frames": frames,
        "seed": seed,
        "lines": [
            {"id": s.line_id, "kind": s.kind, "width": s.width, "closed": s.closed}
            | {"unit": significant(s.unit)}
            for s in strands
        ],
        "frame_truth": [],
    }

    def images() -> Iterator[np.ndarray]:
        for i in range(frames):
            image, entry = tangle_frame(strands, background, i / fps)
            truth["frame_truth"].append({"index": i, **entry})
            yield image

    encode_frames(out, images(), width, height, fps)
    gt_path = ground_truth_path(out)
    gt_path.write_text(json.dumps(truth, separators=(",", ":")))
    return gt_path

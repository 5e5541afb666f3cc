"""Contact sheets: what a trace made of its video, a few frames at a glance.

:func:`contact_sheet` writes one PNG for an ``axis trace`` output folder: one row per chosen
frame and three columns, the source frame | the line map | the strokes, and a fourth when the
clip's ground truth is given: the strokes judged against it. The source frame is
decoded again as the trace saw it (:func:`talos.axis.io.readback.decode_frames`), the line
map is recomputed from it with the configured edge strategy (``edges.strategy`` in the
:class:`~talos.config.Settings` given, the same registry call the ``edges`` step makes), and
the strokes, circles and triangles of the frame file are drawn anti-aliased on black, each in
the colour of its ``stroke_id`` (:func:`stroke_colors`: the same id has the same colour on
every row, neighbouring ids are far apart in hue). The truth column
(:func:`truth_panel`) marks, over the dimmed source frame, the true lines the strokes found
and missed and the strokes that lie off every true line, at the tolerance ``axis evaluate``
scores with (:func:`~talos.axis.evaluation.boundaries.tolerance_px`): what a precision and
recall figure is made of, where it is made.

All coordinates are px; frame coordinates are at the trace's processing resolution and are
multiplied by :attr:`SheetLayout.scale` on the sheet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from talos.axis.errors import InputError
from talos.axis.evaluation.boundaries import (
    LineMap,
    TruthClip,
    boundary_counts,
    draw_polylines,
    stroke_polylines,
    tolerance_px,
)
from talos.axis.geometry import bezier
from talos.axis.io.readback import decode_frames, manifest_source, read_frame, read_manifest
from talos.axis.strategies import EDGE_DETECTORS
from talos.config import Settings

GOLDEN_RATIO_CONJUGATE = 0.6180339887498949
MAX_SHEET_WIDTH = 2400  # px
MIN_COLUMN_WIDTH = 480  # px: small clips are drawn larger, so the labels stay readable
MARGIN = 12  # px between and around the columns
HEADER_HEIGHT = 64  # px: title line and column titles
LABEL_HEIGHT = 30  # px: the strip above each row
SAMPLES_PER_SEGMENT = 12  # points per Bézier segment in the drawn polylines
SHIFT = 4  # fixed-point bits for sub-pixel OpenCV drawing
LINE_MAP_GAIN = 2.0  # a thin line map shrunk with INTER_AREA turns grey; brighten it back
BACKGROUND = (32, 32, 32)  # BGR of the sheet around the columns
TEXT = (235, 235, 235)
DIM_TEXT = (170, 170, 170)
PRIMITIVE_WITHOUT_ID = (255, 255, 255)  # BGR of a circle or triangle with no stroke_id
FONT = cv2.FONT_HERSHEY_SIMPLEX
COLUMNS = ("source", "line map", "strokes by stroke_id")
TRUTH_COLUMN = "against the truth: found green, missed red, off the truth blue"
FOUND = (0, 200, 0)  # BGR: a true line a stroke lies on
MISSED = (0, 0, 255)  # a true line no stroke lies on
OFF_TRUTH = (255, 160, 0)  # a stroke on no true line (texture, a false line)
TRUTH_DIM = 0.45  # the source under the truth marks, darkened so they stand out


@dataclass(frozen=True)
class SheetLayout:
    """Where everything sits on a sheet of ``rows`` rows and ``columns`` columns for
    ``frame_width × frame_height`` frames: each column is the frame scaled by ``scale``
    (``column_width × column_height``)."""

    frame_width: int
    frame_height: int
    rows: int
    scale: float
    columns: int = len(COLUMNS)

    @classmethod
    def fit(
        cls,
        frame_width: int,
        frame_height: int,
        rows: int,
        max_width: int = MAX_SHEET_WIDTH,
        min_column_width: int = MIN_COLUMN_WIDTH,
        columns: int = len(COLUMNS),
    ) -> SheetLayout:
        """The largest scale at which ``columns`` columns fit in ``max_width`` px, but no
        larger than what makes a column ``min_column_width`` px wide (1 for frames at least
        that wide: large frames are only ever shrunk)."""
        if rows < 1:
            raise ValueError(f"rows must be at least 1 (got {rows})")
        room = max_width - (columns + 1) * MARGIN
        if room < columns:
            raise ValueError(f"a sheet {max_width} px wide has no room for {columns} columns")
        scale = min(room / (columns * frame_width), max(1.0, min_column_width / frame_width))
        return cls(frame_width, frame_height, rows, scale, columns)

    @property
    def column_width(self) -> int:
        return max(1, round(self.frame_width * self.scale))

    @property
    def column_height(self) -> int:
        return max(1, round(self.frame_height * self.scale))

    @property
    def width(self) -> int:
        """Sheet width in px."""
        return self.columns * self.column_width + (self.columns + 1) * MARGIN

    @property
    def height(self) -> int:
        """Sheet height in px."""
        return HEADER_HEIGHT + self.rows * (LABEL_HEIGHT + self.column_height + MARGIN)

    def row_top(self, row: int) -> int:
        """y of the top of row ``row``'s label strip."""
        return HEADER_HEIGHT + row * (LABEL_HEIGHT + self.column_height + MARGIN)

    def cell(self, row: int, column: int) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` of the image of ``row`` in ``column`` (0 source, 1 line map,
        2 strokes, 3 the truth)."""
        x = MARGIN + column * (self.column_width + MARGIN)
        y = self.row_top(row) + LABEL_HEIGHT
        return x, y, self.column_width, self.column_height


def stroke_colors(stroke_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """One bright colour per id, ``(N, 3)`` uint8 BGR: hue ``frac(id · 0.618…)`` (the golden
    ratio conjugate, so consecutive ids land far apart on the colour wheel), saturation 0.85
    or 0.6 alternating every 5 ids, value 1. The same id always gets the same colour."""
    ids = np.asarray(stroke_ids, dtype=np.float64).reshape(-1)
    hue = np.mod(ids * GOLDEN_RATIO_CONJUGATE + 0.1, 1.0) * 6.0
    sat = np.where((ids // 5) % 2 == 0, 0.85, 0.6)
    sector = np.floor(hue).astype(np.int64) % 6
    f = hue - np.floor(hue)
    v = np.ones_like(hue)
    p, q, t = v * (1 - sat), v * (1 - sat * f), v * (1 - sat * (1 - f))
    rows = np.arange(len(ids))
    r = np.stack([v, q, p, p, t, v], axis=1)[rows, sector]
    g = np.stack([t, v, v, q, p, p], axis=1)[rows, sector]
    b = np.stack([p, p, t, v, v, q], axis=1)[rows, sector]
    return np.round(np.stack([b, g, r], axis=1) * 255).astype(np.uint8)


def _fixed(points: np.ndarray, scale: float) -> np.ndarray:
    """Frame px ``(..., 2)`` → sheet px in OpenCV fixed point (``SHIFT`` bits), int32."""
    return np.round(np.asarray(points, np.float64) * (scale * (1 << SHIFT))).astype(np.int32)


def _color(
    stroke_id: int | None, colors: Mapping[int, tuple[int, int, int]]
) -> tuple[int, int, int]:
    return PRIMITIVE_WITHOUT_ID if stroke_id is None else colors[int(stroke_id)]


def _thickness(width: float, scale: float) -> int:
    return max(1, round(width * scale))


def render_strokes(
    frame: Mapping[str, Any], scale: float = 1.0, size: tuple[int, int] | None = None
) -> np.ndarray:
    """A frame file's content (``frames/NNNNNN.json`` as a dict) drawn on black:
    ``(round(height·scale), round(width·scale), 3)`` uint8 BGR, or ``size = (w, h)``.

    Every stroke's Bézier chain is sampled (:data:`SAMPLES_PER_SEGMENT` points per segment,
    all strokes of the frame at once) and drawn with ``cv2.polylines`` anti-aliased, closed
    when the stroke is, ``width × mean(pressure) × scale`` px thick (at least 1); circles and
    triangles are drawn with their own width. Colours come from :func:`stroke_colors`.
    """
    w, h = size or (
        max(1, round(frame["width"] * scale)),
        max(1, round(frame["height"] * scale)),
    )
    canvas = np.zeros((h, w, 3), np.uint8)
    strokes = frame.get("strokes", [])
    circles = frame.get("circles", [])
    triangles = frame.get("triangles", [])
    ids = {int(s["stroke_id"]) for s in strokes}
    ids |= {int(p["stroke_id"]) for p in (*circles, *triangles) if p.get("stroke_id") is not None}
    ordered = sorted(ids)
    palette = stroke_colors(ordered).tolist()
    colors = {i: tuple(bgr) for i, bgr in zip(ordered, palette, strict=True)}
    if strokes:
        chains = [np.asarray(s["bezier"], np.float64) for s in strokes]
        segment_counts = np.array([(len(c) - 1) // 3 for c in chains])
        t = np.linspace(0.0, 1.0, SAMPLES_PER_SEGMENT, endpoint=False)
        points = bezier.segment_points(bezier.chain_segments(chains), t)  # (S, m, 2)
        points = _fixed(points.reshape(-1, 2), scale)
        ends = np.cumsum(segment_counts) * SAMPLES_PER_SEGMENT
        starts = ends - segment_counts * SAMPLES_PER_SEGMENT
        last_knots = _fixed(np.stack([c[-1] for c in chains]), scale)
        for stroke, start, end, last in zip(strokes, starts, ends, last_knots, strict=True):
            line = np.vstack([points[start:end], last[None]])
            width = float(stroke.get("width", 2.0)) * float(np.mean(stroke["pressure"]))
            cv2.polylines(
                canvas,
                [line],
                bool(stroke.get("closed", False)),
                colors[int(stroke["stroke_id"])],
                _thickness(width, scale),
                cv2.LINE_AA,
                SHIFT,
            )
    for circle in circles:
        cv2.circle(
            canvas,
            tuple(int(v) for v in _fixed(circle["center"], scale)),
            int(round(float(circle["radius"]) * scale * (1 << SHIFT))),
            _color(circle.get("stroke_id"), colors),
            _thickness(float(circle.get("width", 2.0)), scale),
            cv2.LINE_AA,
            SHIFT,
        )
    for triangle in triangles:
        cv2.polylines(
            canvas,
            [_fixed(triangle["vertices"], scale)],
            True,
            _color(triangle.get("stroke_id"), colors),
            _thickness(float(triangle.get("width", 2.0)), scale),
            cv2.LINE_AA,
            SHIFT,
        )
    return canvas


def pick_frames(
    manifest: Mapping[str, Any], rows: int, frames: Sequence[int] | None
) -> list[dict[str, Any]]:
    """The manifest's frame entries to show: those with ``index`` in ``frames``, in that
    order, or ``rows`` entries spread evenly from the first traced frame to the last."""
    entries = list(manifest["frames"])
    if frames is not None:
        by_index = {int(e["index"]): e for e in entries}
        missing = [i for i in frames if int(i) not in by_index]
        if missing or not frames:
            known = f"{entries[0]['index']}..{entries[-1]['index']}"
            raise ValueError(f"frames {missing or '[]'} are not in the trace (it has {known})")
        return [by_index[int(i)] for i in frames]
    if rows < 1:
        raise ValueError(f"rows must be at least 1 (got {rows})")
    positions = np.unique(np.round(np.linspace(0, len(entries) - 1, min(rows, len(entries)))))
    return [entries[int(p)] for p in positions]


def _put_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    max_width: int,
    color: tuple[int, int, int] = TEXT,
    font_scale: float = 0.6,
) -> None:
    """``text`` with its baseline at ``origin``, shrunk until it fits in ``max_width`` px."""
    (w, _), _ = cv2.getTextSize(text, FONT, font_scale, 1)
    if w > max_width:
        font_scale = max(0.3, font_scale * max_width / w)
    cv2.putText(image, text, origin, FONT, font_scale, color, 1, cv2.LINE_AA)


def _fit(image: np.ndarray, layout: SheetLayout) -> np.ndarray:
    size = (layout.column_width, layout.column_height)
    if layout.scale < 1:
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


def _line_map_panel(line_map: np.ndarray, layout: SheetLayout) -> np.ndarray:
    """Line map ``(H, W)`` uint8 (255 = ink) → a column image, white ink on black, BGR."""
    size = (layout.column_width, layout.column_height)
    if layout.scale < 1:
        small = cv2.resize(line_map, size, interpolation=cv2.INTER_AREA)
        small = cv2.convertScaleAbs(small, alpha=LINE_MAP_GAIN)  # saturating
    else:
        small = cv2.resize(line_map, size, interpolation=cv2.INTER_NEAREST)
    return cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)


def _marks(mask: np.ndarray, layout: SheetLayout) -> np.ndarray:
    """Frame-size ``(H, W)`` bool → column-size bool, every set pixel kept (a shrunk sheet
    would average a 1-px line away) and at least 2 px wide, so that a colour reads."""
    ys, xs = np.nonzero(mask)
    out = np.zeros((layout.column_height, layout.column_width), np.uint8)
    out[
        np.clip(np.round(ys * layout.scale).astype(np.int64), 0, layout.column_height - 1),
        np.clip(np.round(xs * layout.scale).astype(np.int64), 0, layout.column_width - 1),
    ] = 1
    thick: np.ndarray = cv2.dilate(out, np.ones((2, 2), np.uint8)) > 0
    return thick


def truth_panel(
    image: np.ndarray,
    frame: Mapping[str, Any],
    truth: TruthClip,
    index: int | None,
    layout: SheetLayout,
) -> tuple[np.ndarray, str]:
    """The truth column of one row and its label: over ``image`` (the source frame,
    ``(H, W, 3)`` uint8 BGR at the trace's size) darkened to :data:`TRUTH_DIM`, the true
    lines of ground-truth frame ``index`` within ``τ`` of a stroke of ``frame`` in
    :data:`FOUND`, the others in :data:`MISSED`, and the strokes farther than ``τ`` from
    every true line in :data:`OFF_TRUTH`; ``τ`` = :func:`tolerance_px` of the frame size
    (3 px at 1080p), the tolerance of ``axis evaluate``. The label gives the frame's
    precision (stroke pixels within ``τ`` of the truth) and recall (true pixels within
    ``τ`` of a stroke), or says that the truth has no frame at this time (``index`` None).
    """
    panel = cv2.convertScaleAbs(_fit(image, layout), alpha=TRUTH_DIM)
    if index is None:
        return panel, "no ground truth at this time"
    shape = image.shape[:2]
    tol = tolerance_px(shape[1], shape[0])
    true = LineMap.of(truth.mask(index, shape))
    drawn = LineMap.of(draw_polylines(shape, stroke_polylines(frame)))
    for mask, color in (
        (true.mask & (drawn.distance <= tol), FOUND),
        (drawn.mask & (true.distance > tol), OFF_TRUTH),
        (true.mask & (drawn.distance > tol), MISSED),  # on top: what a trace most needs
    ):
        panel[_marks(mask, layout)] = color
    (counts,) = boundary_counts(drawn, true, [tol])
    return panel, f"truth P {counts.precision:.2f} R {counts.recall:.2f} at {tol:.1f} px"


def contact_sheet(
    source: str | Path | None,
    outdir: str | Path,
    out_png: str | Path,
    frames: Sequence[int] | None = None,
    rows: int = 4,
    width: int = MAX_SHEET_WIDTH,
    settings: Settings | None = None,
    truth: str | Path | None = None,
) -> Path:
    """Write a contact sheet of the trace in ``outdir`` to ``out_png`` and return its path.

    ``source`` is the traced video or image folder (None: ``lines.json``'s ``source.uri``).
    ``frames`` lists the trace's frame indices to show, one row each; without it ``rows``
    frames are spread evenly over the trace. ``width`` is the sheet's maximum width in px.
    ``settings`` should be the Settings the trace ran with (default: ``Settings()``, the code
    defaults and the environment): its ``edges`` section recomputes the line map.
    The sheet is ``SheetLayout.fit(W, H, rows, width)``-sized: a header, then per row a label
    strip (frame index, time, stroke/circle/triangle counts, share of ink pixels) above the
    three columns source | line map | strokes. With ``truth`` (the clip's ``.gt.json``, as
    ``axis sample`` writes it) a fourth column judges the strokes against the true lines
    (:func:`truth_panel`), and the label adds the frame's precision and recall.

    Raises :class:`InputError` for a missing or unreadable trace folder, source or truth,
    ``ValueError`` for bad ``frames``/``rows``/``width`` and ``OSError`` when the PNG cannot
    be written.
    """
    settings = settings or Settings()
    folder = Path(outdir)
    manifest = read_manifest(folder)
    entries = pick_frames(manifest, rows, frames)
    truth_clip = None if truth is None else TruthClip.load(truth)
    video = Path(source) if source is not None else manifest_source(folder)
    frame_data = [read_frame(folder, entry) for entry in entries]
    images = decode_frames(video, manifest, [float(e["time"]) for e in entries], settings)
    # The strategy the trace used: with edges.strategy auto, the one it chose for the shot.
    strategy = (manifest.get("line_extraction") or {}).get("strategy") or settings.edges.strategy
    detector = EDGE_DETECTORS.create(strategy, settings)

    fw, fh = int(manifest["frame_size"]["width"]), int(manifest["frame_size"]["height"])
    names = COLUMNS if truth_clip is None else (*COLUMNS, TRUTH_COLUMN)
    layout = SheetLayout.fit(fw, fh, len(entries), width, columns=len(names))
    sheet = np.empty((layout.height, layout.width, 3), np.uint8)
    sheet[:] = BACKGROUND
    ssim = (manifest.get("metrics") or {}).get("ssim_mean")
    title = (
        f"{folder.name}: {video.name}  {fw}x{fh}, {len(manifest['frames'])} frames traced"
        + (f", vectorizer SSIM {ssim:.3f}" if isinstance(ssim, int | float) else "")
        + f"  |  edges: {strategy}"
    )
    _put_text(sheet, title, (MARGIN, 24), layout.width - 2 * MARGIN)
    for column, name in enumerate(names):
        x, _, w, _ = layout.cell(0, column)
        _put_text(sheet, name, (x, HEADER_HEIGHT - 12), w, DIM_TEXT)

    for row, (entry, data, image) in enumerate(zip(entries, frame_data, images, strict=True)):
        line_map = detector.detect(image)
        ink = float(np.count_nonzero(line_map)) / line_map.size
        panels = [
            _fit(image, layout),
            _line_map_panel(line_map, layout),
            render_strokes(data, layout.scale, (layout.column_width, layout.column_height)),
        ]
        scored = ""
        if truth_clip is not None:
            index = truth_clip.index_at(float(entry["time"]))
            try:
                panel, scored = truth_panel(image, data, truth_clip, index, layout)
            except (KeyError, TypeError, ValueError) as exc:
                message = f"{truth}: frame {index}'s true lines are unreadable ({exc})"
                raise InputError(message) from None
            panels.append(panel)
            scored = f"  |  {scored}"
        for column, panel in enumerate(panels):
            x, y, w, h = layout.cell(row, column)
            sheet[y : y + h, x : x + w] = panel
        counts = ", ".join(
            f"{n} {kind if n == 1 else kind + 's'}"
            for kind, n in (
                ("stroke", len(data.get("strokes", []))),
                ("circle", len(data.get("circles", []))),
                ("triangle", len(data.get("triangles", []))),
            )
            if n or kind == "stroke"
        )
        label = (
            f"frame {entry['index']}  t = {float(entry['time']):.2f} s  |  {counts}  |  "
            f"line map ink {100 * ink:.1f}%{scored}"
        )
        _put_text(sheet, label, (MARGIN, layout.row_top(row) + 21), layout.width - 2 * MARGIN)

    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet):
        raise OSError(f"cannot write {out} (a .png path is needed)")
    return out

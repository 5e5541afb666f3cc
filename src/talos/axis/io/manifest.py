"""The run manifest, ``lines.json`` (BRIEF §7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from talos import __version__
from talos.axis.io.frames import FORMAT_VERSION
from talos.axis.io.metrics_log import summary_to_dict
from talos.axis.types import RunInfo, RunSummary
from talos.contracts.camera import default_intrinsics

MANIFEST_FILE = "lines.json"
DEFAULT_LAYERS = ("background", "foreground")


def build_manifest(run: RunInfo, summary: RunSummary) -> dict[str, Any]:
    """Everything ``lines.json`` holds, from the run's facts and its summary."""
    shot: Mapping[str, Any] = run.shot
    frames = summary.results.get("frame_index", [])
    camera = dict(shot.get("camera", {}) or {})
    camera.setdefault(
        "intrinsics",
        summary.results.get("camera_intrinsics") or default_intrinsics(run.width, run.height),
    )
    layers = list(shot.get("layers", ()) or DEFAULT_LAYERS)
    run_metrics = summary_to_dict(summary)
    metrics = {
        "frames": summary.frames,
        "wall_s": run_metrics["wall_s"],
        "fps": run_metrics["fps"],
        "ssim_mean": summary.metrics.get("ssim"),
        "delta_kappa_mean": summary.metrics.get("delta_kappa"),
        "slowest_step": run_metrics["slowest_step"],
        "steps": run_metrics["steps"],
        "means": run_metrics["metrics"],
    }
    manifest: dict[str, Any] = {
        "format": "talos.axis.lines",
        "format_version": FORMAT_VERSION,
        "generator": f"talos-axis {__version__}",
        "run_id": run.run_id,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": dict(run.source),
        "fps": round(run.fps, 6),
        "frame_size": {"width": run.width, "height": run.height},
        "camera": camera,
        "layers": [{"name": name, "order": i} for i, name in enumerate(layers)],
        "style_profile": shot.get("style"),
        "line_extraction": dict(run.line_extraction),
        "frame_count": len(frames),
        "frames": frames,
        "tracks": summary.results.get("tracks", []),
        "metrics": metrics,
    }
    return manifest

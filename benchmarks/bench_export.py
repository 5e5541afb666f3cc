"""Export benchmark (issue 15): file sizes against the per-frame SVGs, export time against
trace time (same run), and browser fidelity (SSIM of lottie-web / Chromium renders against
AXIS's raster).

    .venv/bin/python benchmarks/bench_export.py [--out out/bench_export] [--ssim-frames 24]
        [--tolerances 0.5,1,2]

Clips: the standard clip (240 frames of 1920×1080, :mod:`talos.bench.standard`) and a
realistic clip (``axis sample --scene realistic``, 48 frames of 1280×720). Each is traced once
(timed), then exported in every format (timed, the whole export from reading the folder to
the bytes). ``--ssim-frames N`` renders N frames spread over each shot in Chromium
(:mod:`talos.bench.browser`) with the vendored lottie-web, and the animated SVG at the same frame
times; 0 skips it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from talos.axis.api import trace_video
from talos.axis.export import export_chunks, read_shot
from talos.axis.export.shot import frame_strokes
from talos.axis.fidelity import ssim
from talos.axis.io.readback import read_frame, read_manifest
from talos.axis.io.scenes import generate_scene
from talos.axis.render.raster import render_frame
from talos.bench.browser import render_exports
from talos.bench.standard import STANDARD, cached_clip
from talos.config import Settings


def _svg_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in (folder / "frames").glob("*.svg"))


def browser_ssim(folder: Path, frames: int) -> dict[str, float]:
    """Min and mean SSIM over ``frames`` frames, Lottie (lottie-web) and animated SVG."""
    shot = read_shot(folder)
    manifest = read_manifest(folder)
    picks = [int(p) for p in np.unique(np.linspace(0, len(shot.frames) - 1, frames).round())]
    refs = [
        render_frame(
            shot.width, shot.height, frame_strokes(read_frame(folder, manifest["frames"][p]))
        )
        for p in picks
    ]
    lottie_images, svg_images = render_exports(
        b"".join(export_chunks(shot, "lottie")).decode(),
        b"".join(export_chunks(shot, "svg-anim")).decode(),
        shot.width,
        shot.height,
        picks,
        shot.fps,
    )
    out = {
        "lottie": [ssim(r, i) for r, i in zip(refs, lottie_images, strict=True)],
        "svg": [ssim(r, i) for r, i in zip(refs, svg_images, strict=True)],
    }
    return {
        f"{k}_{stat}": round(float(f(v)), 4)
        for k, v in out.items()
        for stat, f in (("min", np.min), ("mean", np.mean))
    }


def measure(name: str, clip: Path, out: Path, tolerances: list[float], ssim_frames: int) -> dict:
    folder = out / f"{name}_trace"
    start = time.perf_counter()
    trace_video(clip, folder, Settings())
    trace_s = time.perf_counter() - start
    svgs = _svg_bytes(folder)
    report: dict = {"clip": str(clip), "trace_s": round(trace_s, 2), "frame_svgs_bytes": svgs}
    for fmt in ("lottie", "svg-anim", "grease-pencil"):
        for tol in tolerances if fmt != "grease-pencil" else [tolerances[0]]:
            start = time.perf_counter()
            data = b"".join(export_chunks(read_shot(folder), fmt, tol))
            took = time.perf_counter() - start
            report[f"{fmt}@{tol}"] = {
                "bytes": len(data),
                "share_of_frame_svgs": round(len(data) / svgs, 3),
                "export_s": round(took, 3),
                "share_of_trace_time": round(took / trace_s, 4),
            }
    if ssim_frames:
        report["ssim"] = browser_ssim(folder, ssim_frames)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="out/bench_export")
    parser.add_argument("--ssim-frames", type=int, default=24)
    parser.add_argument("--tolerances", default="0.5,1,2")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tolerances = [float(t) for t in args.tolerances.split(",")]
    standard = cached_clip(out)
    realistic = out / "realistic.mp4"
    if not realistic.exists():
        generate_scene(realistic, "realistic", 1280, 720, 48, seed=0)
    report = {
        "standard": measure("standard", standard, out, tolerances, args.ssim_frames),
        "realistic": measure("realistic", realistic, out, tolerances, args.ssim_frames),
        "standard_spec": STANDARD.to_dict(),
    }
    text = json.dumps(report, indent=1)
    (out / "bench_export.json").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

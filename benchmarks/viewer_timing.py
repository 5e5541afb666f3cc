"""The viewer's two speed bars (issue 14), measured in Debian's chromium, reported not asserted:

- time to first frame: from navigation to the first frame drawn, opening a trace folder with
  ``axis view`` (bar: <= 1.5 s for a traced 1080p shot of 240 frames);
- frame stepping: frames displayed per second while stepping with the arrow key, each step
  waiting until its frame is drawn, frames fetched on demand (bar: >= 20 fps).

    .venv/bin/python benchmarks/viewer_timing.py OUTDIR [--steps 100] [--runs 3]

Trace the shot first, e.g.
``axis sample --standard /tmp/v/clip.mp4 && axis trace /tmp/v/clip.mp4 -o /tmp/v/trace``.
Prints one JSON object. The browser is ``AXIS_CHROMIUM`` (default /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("AXIS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

FIRST_DRAWN = "window.axisViewer && window.axisViewer.state.drawnFrame === 0"
# Steps with the arrow key as a person does, each time waiting for the frame to be drawn
# (checked once per display frame), from a cold cache: every frame is fetched.
STEP_SCRIPT = """async ([n, mode]) => {
  const v = window.axisViewer;
  document.getElementById('mode').value = mode;
  document.getElementById('mode').dispatchEvent(new Event('change'));
  const start = v.state.drawnFrame;
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    window.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}));
    while (v.state.drawnFrame !== start + i) await new Promise(r => requestAnimationFrame(r));
  }
  return n / ((performance.now() - t0) / 1000);
}"""


def measure(outdir: Path, steps: int, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    process = subprocess.Popen(
        [sys.executable, "-m", "talos.cli", "view", str(outdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise SystemExit(f"axis view did not start: {url!r}")
        first: list[float] = []
        rates: dict[str, list[float]] = {"strokes": [], "video": []}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for _ in range(runs):
                ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
                page = ctx.new_page()
                page.goto(url)
                page.wait_for_function(
                    "window.axisViewer && window.axisViewer.state.drawnFrame === 0"
                )
                first.append(page.evaluate("window.axisViewer.state.firstFrameMs"))
                page.wait_for_function("window.axisViewer.state.sourceReady", timeout=30_000)
                frames = page.evaluate("window.axisViewer.state.frameCount")
                n = min(steps, (frames - 1) // 2)
                for mode in rates:
                    rates[mode].append(page.evaluate(STEP_SCRIPT, [n, mode]))
                ctx.close()
            browser.close()
        manifest = json.loads((outdir / "lines.json").read_text())
        return {
            "outdir": str(outdir),
            "frame_size": manifest["frame_size"],
            "frames": len(manifest["frames"]),
            "strokes_per_frame": statistics.mean(f["stroke_count"] for f in manifest["frames"]),
            "first_frame_ms": {"median": statistics.median(first), "runs": first},
            "step_fps": {m: {"median": statistics.median(r), "runs": r} for m, r in rates.items()},
            "steps_per_run": n,
            "bars": {"first_frame_ms": 1500, "step_fps": 20},
        }
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.outdir, args.steps, args.runs), indent=1))


if __name__ == "__main__":
    main()

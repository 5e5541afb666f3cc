"""``axis view OUTDIR``: a CLI trace folder in the browser (read-only), and its bad input."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.processes import AXIS, assert_clean_failure, clean_env, run_axis, stop
from tests.viewer.conftest import screenshot, viewer_state, wait_state, wait_until

pytestmark = pytest.mark.e2e
# read at import: tests/conftest.py removes every AXIS_* variable while a test runs
BENCH_DIR = os.environ.get("AXIS_VIEWER_BENCH_DIR")


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from talos.axis.io.scenes import generate_scene

    base = tmp_path_factory.mktemp("view")
    # a cartoon: its tracks split and merge, which the life panel shows
    generate_scene(base / "clip.mp4", "cel", width=256, height=144, frames=8, seed=1)
    # traced in this process (the folder `axis trace` writes; the CLI itself is tested
    # elsewhere): it saves a Python start
    from talos.axis.api import trace_video
    from talos.config import Settings

    trace_video(base / "clip.mp4", base / "my shot", Settings(processing={"workers": 1}))
    return base / "my shot"


@pytest.fixture(scope="module")
def view_url(traced: Path) -> Iterator[str]:
    """``axis view`` started as a process; the URL it prints on its first line."""
    process = subprocess.Popen(
        [*AXIS, "view", str(traced)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), (url, process.stderr and process.stderr.read())
        yield url
    finally:
        stop(process)


def select_a_track_with_a_family(page: Any, traced: Path) -> None:
    """Click a stroke of frame 0 whose track split or merged; the life panel lists the
    other tracks as links, and a link selects that track."""
    import json

    from tests.viewer.test_viewer import click_frame, on_curve

    tracks = {t["stroke_id"]: t for t in json.loads((traced / "lines.json").read_text())["tracks"]}
    strokes = json.loads((traced / "frames" / "000000.json").read_text())["strokes"]
    for stroke in strokes:
        track = tracks.get(stroke["stroke_id"], {})
        family = track.get("parents", []) + track.get("children", [])
        if not family:
            continue
        click_frame(page, *on_curve(stroke))
        if viewer_state(page)["selected"] != stroke["stroke_id"]:
            continue  # another stroke lies nearer that point
        links = page.eval_on_selector_all("#track-family a", "as => as.map(a => +a.dataset.track)")
        piece_of = [track["split_from"]] if track.get("split_from") is not None else []
        assert set(links) == set(family + piece_of), (links, track)
        page.click(f"#track-family a[data-track='{family[0]}']")
        wait_until(page, f"s.selected === {family[0]}")
        return
    raise AssertionError("no stroke of frame 0 with a split or merge could be clicked")


def test_axis_view_serves_the_folder_read_only(view_url: str, browser: Any, traced: Path) -> None:
    assert view_url.endswith("/viewer/#/job/my_shot")  # the folder's name, made an id
    ctx = browser.new_context(viewport={"width": 1100, "height": 800})
    try:
        page = ctx.new_page()
        page.goto(view_url)
        wait_state(page, "ready")
        s = viewer_state(page)
        assert s["jobId"] == "my_shot" and s["drawnFrame"] == 0 and s["frameCount"] == 8
        wait_until(page, "s.sourceReady")  # the traced video, found through lines.json
        assert page.is_disabled("#edit-toggle")
        page.keyboard.press("e")
        wait_until(page, "!s.edit && s.message.includes('read-only')")
        page.wait_for_function("document.getElementById('strip-metric').options.length > 2")
        select_a_track_with_a_family(page, traced)
        screenshot(page, "axis-view-track-family")
        page.goto(view_url.split("#")[0] + "#/")
        wait_state(page, "ready")
        assert page.eval_on_selector_all("#job-rows tr", "rs => rs.map(r => r.dataset.job)") == [
            "my_shot"
        ]
    finally:
        ctx.close()


def test_axis_view_bad_folder_and_port(tmp_path: Path, traced: Path) -> None:
    assert_clean_failure(run_axis("view", str(tmp_path)), "has no lines.json")
    assert_clean_failure(run_axis("view", str(traced), "--port", "70000"), "--port")


def test_timing_script_on_a_traced_shot(traced: Path) -> None:
    """benchmarks/viewer_timing.py end to end: a few steps on the small folder, or, with
    ``AXIS_VIEWER_BENCH_DIR=OUTDIR`` (e.g. a traced 1080p shot of 240 frames), the full
    measurement there, printed and kept in out/test-artifacts/viewer/ (reported, not
    asserted: README, "The viewer, measured")."""
    import json
    import sys

    from tests.helpers.processes import REPO_ROOT
    from tests.viewer.conftest import ARTIFACTS

    script = REPO_ROOT / "benchmarks" / "viewer_timing.py"
    bench_dir = BENCH_DIR
    args = [bench_dir, "--runs", "3"] if bench_dir else [str(traced), "--steps", "3", "--runs", "1"]
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    if bench_dir:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timing-bench.json").write_text(result.stdout)
        print(f"viewer timing on {bench_dir}: {json.dumps(report)}")
        return
    assert report["frames"] == 8 and report["first_frame_ms"]["median"] > 0
    assert report["step_fps"]["strokes"]["median"] > 0

"""The library API, ``talos.axis.trace``: the README's example runs, frames stream without
files, overrides reach the settings, and a traced folder reads back as what was streamed."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

import talos.axis
from talos.axis import Settings, TracedClip, trace
from talos.axis.api import settings_with
from talos.axis.errors import InputError
from talos.axis.io.sample import generate_sample

REPO_ROOT = Path(__file__).resolve().parents[1]
ONE_PROCESS = {"processing": {"workers": 1, "max_frames": 5}}  # no pool in the test process


def _readme_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README's Python API section has no python code block"
    return match.group(1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api") / "clip.mp4"
    generate_sample(path, width=160, height=120, frames=6)
    return path


@pytest.mark.slow
def test_the_readme_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "example.py"
    script.write_text(_readme_example())
    runpy.run_path(str(script), run_name="__main__")
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[:8]] == [str(i) for i in range(8)]
    assert printed[8].startswith("SSIM ") and "tracks" in printed[8]
    assert printed[9].endswith("8 frames read back")
    assert (tmp_path / "out" / "clip" / "lines.json").is_file()


def test_the_front_door_names_what_a_user_needs() -> None:
    for name in talos.axis.__all__:
        assert getattr(talos.axis, name) is not None
    assert talos.axis.Settings is Settings and talos.axis.trace is trace
    with pytest.raises(AttributeError):
        _ = talos.axis.no_such_name


def test_overrides_are_nested_or_dotted_and_change_only_what_they_name() -> None:
    base = Settings(edges={"xdog_sigma": 2.0})
    nested = settings_with(base, {"edges": {"strategy": "xdog"}})
    dotted = settings_with(base, {"edges.strategy": "xdog", "processing.max_frames": 3})
    for changed in (nested, dotted):
        assert changed.edges.strategy == "xdog" and changed.edges.xdog_sigma == 2.0
    assert dotted.processing.max_frames == 3 and base.edges.strategy == "auto"
    with pytest.raises(ValidationError):
        settings_with(base, {"edges.no_such_key": 1})
    with pytest.raises(ValidationError):
        settings_with(base, {"edges": {"xdog_k": 0.5}})


def test_a_missing_video_fails_at_the_call() -> None:
    with pytest.raises(InputError, match="input not found"):
        trace("no/such/clip.mp4")


def test_frames_stream_without_files_and_match_a_written_trace(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    streamed = trace(clip, edges={"strategy": "xdog"}, **ONE_PROCESS)
    frames = list(streamed)
    assert os.listdir(tmp_path) == []  # nothing written
    assert [f.index for f in frames] == list(range(5)) and all(f.strokes for f in frames)
    with pytest.raises(RuntimeError, match="once"):
        list(streamed)
    assert streamed.metrics["frames"] == 5 and streamed.tracks
    assert streamed.line_extraction["strategy"] == "xdog"

    written = trace(clip, tmp_path / "out", edges={"strategy": "xdog"}, **ONE_PROCESS)
    assert (tmp_path / "out" / "lines.json").is_file()
    read_back = list(written)
    assert len(list(written)) == len(read_back)  # the files can be read again
    assert [t["stroke_id"] for t in written.tracks] == [t["stroke_id"] for t in streamed.tracks]
    for mine, theirs in zip(frames, read_back, strict=True):
        assert [s.stroke_id for s in mine.strokes] == [s.stroke_id for s in theirs.strokes]
        for a, b in zip(mine.strokes, theirs.strokes, strict=True):
            np.testing.assert_allclose(a.control_points, b.control_points, atol=0.006)


def test_results_trace_the_rest_first_and_need_the_last_frame(clip: Path) -> None:
    untouched = trace(clip, edges={"strategy": "xdog"}, **ONE_PROCESS)
    assert isinstance(untouched, TracedClip) and untouched.metrics["frames"] == 5

    left_early = trace(clip, edges={"strategy": "xdog"}, **ONE_PROCESS)
    for frame in left_early:
        if frame.index == 1:
            break
    with pytest.raises(RuntimeError, match="last frame"):
        _ = left_early.tracks

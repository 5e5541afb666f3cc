from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.processes import assert_clean_failure, run_axis

from talos.axis.io.sample import generate_sample, ground_truth_path


def test_sample_is_deterministic(tmp_path: Path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    generate_sample(a, 160, 120, frames=6, seed=9)
    generate_sample(b, 160, 120, frames=6, seed=9)
    assert a.read_bytes() == b.read_bytes()
    assert ground_truth_path(a).read_bytes() == ground_truth_path(b).read_bytes()
    generate_sample(b, 160, 120, frames=6, seed=10)
    assert a.read_bytes() != b.read_bytes()


def test_ground_truth_describes_every_line_every_frame(sample_clip: Path):
    truth = json.loads(ground_truth_path(sample_clip).read_text())
    assert (truth["width"], truth["height"], truth["frames"]) == (320, 240, 16)
    ids = [line["id"] for line in truth["lines"]]
    assert len(ids) == len(set(ids)) == 8
    assert len(truth["frame_truth"]) == 16
    kinds = {line["id"]: line["kind"] for line in truth["lines"]}
    for frame in truth["frame_truth"]:
        assert [e["id"] for e in frame["lines"]] == ids
        for entry in frame["lines"]:
            pts = np.array(entry["points"])
            assert pts.shape[1] == 2 and len(pts) >= 10
            if kinds[entry["id"]] == "circle":
                d = np.linalg.norm(pts - entry["center"], axis=1)
                np.testing.assert_allclose(d, entry["radius"], atol=0.05)
            if kinds[entry["id"]] == "triangle":
                assert len(entry["vertices"]) == 3
    first = np.array(truth["frame_truth"][0]["lines"][0]["points"])
    last = np.array(truth["frame_truth"][-1]["lines"][0]["points"])
    assert np.abs(first - last).max() > 1.0, "shapes move"


@pytest.mark.e2e
def test_sample_cli(tmp_path: Path):
    out = tmp_path / "c.mp4"
    result = run_axis("sample", str(out), "--width", "64", "--height", "48", "--frames", "3")
    assert result.returncode == 0, result.stderr
    assert out.is_file() and (tmp_path / "c.gt.json").is_file()
    result = run_axis("sample", str(out), "--width", "63", "--height", "48")
    assert_clean_failure(result, "even")

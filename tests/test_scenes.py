from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from talos.axis.io.sample import generate_sample, ground_truth_path
from talos.axis.io.scenes import generate_scene, truth_map
from talos.axis.io.scenes.geometry import frame_geometry, frame_truth, inside, offset_polygon
from talos.axis.io.scenes.model import build_scene
from talos.cli import main

W, H, FRAMES = 320, 240, 12


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """A realistic and a cel clip, 320 x 240, 12 frames, seed 0 (known to occlude)."""
    root = tmp_path_factory.mktemp("scenes")
    out = {}
    for scene in ("realistic", "cel"):
        video = root / f"{scene}.mp4"
        gt = generate_scene(video, scene, W, H, FRAMES, seed=0)
        out[scene] = (video, json.loads(gt.read_text()))
    return out


def _decoded(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


def test_same_arguments_same_bytes(tmp_path: Path):
    a, b, c = tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"
    generate_scene(a, "realistic", 160, 120, frames=4, seed=5)
    generate_scene(b, "realistic", 160, 120, frames=4, seed=5)
    generate_scene(c, "realistic", 160, 120, frames=4, seed=6)
    assert a.read_bytes() == b.read_bytes()
    assert ground_truth_path(a).read_bytes() == ground_truth_path(b).read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_lines_scene_is_the_sample_clip(tmp_path: Path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    generate_scene(a, "lines", 160, 120, frames=3, seed=2)
    generate_sample(b, 160, 120, frames=3, seed=2)
    assert a.read_bytes() == b.read_bytes()
    truth = json.loads(ground_truth_path(a).read_text())
    m = truth_map(truth, 1)
    assert m.shape == (120, 160) and m.dtype == np.uint16
    assert set(np.unique(m)) - {0} <= {line["id"] + 1 for line in truth["lines"]}


@pytest.mark.parametrize("scene", ["realistic", "cel"])
def test_ground_truth_format(clips, scene):
    video, truth = clips[scene]
    assert truth["scene"] == scene
    assert (truth["width"], truth["height"], truth["frames"], truth["seed"]) == (W, H, FRAMES, 0)
    declared = {line["id"]: line for line in truth["lines"]}
    assert len(declared) == len(truth["lines"])  # ids unique
    kinds = {line["kind"] for line in truth["lines"]}
    assert {"silhouette", "eye", "pupil", "crease"} <= kinds
    assert ("shadow" in kinds) == (scene == "cel")
    assert [f["index"] for f in truth["frame_truth"]] == list(range(FRAMES))
    seen: Counter[int] = Counter()
    for frame in truth["frame_truth"]:
        assert frame["lines"], "every frame has true lines"
        for entry in frame["lines"]:
            assert entry["id"] in declared
            pts = np.asarray(entry["points"])
            assert pts.ndim == 2 and pts.shape[1] == 2 and len(pts) >= 2
            assert pts.min() >= 0 and (pts[:, 0] <= W - 1).all() and (pts[:, 1] <= H - 1).all()
            if entry["closed"]:
                assert declared[entry["id"]]["closed"]
        seen.update({e["id"] for e in frame["lines"]})
    # ids are stable: most lines are seen in most frames, under the same id
    silhouettes = [i for i, line in declared.items() if line["kind"] == "silhouette"]
    assert 5 <= len(silhouettes) <= 9
    assert sum(seen[i] == FRAMES for i in silhouettes) >= 4
    assert len(_decoded(video)) == FRAMES


@pytest.mark.parametrize("scene", ["realistic", "cel"])
def test_truth_lies_on_image_boundaries(clips, scene):
    video, truth = clips[scene]
    images = _decoded(video)
    for index in (0, FRAMES // 2, FRAMES - 1):
        gray = cv2.GaussianBlur(images[index].astype(np.float32), (0, 0), 0.7)
        mag = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        on = cv2.dilate((truth_map(truth, index) > 0).astype(np.uint8), np.ones((3, 3))) > 0
        shifted = np.roll(on, 5, axis=1) & ~on  # the same lines 5 px off
        assert mag[on].mean() > 2.0 * mag.mean()
        assert mag[on].mean() > 2.0 * mag[shifted].mean()


def test_occlusion_splits_and_hides_lines(clips):
    _, truth = clips["realistic"]
    counts = [Counter(e["id"] for e in f["lines"]) for f in truth["frame_truth"]]
    assert any(n >= 2 for c in counts for n in c.values()), "a line split into pieces"
    seen = Counter(i for c in counts for i in c)
    assert any(0 < n < FRAMES for n in seen.values()), "a line hidden in some frames only"
    for frame in truth["frame_truth"]:
        by_id = Counter(e["id"] for e in frame["lines"])
        for entry in frame["lines"]:
            if by_id[entry["id"]] > 1:
                assert not entry["closed"]


@pytest.mark.parametrize("scene", ["realistic", "cel"])
def test_visible_lines_are_not_under_bodies_in_front(scene):
    spec = build_scene(scene, W, H, 0)
    for t in (0.0, 0.25, 0.5):
        geometry = frame_geometry(spec, t)
        owner = {}
        for z, item in enumerate(geometry):
            for part, _ in item["lines"]:
                owner[part.line_id] = z
        for entry in frame_truth(spec, geometry):
            pts = np.asarray(entry["points"])
            inner = pts[1:-1] if len(pts) > 2 else pts  # cut points lie on the boundary
            for item in geometry[owner[entry["id"]] + 1 :]:
                front = offset_polygon(item["lines"][0][1], -0.05)
                assert not inside(inner, front).any()


def posed_gap(truth: dict) -> float:
    """The farthest any visible true point lies from its line's unit points under the
    frame's pose (px); asserts every line has a pose in every frame."""
    units = {line["id"]: np.asarray(line["unit"], np.float64) for line in truth["lines"]}
    # a shadow boundary is an open arc cut from a closed outline (the lit region's)
    closed = {line["id"]: line["closed"] or line["kind"] == "shadow" for line in truth["lines"]}
    gap = 0.0
    for frame in truth["frame_truth"]:
        assert {int(k) for k in frame["poses"]} == set(units), "a pose for every line"
        assert len(frame["camera"]) == 6
        for entry in frame["lines"]:
            pose = np.asarray(frame["poses"][str(entry["id"])], np.float64).reshape(2, 3)
            line = units[entry["id"]] @ pose[:, :2].T + pose[:, 2]
            if closed[entry["id"]]:
                line = np.vstack([line, line[:1]])
            a, d = line[:-1], np.diff(line, axis=0)
            w = np.asarray(entry["points"], np.float64)[:, None] - a[None]
            s = np.clip((w * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0.0, 1.0)
            gap = max(gap, float(np.linalg.norm(w - s[..., None] * d, axis=-1).min(1).max()))
    return gap


@pytest.mark.parametrize("scene", ["realistic", "cel"])
def test_poses_reproduce_the_truth(clips, scene):
    _, truth = clips[scene]
    assert posed_gap(truth) < 0.02  # points are rounded to 0.01 px, poses to 6 digits
    shadows = [line["id"] for line in truth["lines"] if line["kind"] == "shadow"]
    assert bool(shadows) == (scene == "cel")  # shadow boundaries are posed too
    # the camera zooms and pans: not the identity, and the same for every line of no body
    cameras = np.array([f["camera"] for f in truth["frame_truth"]])
    assert np.ptp(cameras, axis=0).max() > 0.5


def test_lines_scene_poses_are_the_shapes_similarities(tmp_path: Path):
    gt = generate_scene(tmp_path / "l.mp4", "lines", 160, 120, frames=3, seed=2)
    truth = json.loads(gt.read_text())
    assert posed_gap(truth) < 0.02
    for frame in truth["frame_truth"]:
        assert frame["camera"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # drawn lines: no camera
        for a, b, _, c, d, _ in frame["poses"].values():
            assert a == pytest.approx(d) and b == pytest.approx(-c)  # rotation and scale


def test_truth_map(clips):
    _, truth = clips["cel"]
    m = truth_map(truth, 3)
    assert m.shape == (H, W) and m.dtype == np.uint16
    ids = {e["id"] + 1 for e in truth["frame_truth"][3]["lines"]}
    assert set(np.unique(m)) - {0} <= ids
    assert len(set(np.unique(m)) - {0}) >= 0.8 * len(ids)
    assert 0 < np.count_nonzero(m) < 0.2 * m.size
    big = truth_map(truth, 3, shape=(2 * H, 2 * W))
    assert big.shape == (2 * H, 2 * W)
    assert np.count_nonzero(big) > 1.5 * np.count_nonzero(m)
    with pytest.raises(ValueError, match="frame index"):
        truth_map(truth, FRAMES)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scene": "anime"}, "unknown scene"),
        ({"width": 321}, "even"),
        ({"height": 20}, "at least"),
        ({"frames": 0}, "frames"),
        ({"fps": 0}, "fps"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs, message):
    args = {"scene": "realistic", "width": W, "height": H, "frames": 2} | kwargs
    with pytest.raises(ValueError, match=message):
        generate_scene(tmp_path / "x.mp4", **args)
    assert not (tmp_path / "x.mp4").exists()


def test_cli_scene(tmp_path: Path, capsys):
    out = tmp_path / "c.mp4"
    args = ["sample", str(out), "--scene", "cel", "--width", "128", "--height", "96"]
    assert main([*args, "--frames", "2", "--seed", "3"]) == 0
    assert capsys.readouterr().out.split() == [str(out), str(ground_truth_path(out))]
    assert json.loads(ground_truth_path(out).read_text())["scene"] == "cel"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--scene", "realistic", "--width", "33"], "even"),
        (["--scene", "cel", "--frames", "0"], "frames"),
        (["--scene", "cel", "--shapes", "3"], "--shapes"),
        (["--scene", "realistic", "--standard"], "--standard"),
    ],
)
def test_cli_bad_input(tmp_path: Path, capsys, extra, needle):
    assert main(["sample", str(tmp_path / "x.mp4"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("axis: error:") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "x.mp4").exists()

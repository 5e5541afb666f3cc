"""The tangle scene: drawn lines that cross at shallow angles, leave the frame and come
back, and pass under a paper card; its ground truth cuts them where they are hidden."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from tests.test_scenes import posed_gap

from talos.axis.io.sample import ground_truth_path
from talos.axis.io.scenes import SCENES, generate_scene, truth_map
from talos.axis.io.scenes.geometry import offset_polygon
from talos.axis.io.tangle import build_tangle, strand_pose
from talos.cli import main

W, H, FRAMES = 320, 180, 24  # 24 frames at 24 fps: one period of the leaving ellipse


@pytest.fixture(scope="module")
def tangle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    video = tmp_path_factory.mktemp("tangle") / "tangle.mp4"
    gt = generate_scene(video, "tangle", W, H, FRAMES, seed=3)
    return video, json.loads(gt.read_text())


def _segments(entry: dict) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(entry["points"], np.float64)
    if entry["closed"]:
        p = np.vstack([p, p[:1]])
    return p[:-1], p[1:]


def crossings(frame: dict) -> list[tuple[int, int, float]]:
    """``(id, id, angle in degrees)`` of every point where two lines' pieces cross."""
    found = []
    entries = frame["lines"]
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if a["id"] == b["id"]:
                continue
            (a0, a1), (b0, b1) = _segments(a), _segments(b)
            d, e = a1 - a0, b1 - b0
            den = d[:, None, 0] * e[None, :, 1] - d[:, None, 1] * e[None, :, 0]
            w = b0[None] - a0[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                s = (w[..., 0] * e[None, :, 1] - w[..., 1] * e[None, :, 0]) / den
                u = (w[..., 0] * d[:, None, 1] - w[..., 1] * d[:, None, 0]) / den
            hit = (den != 0) & (s >= 0) & (s <= 1) & (u >= 0) & (u <= 1)
            for k, m in zip(*np.nonzero(hit), strict=True):
                cos = abs(d[k] @ e[m]) / (np.linalg.norm(d[k]) * np.linalg.norm(e[m]))
                found.append((a["id"], b["id"], float(np.degrees(np.arccos(min(cos, 1.0))))))
    return found


def test_tangle_is_a_scene(tmp_path: Path):
    assert "tangle" in SCENES
    a, b, c = tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "c.mp4"
    generate_scene(a, "tangle", 160, 120, frames=3, seed=5)
    generate_scene(b, "tangle", 160, 120, frames=3, seed=5)
    generate_scene(c, "tangle", 160, 120, frames=3, seed=6)
    assert a.read_bytes() == b.read_bytes()
    assert ground_truth_path(a).read_bytes() == ground_truth_path(b).read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_ground_truth_format(tangle):
    video, truth = tangle
    assert truth["scene"] == "tangle"
    assert (truth["width"], truth["height"], truth["frames"], truth["fps"]) == (W, H, FRAMES, 24)
    declared = {line["id"]: line for line in truth["lines"]}
    assert len(declared) == len(truth["lines"]) and 8 <= len(declared) <= 12
    kinds = Counter(line["kind"] for line in truth["lines"])
    assert {"line", "wave", "curve", "ellipse", "blob"} <= set(kinds) and kinds["occluder"] == 1
    widths = [line["width"] for line in truth["lines"] if line["kind"] != "occluder"]
    assert min(widths) >= 1.5 and max(widths) <= 5.0 * H / 720 + 0.5
    for frame in truth["frame_truth"]:
        for entry in frame["lines"]:
            pts = np.asarray(entry["points"])
            assert len(pts) >= 2 and pts.min() >= 0
            assert (pts[:, 0] <= W - 1).all() and (pts[:, 1] <= H - 1).all()
            assert not entry["closed"] or declared[entry["id"]]["closed"]
        assert frame["camera"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert posed_gap(truth) < 0.02  # every visible point lies on its posed unit line
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == FRAMES


def test_lines_cross_several_times_and_some_at_shallow_angles(tangle):
    _, truth = tangle
    shallow = 0
    for frame in truth["frame_truth"]:
        found = crossings(frame)
        assert len(found) >= 4, f"frame {frame['index']}: {found}"
        shallow += any(15 <= angle <= 35 for *_, angle in found)
    assert shallow == FRAMES  # a shallow crossing in every frame
    # the crossing of the two long straight lines slides along them
    lines = [s for s in build_tangle(W, H, 3) if s.kind == "line"]
    assert len(lines) == 2
    where = []
    for t in (0.0, 0.5, 1.0):
        (a, b), (c, d) = [strand_pose(s, t)[:2] @ [[-1, 1], [0, 0], [1, 1]] for s in lines]
        # solve a + s (b - a) = c + u (d - c)
        s, _ = np.linalg.solve(np.stack([b - a, c - d], 1), c - a)
        where.append(a + s * (b - a))
    assert max(np.linalg.norm(p - where[0]) for p in where[1:]) > 0.1 * W


def test_the_card_hides_the_middle_of_lines(tangle):
    _, truth = tangle
    card = next(line for line in truth["lines"] if line["kind"] == "occluder")
    unit = np.asarray(card["unit"], np.float64)
    split = 0
    for frame in truth["frame_truth"]:
        pieces = Counter(e["id"] for e in frame["lines"])
        split_ids = [i for i, n in pieces.items() if n >= 2 and i != card["id"]]
        split += bool(split_ids)
        pose = np.asarray(frame["poses"][str(card["id"])]).reshape(2, 3)
        outline = offset_polygon(unit @ pose[:, :2].T + pose[:, 2], card["width"] / 2)
        for entry in frame["lines"]:
            if entry["id"] not in split_ids:
                continue
            line = truth["lines"][entry["id"]]
            own = np.asarray(frame["poses"][str(entry["id"])]).reshape(2, 3)
            tips = np.asarray(line["unit"])[[0, -1]] @ own[:, :2].T + own[:, 2]
            for end in np.asarray(entry["points"])[[0, -1]]:
                at_tip = not line["closed"] and np.linalg.norm(tips - end, axis=1).min() < 0.05
                if 0.5 < end[0] < W - 1.5 and 0.5 < end[1] < H - 1.5 and not at_tip:
                    # a cut lies on the outer edge of the card's ink
                    contour = outline.astype(np.float32).reshape(-1, 1, 2)
                    gap = abs(cv2.pointPolygonTest(contour, tuple(map(float, end)), True))
                    assert gap < 0.05, (frame["index"], entry["id"], gap)
    assert split >= FRAMES // 2, "lines split in two by the card in most frames"


def test_a_line_leaves_the_frame_and_comes_back(tangle):
    _, truth = tangle
    present = {line["id"]: [] for line in truth["lines"]}
    for frame in truth["frame_truth"]:
        seen = {e["id"] for e in frame["lines"]}
        for line_id, history in present.items():
            history.append(line_id in seen)
    back = [i for i, h in present.items() if h[0] and not all(h) and h[-1] and h.index(False) > 0]
    assert back, "a line present, then absent, then present again"


def test_the_ink_lies_on_the_truth(tangle):
    video, truth = tangle
    with av.open(str(video)) as container:
        grays = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    for index in (0, FRAMES // 2, FRAMES - 1):
        gray = grays[index].astype(np.float32)
        on = truth_map(truth, index) > 0
        off = np.roll(on, 4, axis=0) & ~cv2.dilate(on.astype(np.uint8), np.ones((5, 5))) > 0
        paper = np.median(gray)
        assert np.mean(gray[on] < paper - 60) > 0.9  # the truth runs through ink
        assert np.mean(gray[off] < paper - 60) < 0.2  # 4 px away is paper, mostly


def test_cli_tangle_and_bad_input(tmp_path: Path, capsys):
    out = tmp_path / "t.mp4"
    assert main(["sample", str(out), "--scene", "tangle", "--width", "96", "--height", "64",
                 "--frames", "2"]) == 0  # fmt: skip
    assert capsys.readouterr().out.split() == [str(out), str(ground_truth_path(out))]
    assert json.loads(ground_truth_path(out).read_text())["scene"] == "tangle"
    for extra, needle in ((["--shapes", "3"], "--shapes"), (["--height", "40"], "at least")):
        assert main(["sample", str(tmp_path / "x.mp4"), "--scene", "tangle", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("axis: error:") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "x.mp4").exists()
    with pytest.raises(ValueError, match="even"):
        generate_scene(tmp_path / "y.mp4", "tangle", 101, 64, frames=1)

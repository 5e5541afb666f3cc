"""Temporal stability measures (boiling): temporal F against a reference flow (DIS medium) of
the source and, with ground truth, against the true motion; the raw line map baseline,
ink-weighted track length, id carry-over, the per-line identity rates, ``axis evaluate``'s
temporal section and ``axis bench temporal``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.processes import assert_clean_failure, run_axis

from talos.axis.api import trace_video
from talos.axis.evaluation.flow_maps import (
    TemporalScore,
    densify,
    move_pixels,
    move_polylines,
    reference_flow,
    trusted_pixels,
)
from talos.axis.evaluation.identity import EvaluationError, evaluate_identity
from talos.axis.evaluation.temporal import evaluate_temporal, trace_without_tracking
from talos.axis.evaluation.temporal_ids import (
    IdentityInk,
    ShapeWobble,
    arc_lengths,
    frame_ids,
    weighted_median,
)
from talos.axis.io.sample import ground_truth_path
from talos.axis.io.scenes import generate_scene
from talos.config import Settings

W, H = 320, 240
FRAMES = 8
SETTINGS = Settings(processing={"workers": 1})


def _drawing(width: int, height: int, seed: int) -> np.ndarray:
    """A BGR line drawing: dark curves and circles on light, gently textured paper."""
    rng = np.random.default_rng(seed)
    paper = 225 + rng.normal(0, 6, (height, width)).astype(np.float32)
    image = cv2.cvtColor(
        np.clip(cv2.GaussianBlur(paper, (0, 0), 2), 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR
    )
    for _ in range(6):
        pts = rng.uniform([20, 20], [width - 20, height - 20], (4, 2))
        t = np.linspace(0, 1, 60)[:, None]
        curve = (1 - t) ** 3 * pts[0] + 3 * (1 - t) ** 2 * t * pts[1]
        curve += 3 * (1 - t) * t**2 * pts[2] + t**3 * pts[3]
        cv2.polylines(
            image, [np.round(curve).astype(np.int32)], False, (30, 30, 30), 3, cv2.LINE_AA
        )
    for _ in range(3):
        center = tuple(int(v) for v in rng.uniform([40, 40], [width - 40, height - 40]))
        cv2.circle(image, center, int(rng.uniform(12, 30)), (30, 30, 30), 3, cv2.LINE_AA)
    return image


def _image_folder(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), frame)
    return folder


@pytest.fixture(scope="module")
def lines_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clip = tmp_path_factory.mktemp("temporal-clips") / "lines.mp4"
    generate_scene(clip, "lines", W, H, FRAMES, seed=7)
    return clip


@pytest.fixture(scope="module")
def traces(lines_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("temporal-traces")
    tracked = trace_video(lines_clip, out / "on", SETTINGS).output_dir
    return tracked, trace_without_tracking(lines_clip, out / "off", SETTINGS)


# --- building blocks ---------------------------------------------------------------------


def test_densify_keeps_the_points_and_bounds_the_spacing():
    line = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 3.5]])
    square = np.array([[20.0, 20.0], [25.0, 20.0], [25.0, 25.0], [20.0, 25.0]])
    dense, sizes = densify([(line, False), (square, True), (np.zeros((0, 2)), False)], 1.0)
    assert sizes.tolist() == [15, 21]  # 10 + 4 pieces + end; 4 sides of 5 + the closing point
    first, second = dense[:15], dense[15:]
    for piece, original in ((first, line), (second, np.vstack([square, square[:1]]))):
        assert np.hypot(*np.diff(piece, axis=0).T).max() <= 1.0 + 1e-9
        assert all(np.isclose(piece, p).all(axis=1).any() for p in original)
    np.testing.assert_allclose(arc_lengths([(line, False), (square, True)]), [13.5, 20.0])
    assert arc_lengths([(np.array([[1.0, 1.0]]), False)]).tolist() == [0.0]
    assert densify([])[0].shape == (0, 2)


def test_weighted_median_is_the_half_ink_point():
    assert weighted_median(np.array([1, 8, 8]), np.array([100.0, 60.0, 50.0])) == 8
    assert weighted_median(np.array([1, 8]), np.array([100.0, 10.0])) == 1
    assert weighted_median(np.array([3]), np.array([0.0])) is None


def test_moving_maps_and_polylines_by_a_constant_flow():
    flow = np.zeros((40, 60, 2), np.float32)
    flow[..., 0], flow[..., 1] = 3.0, -2.0
    mask = np.zeros((40, 60), bool)
    mask[20, 10:30] = True
    mask[20, 59] = True  # moves off the image: dropped
    moved = move_pixels(mask, flow)
    assert moved.sum() == 20 and moved[18, 13:33].all()
    ((line, closed),) = move_polylines([(np.array([[5.0, 5.0], [15.0, 5.0]]), False)], flow)
    assert not closed and len(line) == 11
    np.testing.assert_allclose(line[[0, -1]], [[8.0, 3.0], [18.0, 3.0]])


def test_reference_flow_finds_a_shift_and_is_zero_on_a_still_pair():
    image = _drawing(W, H, seed=1)
    shifted = np.ascontiguousarray(np.roll(image, 4, axis=1))
    flow = reference_flow(image, shifted)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32
    ink = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[:, 8:-8] < 128
    assert np.median(flow[:, 8:-8, 0][ink]) == pytest.approx(4.0, abs=0.2)
    assert np.abs(flow[:, 8:-8][ink] - [4.0, 0.0]).max() < 1.0  # on every ink pixel
    assert np.abs(reference_flow(image, image)).max() < 0.01  # far below 1 px
    assert not reference_flow(image[:8, :8], image[:8, :8]).any()
    np.testing.assert_array_equal(reference_flow(image, shifted), flow)  # deterministic
    with pytest.raises(ValueError, match="one size"):
        reference_flow(image, image[:-2])


def test_trusted_pixels_leave_out_what_the_last_frame_did_not_show():
    # A square 20 px wide moves 6 px right over a still background: the 6 px strip it
    # uncovers at its trailing edge was hidden in the last frame, and only there does the
    # round trip fail.
    h, w, step = 40, 60, 6.0
    forward = np.zeros((h, w, 2), np.float32)  # last frame -> this one, at last frame's px
    forward[10:30, 10:30, 0] = step
    backward = np.zeros((h, w, 2), np.float32)  # this frame -> the last one, at this one's
    backward[10:30, 16:36, 0] = -step
    trusted = trusted_pixels(forward, backward)
    expected = np.ones((h, w), bool)
    expected[10:30, 10:16] = False
    np.testing.assert_array_equal(trusted, expected)
    still = np.zeros((h, w, 2), np.float32)
    assert trusted_pixels(still, still).all()
    with pytest.raises(ValueError, match="differ"):
        trusted_pixels(still, still[:-1])


def test_the_consistent_f_counts_only_trusted_pixels():
    moved, current = np.zeros((40, 60), bool), np.zeros((40, 60), bool)
    moved[10, 5:25] = current[10, 5:25] = True  # a line that moved as the flow says
    current[30, 30:50] = True  # a line that the last frame did not show
    trusted = np.ones((40, 60), bool)
    trusted[25:35, 28:52] = False
    score = TemporalScore()
    score.add(moved, moved, current, trusted)
    scores = score.to_dict()
    assert scores["temporal_recall"] == 0.5 and scores["temporal_precision"] == 1.0
    assert scores["consistent_f"] == scores["consistent_recall"] == 1.0
    assert scores["pairs"] == 1
    untrusted_only = TemporalScore()
    untrusted_only.add(moved, moved, current)  # no mask: trusted everywhere
    assert untrusted_only.to_dict()["consistent_f"] == scores["temporal_f"]
    assert set(score.to_dict(flow=False)) == {
        "temporal_f",
        "temporal_precision",
        "temporal_recall",
        "pairs",
    }


def test_ids_outside_the_track_table_are_labels():
    frame = {
        "strokes": [{"stroke_id": 3, "bezier": [[0, 0]] * 4}, {"stroke_id": 9, "bezier": []}],
        "circles": [{"stroke_id": 4}, {}],
        "triangles": [{"stroke_id": 5}],
    }
    assert frame_ids(frame).tolist() == [3, 4, -1, 5]
    ids, ink = np.array([0, 1]), np.array([10.0, 30.0])
    tracked = IdentityInk({0: 4, 1: 2})
    for _ in range(2):
        tracked.add(ids, ink)
    assert tracked.to_dict() == {
        "ink_weighted_track_length": 2.0,
        "id_carry_over": 1.0,
        "tracks": 2,
    }
    labels = IdentityInk({})  # tracking off: the same ids 0, 1 every frame mean nothing
    labels.add(ids, ink)
    assert labels.to_dict()["id_carry_over"] is None  # one frame: nothing to carry over
    labels.add(ids, ink)
    assert labels.to_dict() == {
        "ink_weighted_track_length": 1.0,
        "id_carry_over": 0.0,
        "tracks": 0,
    }


def test_shape_wobble_takes_the_motion_out_and_counts_only_tracked_ids():
    t = np.linspace(0, 1, 80)
    wave = np.stack([200 * t, 20 * np.sin(6 * t)], 1)
    rng = np.random.default_rng(2)

    def moved(k: int, jitter: float = 0.0) -> np.ndarray:
        turn = 0.05 * k
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        bumps = jitter * np.sin(np.pi * t * rng.integers(2, 6))[:, None] * [0, 1]
        return (wave + bumps) @ rotation.T * (1 + 0.02 * k) + [30 + 7 * k, 50 - 3 * k]

    rigid, boiling, labels = ShapeWobble({7}), ShapeWobble({7}), ShapeWobble(set())
    for k in range(5):
        for wobble, line in ((rigid, moved(k)), (boiling, moved(k, 1.0)), (labels, moved(k, 1.0))):
            wobble.add(np.array([7]), [(line, False)], arc_lengths([(line, False)]))
    still = rigid.to_dict()
    assert still["shape_wobble_px"] < 0.05 and still["shape_still_share"] == 1.0
    wobbly = boiling.to_dict()
    assert wobbly["shape_wobble_px"] > 0.2 and wobbly["shape_still_share"] < 0.5
    assert labels.to_dict() == {"shape_wobble_px": None, "shape_still_share": None}


# --- whole traces ------------------------------------------------------------------------


def test_a_still_clip_scores_temporal_f_one_for_strokes_and_map(tmp_path):
    still = _image_folder(tmp_path / "still", [_drawing(W, H, seed=2)] * 5)
    out = trace_video(still, tmp_path / "o", SETTINGS).output_dir
    report = evaluate_temporal(out, SETTINGS)
    assert report["frames"] == 5 and report["pairs"] == 4
    # The reference flow on a still pair is ~1e-3 px: every point lands within the tolerance.
    assert report["temporal_f"] == 1.0 and report["unwarped_f"] == 1.0
    assert report["consistent_f"] == 1.0
    raw = report["raw_line_map"]
    assert raw["strategy"] == "xdog" and raw["pairs"] == 4
    assert raw["temporal_f"] == raw["consistent_f"] == 1.0
    assert report["ink_weighted_track_length"] == 5 and report["id_carry_over"] == 1.0


def test_the_moved_map_follows_a_translation_an_unwarped_one_does_not(tmp_path):
    step = 6  # px per frame, three times the tolerance
    world = _drawing(W + 6 * step, H, seed=3)
    frames = [np.ascontiguousarray(world[:, i * step : i * step + W]) for i in range(6)]
    out = trace_video(_image_folder(tmp_path / "pan", frames), tmp_path / "o", SETTINGS)
    report = evaluate_temporal(out.output_dir, SETTINGS)
    raw = report["raw_line_map"]
    assert report["temporal_f"] >= 0.9 and raw["temporal_f"] >= 0.9, report
    assert report["unwarped_f"] <= 0.6 and raw["unwarped_f"] <= 0.6, report
    assert report["temporal_f"] >= report["unwarped_f"] + 0.3
    # What comes into view at the right edge each frame was not in the last one: left out.
    assert report["consistent_recall"] >= report["temporal_recall"]
    assert raw["consistent_recall"] >= raw["temporal_recall"]


def test_tracking_on_carries_ids_over_and_tracking_off_does_not(traces, lines_clip):
    tracked, off = traces
    report = evaluate_temporal(tracked, SETTINGS, compare={"tracking_off": off})
    assert report["pairs"] == FRAMES - 1
    assert report["id_carry_over"] >= 0.95
    assert report["ink_weighted_track_length"] == FRAMES
    baseline = report["compare"]["tracking_off"]
    assert baseline["id_carry_over"] <= 0.05 and baseline["ink_weighted_track_length"] == 1
    assert baseline["tracks"] == 0 and baseline["temporal_f"] is not None
    assert report["temporal_f"] >= 0.9  # the drawn lines move slowly and smoothly

    assert "true_motion" not in report and "truth_under_flow" not in report  # no truth given
    truth = ground_truth_path(lines_clip)
    on_id, off_id = evaluate_identity(tracked, truth), evaluate_identity(off, truth)
    assert on_id["id_switches_per_line"] == 0 and on_id["fragments_per_line_per_frame"] == 0
    assert on_id["ids_on_several_lines"] == 0
    assert off_id["id_switches_per_line"] == off_id["id_switches"] / off_id["true_lines"] > 0
    assert 0 <= off_id["fragments_per_line_per_frame"] <= 1


def test_with_truth_every_map_is_also_scored_with_the_true_motion(traces, lines_clip):
    tracked, off = traces
    truth = ground_truth_path(lines_clip)
    report = evaluate_temporal(tracked, SETTINGS, compare={"tracking_off": off}, truth=truth)
    keys = {"temporal_f", "temporal_precision", "temporal_recall", "pairs"}
    scored = [
        report,
        report["raw_line_map"],
        report["compare"]["tracking_off"],
        report["truth_under_flow"],
    ]
    for scores in scored:
        assert set(scores["true_motion"]) == keys
        assert scores["true_motion"]["pairs"] == FRAMES - 1
    assert report["ground_truth"] == str(truth)
    # the drawn lines are found and tracked: they stay on the truly moved lines
    assert report["true_motion"]["temporal_f"] >= 0.95
    assert report["raw_line_map"]["true_motion"]["temporal_f"] >= 0.95
    # the yardstick: the true lines under the flow, and under their own motion (exactly 1)
    under = report["truth_under_flow"]
    assert under["pairs"] == FRAMES - 1 and under["temporal_f"] >= 0.95
    assert under["true_motion"]["temporal_f"] == 1.0
    assert under["unwarped_f"] <= under["temporal_f"]
    # the flow-based figures are those of a run without truth
    plain = evaluate_temporal(tracked, SETTINGS, compare={"tracking_off": off})
    assert plain["temporal_f"] == report["temporal_f"]
    assert plain["raw_line_map"]["temporal_f"] == report["raw_line_map"]["temporal_f"]


def test_a_truth_without_poses_is_a_clear_error(traces, lines_clip, tmp_path):
    tracked, _ = traces
    old = json.loads(ground_truth_path(lines_clip).read_text())
    for frame in old["frame_truth"]:
        del frame["poses"]
    path = tmp_path / "old.gt.json"
    path.write_text(json.dumps(old))
    with pytest.raises(EvaluationError, match="no poses"):
        evaluate_temporal(tracked, SETTINGS, raw_line_map=False, truth=path)
    with pytest.raises(EvaluationError, match="ground truth not found"):
        evaluate_temporal(tracked, SETTINGS, raw_line_map=False, truth=tmp_path / "none.json")
    path.write_text(json.dumps({"frame_truth": []}))
    with pytest.raises(EvaluationError, match="lacks field"):
        evaluate_temporal(tracked, SETTINGS, raw_line_map=False, truth=path)
    broken = json.loads(ground_truth_path(lines_clip).read_text())
    del broken["frame_truth"][3]["poses"]["2"]  # one line's pose missing in one frame
    path.write_text(json.dumps(broken))
    with pytest.raises(EvaluationError, match="no pose for line 2"):
        evaluate_temporal(tracked, SETTINGS, raw_line_map=False, truth=path)


def test_evaluate_with_a_truth_made_before_poses_skips_the_true_motion(
    traces, lines_clip, tmp_path
):
    tracked, _ = traces
    old = json.loads(ground_truth_path(lines_clip).read_text())
    for frame in old["frame_truth"]:
        del frame["poses"], frame["camera"]
    path = tmp_path / "old.gt.json"
    path.write_text(json.dumps(old))
    text = run_axis("evaluate", str(tracked), "--truth", str(path))
    assert text.returncode == 0, text.stderr
    assert "old.gt.json records no poses" in text.stdout and "true motion" not in text.stdout
    assert "kept_one_id_share" in text.stdout and "raw line map" in text.stdout


def test_cached_suite_clips_without_poses_are_made_again(tmp_path):
    from talos.bench.lines import SuiteClip, suite_clip

    spec = SuiteClip("tiny", "lines", 64, 48, 2, 1)
    video, truth = suite_clip(tmp_path, spec)
    made = video.read_bytes()
    old = json.loads(truth.read_text())
    del old["frame_truth"][0]["poses"]
    truth.write_text(json.dumps(old))
    assert suite_clip(tmp_path, spec) == (video, truth)
    assert "poses" in json.loads(truth.read_text())["frame_truth"][0]
    assert video.read_bytes() == made


def test_a_one_frame_trace_has_no_pairs(lines_clip, tmp_path):
    one = Settings(processing={"workers": 1, "max_frames": 1})
    out = trace_video(lines_clip, tmp_path / "one", one).output_dir
    report = evaluate_temporal(out, one)
    assert report["frames"] == 1 and report["pairs"] == 0
    assert report["temporal_f"] is None and report["temporal_precision"] is None
    assert report["raw_line_map"]["temporal_f"] is None
    assert report["id_carry_over"] is None and report["ink_weighted_track_length"] == 1


def test_compared_traces_must_hold_the_same_frames(traces, lines_clip, tmp_path):
    tracked, _ = traces
    short = Settings(processing={"workers": 1, "max_frames": 3})
    other = trace_video(lines_clip, tmp_path / "short", short).output_dir
    with pytest.raises(EvaluationError, match="did not trace the frames"):
        evaluate_temporal(tracked, SETTINGS, compare={"short": other}, raw_line_map=False)


# --- command line ------------------------------------------------------------------------


@pytest.mark.e2e
def test_evaluate_json_has_a_temporal_section_with_and_without_truth(traces, lines_clip, tmp_path):
    tracked, _ = traces
    with_truth = run_axis("evaluate", str(tracked), "--json")  # truth beside the clip
    assert with_truth.returncode == 0, with_truth.stderr
    report = json.loads(with_truth.stdout)
    assert report["kept_one_id_share"] >= 0.95 and "lines" in report
    assert report["id_switches_per_line"] == 0
    assert report["temporal"]["pairs"] == FRAMES - 1
    assert {"temporal_f", "temporal_precision", "temporal_recall", "raw_line_map"} <= set(
        report["temporal"]
    )
    assert report["temporal"]["true_motion"]["temporal_f"] >= 0.95  # the truth was passed on
    assert report["temporal"]["truth_under_flow"]["true_motion"]["temporal_f"] == 1.0
    text = run_axis("evaluate", str(tracked))
    assert text.returncode == 0, text.stderr
    for label in ("true motion: strokes", "true lines under flow", "true lines, true motion"):
        assert label in text.stdout
    assert "DIS medium" in text.stdout and "where the flow is consistent: F" in text.stdout
    # Without a .gt.json beside the clip: the temporal measures only.
    bare = tmp_path / "bare.mp4"
    bare.write_bytes(lines_clip.read_bytes())
    out = trace_video(bare, tmp_path / "bare", SETTINGS).output_dir
    alone = run_axis("evaluate", str(out), "--json")
    assert alone.returncode == 0, alone.stderr
    assert set(json.loads(alone.stdout)) == {"temporal"}
    text = run_axis("evaluate", str(out))
    assert text.returncode == 0 and "no ground truth" in text.stdout
    assert "raw line map" in text.stdout and "id carry-over" in text.stdout
    assert "true motion" not in text.stdout


@pytest.mark.e2e
def test_evaluate_bad_input_is_one_line(traces, lines_clip, tmp_path):
    tracked, _ = traces
    assert_clean_failure(run_axis("evaluate", str(tmp_path / "nowhere")), "manifest not found")
    moved = tmp_path / "moved"
    moved.mkdir()
    manifest = json.loads((tracked / "lines.json").read_text())
    manifest["source"]["uri"] = str(tmp_path / "gone.mp4")
    (moved / "lines.json").write_text(json.dumps(manifest))
    assert_clean_failure(run_axis("evaluate", str(moved)), "source video", "gone.mp4")
    truth = str(ground_truth_path(lines_clip))
    assert_clean_failure(run_axis("evaluate", str(moved), "--truth", truth), "source video")


def test_bench_temporal_writes_the_table(lines_clip, tmp_path, monkeypatch, capsys):
    from talos.bench.temporal import format_temporal_report
    from talos.cli import main

    monkeypatch.setenv("AXIS_PROCESSING__WORKERS", "1")
    out = tmp_path / "bench"
    args = ["bench", "temporal", "-o", str(out), "--input", str(lines_clip), "--frames", "4"]
    assert main([*args, "--quiet"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((out / "temporal.json").read_text())
    (row,) = report["rows"]
    assert row["frames"] == 4 and row["strategy"] == "xdog"
    assert row["temporal"]["compare"]["tracking_off"]["id_carry_over"] == 0
    assert row["identity"]["axis"]["kept_one_id_share"] >= 0.95  # the .gt.json beside it
    assert row["temporal"]["true_motion"]["pairs"] == 3  # scored with the truth too
    assert row["temporal"]["truth_under_flow"]["true_motion"]["temporal_f"] == 1.0
    assert "temporal F (tracking off)" in printed and lines_clip.name in printed
    assert "true-motion F (strokes)" in printed and "truth's F under the flow" in printed
    assert "consistent F (strokes)" in printed and "truth's consistent F" in printed
    causes = row["identity"]["axis"]["id_switch_causes"]
    assert sum(causes.values()) == row["identity"]["axis"]["id_switches"]
    assert f"| {row['clip']} | " + " | ".join(map(str, causes.values())) + " |" in printed
    assert (out / "temporal.md").read_text().strip() == format_temporal_report(report)
    skipped = format_temporal_report({"rows": [{"clip": "bikes", "skipped": "not here"}]})
    assert "| bikes | skipped: not here |" in skipped
    assert main(["bench", "temporal", "--input", str(tmp_path / "none.mp4")]) == 1

"""The temporal steps end to end on a generated clip: ids, Δκ, 3D lift, layers, evaluate CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.processes import assert_clean_failure, run_axis

from talos.axis.api import trace_video
from talos.axis.evaluation.identity import evaluate_identity
from talos.axis.geometry.camera import CameraError, Pose, intrinsics_from_shot
from talos.axis.io.frames import stroke_from_dict
from talos.axis.io.sample import ground_truth_path
from talos.axis.reprojection import camera_move, reproject_stroke
from talos.axis.validation import validate_output
from talos.config import ConfigError, Settings, load_settings

SHOT = {
    "resolution": {"width": 640, "height": 480},
    "camera": {
        "intrinsics": [[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]],
        "extrinsics": [
            {"frame": 0, "R": np.eye(3).tolist(), "t": [0, 0, 0]},
            {"frame": 15, "R": np.eye(3).tolist(), "t": [0.5, 0, 0]},
        ],
    },
    "layers": ["sky", "ground", "actors"],
}


@pytest.fixture(scope="module")
def traced(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("temporal") / "trace"
    result = trace_video(sample_clip, out, Settings(processing={"workers": 1}), shot=SHOT)
    return result


def test_default_pipeline_keeps_ids_and_writes_tracks(traced, sample_clip):
    manifest = traced.manifest
    assert manifest["tracks"] and {"stroke_id", "first_frame", "last_frame", "length"} <= set(
        manifest["tracks"][0]
    )
    assert manifest["metrics"]["delta_kappa_mean"] is not None
    assert manifest["metrics"]["delta_kappa_mean"] <= 0.05
    report = evaluate_identity(traced.output_dir, ground_truth_path(sample_clip))
    assert report["true_lines"] == 8 and report["detected_share"] > 0.9
    assert report["kept_one_id_share"] >= 0.95
    assert report["median_track_length"] == 16
    records = [
        json.loads(x) for x in (traced.output_dir / "metrics.jsonl").read_text().splitlines()
    ]
    assert any("delta_kappa" in json.dumps(r) for r in records)
    validate_output(traced.output_dir)
    circle_ids = set()
    for index in range(16):
        frame = json.loads((traced.output_dir / f"frames/{index:06d}.json").read_text())
        ids = [
            item["stroke_id"] for key in ("strokes", "circles", "triangles") for item in frame[key]
        ]
        assert len(ids) == len(set(ids)), ids  # primitives never share a stroke's id
        circle_ids |= {c["stroke_id"] for c in frame["circles"]}
    assert len(circle_ids) == 1  # the clip's one circle keeps its id


def test_lift_stores_world_points_that_reproject(traced):
    assert traced.summary.metrics["reprojection_error_px"] < 0.01
    frame = json.loads((traced.output_dir / "frames/000015.json").read_text())
    stroke = stroke_from_dict(frame["strokes"][0])
    assert stroke.points_3d is not None and stroke.points_3d.shape == (len(stroke.knots), 3)
    # Planar depth 10 and a camera 0.5 to the side at frame 15: world x = camera x − 0.5.
    K = intrinsics_from_shot(SHOT, 320, 240)
    x_cam = (stroke.knots[:, 0] - K[0, 2]) / K[0, 0] * 10.0
    np.testing.assert_allclose(stroke.points_3d[:, 0], x_cam - 0.5, atol=0.01)
    # Re-projecting to the frame-0 camera moves the stroke by f·0.5/10 px to the right.
    source = Pose(np.eye(3), np.array([0.5, 0, 0]))
    moved = reproject_stroke(stroke, K, source, Pose.identity())
    shift = moved.control_points - stroke.control_points
    np.testing.assert_allclose(shift[:, 0], -K[0, 0] * 0.05, atol=0.05)
    # The same move, as the shot spec states it (frame 15 → frame 0).
    (via_shot,) = camera_move([stroke], SHOT, 320, 240, 15, 0)
    np.testing.assert_allclose(via_shot.control_points, moved.control_points, atol=1e-3)


def test_layers_use_the_shot_names_and_put_moving_shapes_in_front(traced):
    layers = set()
    for index in range(1, 16):
        frame = json.loads((traced.output_dir / f"frames/{index:06d}.json").read_text())
        layers |= {s["layer"] for s in frame["strokes"]}
    assert layers == {"sky", "actors"}


def test_bad_shot_camera_fails_before_the_run(sample_clip, tmp_path):
    shot = {"camera": {"extrinsics": [{"frame": 0, "R": [[1, 0, 0]], "t": [0, 0, 0]}]}}
    with pytest.raises(CameraError, match=r"extrinsics\[0\].R"):
        trace_video(sample_clip, tmp_path / "o", Settings(processing={"workers": 1}), shot=shot)


@pytest.mark.e2e
def test_evaluate_cli_prints_identity_metrics_and_fails_cleanly(traced, sample_clip, tmp_path):
    truth = ground_truth_path(sample_clip)
    result = run_axis("evaluate", str(traced.output_dir), "--truth", str(truth), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kept_one_id_share"] >= 0.95 and report["id_switches"] == 0
    beside = run_axis("evaluate", str(traced.output_dir), "--json")  # truth found by the clip
    assert beside.returncode == 0 and json.loads(beside.stdout) == report
    assert_clean_failure(
        run_axis("evaluate", str(tmp_path), "--truth", str(truth)), "manifest not found"
    )
    bad = tmp_path / "bad.gt.json"
    bad.write_text("{not json")
    assert_clean_failure(
        run_axis("evaluate", str(traced.output_dir), "--truth", str(bad)), "not valid JSON"
    )
    bad.write_text("{}")
    assert_clean_failure(run_axis("evaluate", str(traced.output_dir), "--truth", str(bad)), "field")


def test_tracking_off_breaks_identity_so_the_metric_can_fail(sample_clip, tmp_path):
    settings = Settings(
        processing={"workers": 1}, tracking={"enabled": False}, camera={"fov_deg": 90}
    )
    result = trace_video(sample_clip, tmp_path / "o", settings)
    assert result.manifest["tracks"] == []
    # No shot camera: lines.json states the K the lift step used (90° → f = width / 2).
    assert result.manifest["camera"]["intrinsics"][0][0] == pytest.approx(160.0)
    report = evaluate_identity(result.output_dir, ground_truth_path(sample_clip))
    assert report["id_switches"] > 0 and report["kept_one_id_share"] < 0.95


@pytest.mark.e2e
def test_unloadable_model_is_a_one_line_cli_error(sample_clip, tmp_path):
    junk = tmp_path / "edges.onnx"
    junk.write_bytes(b"\x00not onnx")
    env = {"AXIS_EDGES__STRATEGY": "onnx", "AXIS_EDGES__MODEL_PATH": str(junk)}
    result = run_axis("trace", str(sample_clip), "-o", str(tmp_path / "o"), env=env)
    assert_clean_failure(result, "cannot load ONNX model")


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"AXIS_TRACKING__GATE_PX": "-3"}, "tracking.gate_px"),
        ({"AXIS_TRACKING__SMOOTHING_WINDOW": "0"}, "tracking.smoothing_window"),
        ({"AXIS_FLOW__DIS_PRESET": "warp"}, "flow.dis_preset"),
        ({"AXIS_DEPTH__NEAR": "5", "AXIS_DEPTH__FAR": "2"}, "depth.far"),
        ({"AXIS_CAMERA__FOV_DEG": "180"}, "camera.fov_deg"),
        ({"AXIS_DEPTH__STRATEGY": "sequence"}, "depth.sequence_path"),
    ],
)
def test_bad_temporal_settings_are_one_line_config_errors(monkeypatch, env, needle):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_onnx_edges_run_in_the_worker_pool(sample_clip, tmp_path):
    from onnx import TensorProto, helper, save

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, "h", "w"])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    graph = helper.make_graph([helper.make_node("Sub", ["one", "x"], ["y"])], "e", [x], [y], [one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(tmp_path / "edges.onnx"))
    settings = Settings(
        processing={"workers": 2, "max_frames": 4},
        edges={"strategy": "onnx", "model_path": tmp_path / "edges.onnx"},
    )
    result = trace_video(sample_clip, tmp_path / "o", settings)
    assert result.summary.frames == 4 and result.summary.counts["strokes"] > 0


def test_identity_scales_ground_truth_to_the_processing_size(sample_clip, tmp_path):
    settings = Settings(processing={"workers": 1, "width": 240, "max_frames": 6})
    result = trace_video(sample_clip, tmp_path / "o", settings)
    report = evaluate_identity(result.output_dir, ground_truth_path(sample_clip))
    assert report["frames"] == 6 and report["detected_share"] > 0.9
    assert report["kept_one_id_share"] >= 0.95

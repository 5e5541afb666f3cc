"""Flow, depth and ONNX-backed strategies, with tiny models built by the tests."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import onnx
import OpenEXR
import pytest
from onnx import TensorProto, helper

from talos.axis.strategies import DEPTH_ESTIMATORS, EDGE_DETECTORS, FLOW_ESTIMATORS
from talos.axis.strategies.depth import DepthError, check_depth
from talos.axis.strategies.onnx_model import ModelLoadError
from talos.config import ConfigError, Settings, load_settings

W, H = 160, 120


def _texture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (H + 40, W + 40)).astype(np.float32), (0, 0), 2)
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


@pytest.mark.parametrize("name", ["dis", "farneback"])
def test_classical_flow_recovers_a_known_shift(name):
    big = _texture()
    prev, nxt = big[20 : 20 + H, 20 : 20 + W], big[17 : 17 + H, 22 : 22 + W]  # content +(-2, +3)
    flow = FLOW_ESTIMATORS.create(name, Settings()).estimate(prev, nxt)
    assert flow.shape == (H, W, 2) and flow.dtype == np.float32
    inner = flow[20:-20, 20:-20].reshape(-1, 2)
    np.testing.assert_allclose(np.median(inner, axis=0), [-2.0, 3.0], atol=0.3)


def test_downscaled_flow_is_scaled_back_to_frame_pixels():
    big = cv2.resize(_texture(), None, fx=4, fy=4)
    prev, nxt = big[80 : 80 + 4 * H, 80 : 80 + 4 * W], big[80 : 80 + 4 * H, 72 : 72 + 4 * W]
    flow = FLOW_ESTIMATORS.create("dis", Settings(flow={"max_width": W})).estimate(prev, nxt)
    assert flow.shape == (4 * H, 4 * W, 2)
    assert np.median(flow[..., 0]) == pytest.approx(8.0, abs=0.6)


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _flow_model(path: Path, size: tuple[int, int] | None) -> Path:
    """RAFT-shaped: two (1, 3, H, W) images in, constant flow (3, -1) out."""
    h, w = size if size else ("h", "w")
    image1 = helper.make_tensor_value_info("image1", TensorProto.FLOAT, [1, 3, h, w])
    image2 = helper.make_tensor_value_info("image2", TensorProto.FLOAT, [1, 3, h, w])
    flow = helper.make_tensor_value_info("flow", TensorProto.FLOAT, [1, 2, h, w])
    nodes = [
        helper.make_node("Sub", ["image2", "image1"], ["diff"]),
        helper.make_node("Slice", ["diff", "starts", "ends", "axes"], ["two"]),
        helper.make_node("Mul", ["two", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "const"], ["flow"]),
    ]
    inits = [
        helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
        helper.make_tensor("ends", TensorProto.INT64, [1], [2]),
        helper.make_tensor("axes", TensorProto.INT64, [1], [1]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("const", TensorProto.FLOAT, [1, 2, 1, 1], [3.0, -1.0]),
    ]
    graph = helper.make_graph(nodes, "flow", [image1, image2], [flow], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return _save(model, path)


def _one_input_model(path: Path, channels: int, body: list, out: str = "out") -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, "h", "w"])
    y = helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, None, "h", "w"])
    nodes, inits = body
    graph = helper.make_graph(nodes, "m", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return _save(model, path)


def _depth_model(path: Path) -> Path:
    """MiDaS-shaped: (1, 3, H, W) in, (1, H, W) relative inverse depth = mean brightness."""
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1], keepdims=0),
        helper.make_node("Identity", ["mean"], ["out"]),
    ]
    return _one_input_model(path, 3, [nodes, []])


def _edge_model(path: Path) -> Path:
    """(1, 1, H, W) gray in [0, 1] → line probability 1 − gray (dark ink = line)."""
    nodes = [helper.make_node("Sub", ["one", "x"], ["out"])]
    return _one_input_model(
        path, 1, [nodes, [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])]]
    )


@pytest.mark.parametrize("size", [None, (60, 80)])
def test_onnx_flow_runs_the_model_and_scales_its_output(tmp_path, size):
    path = _flow_model(tmp_path / "flow.onnx", size)
    estimator = FLOW_ESTIMATORS.create(
        "onnx", Settings(flow={"strategy": "onnx", "model_path": path})
    )
    flow = estimator.estimate(_texture()[:H, :W], _texture(1)[:H, :W])
    assert flow.shape == (H, W, 2)
    factor = 1.0 if size is None else W / 80
    np.testing.assert_allclose(flow[H // 2, W // 2], [3.0 * factor, -1.0 * factor], atol=1e-4)


def test_onnx_strategies_pickle_for_worker_processes(tmp_path):
    settings = Settings(
        flow={"strategy": "onnx", "model_path": _flow_model(tmp_path / "f.onnx", None)}
    )
    estimator = pickle.loads(pickle.dumps(FLOW_ESTIMATORS.create("onnx", settings)))
    flow = estimator.estimate(_texture()[:H, :W], _texture(1)[:H, :W])
    np.testing.assert_allclose(flow[0, 0], [3.0, -1.0])


def test_onnx_depth_maps_relative_inverse_depth_to_near_far(tmp_path):
    settings = Settings(
        depth={
            "strategy": "onnx",
            "model_path": _depth_model(tmp_path / "d.onnx"),
            "near": 2,
            "far": 50,
        }
    )
    image = np.zeros((H, W, 3), np.uint8)
    image[:, : W // 2] = 255  # bright = large inverse depth = near
    depth = DEPTH_ESTIMATORS.create("onnx", settings).estimate(image, 0)
    assert depth.shape == (H, W)
    assert depth[0, 0] == pytest.approx(2.0) and depth[0, -1] == pytest.approx(50.0)


def test_onnx_edges_threshold_the_model_output(tmp_path):
    settings = Settings(edges={"strategy": "onnx", "model_path": _edge_model(tmp_path / "e.onnx")})
    image = np.full((H, W, 3), 255, np.uint8)
    cv2.line(image, (10, 60), (150, 60), (0, 0, 0), 3)
    line_map = EDGE_DETECTORS.create("onnx", settings).detect(image)
    assert line_map.dtype == np.uint8 and line_map[60, 80] == 255 and line_map[20, 80] == 0


def test_models_that_cannot_load_raise_model_load_error(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError) as info:
        FLOW_ESTIMATORS.create("onnx", Settings(flow={"strategy": "onnx", "model_path": junk}))
    assert "cannot load ONNX model" in str(info.value) and "\n" not in str(info.value)
    one_input = _depth_model(tmp_path / "d.onnx")  # one input where flow needs two
    with pytest.raises(ModelLoadError, match="takes 1 inputs, expected 2"):
        FLOW_ESTIMATORS.create("onnx", Settings(flow={"strategy": "onnx", "model_path": one_input}))
    with pytest.raises(ConfigError, match="depth.model_path"):
        load_settings(depth={"strategy": "onnx"})


def test_planar_depth_is_constant_and_costs_no_frame_copy():
    depth = DEPTH_ESTIMATORS.create("planar", Settings(depth={"planar_depth": 4.0})).estimate(
        np.zeros((H, W, 3), np.uint8), 0
    )
    assert depth.shape == (H, W) and float(depth[5, 7]) == 4.0 and depth.strides == (0, 0)


def _write_exr(path: Path, depth: np.ndarray) -> None:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"Z": depth.astype(np.float32)}) as exr:
        exr.write(str(path))


def test_depth_sequence_reads_png16_npy_exr_and_stacks(tmp_path):
    truth = [np.full((H, W), 1000.0 * (i + 1), np.float32) for i in range(3)]
    folder = tmp_path / "depth"
    folder.mkdir()
    cv2.imwrite(str(folder / "000.png"), truth[0].astype(np.uint16))
    np.save(folder / "001.npy", truth[1])
    _write_exr(folder / "002.exr", truth[2])
    image = np.zeros((H, W, 3), np.uint8)
    settings = Settings(depth={"strategy": "sequence", "sequence_path": folder, "scale": 0.001})
    estimator = DEPTH_ESTIMATORS.create("sequence", settings)
    assert [float(estimator.estimate(image, i)[3, 4]) for i in range(3)] == pytest.approx([1, 2, 3])
    with pytest.raises(DepthError, match="no depth for frame 3"):
        estimator.estimate(image, 3)

    stack = tmp_path / "stack.npy"
    np.save(stack, np.stack(truth)[:, ::2, ::2])  # half resolution: resized to the frame
    settings = Settings(depth={"strategy": "sequence", "sequence_path": stack})
    depth = DEPTH_ESTIMATORS.create("sequence", settings).estimate(image, 1)
    assert depth.shape == (H, W) and float(depth[10, 10]) == 2000.0


@pytest.mark.parametrize(
    ("depth", "needle"),
    [
        (np.full((H, W), np.nan, np.float32), "NaN"),
        (np.zeros((H, W), np.float32), "zero or negative"),
        (np.full((H, 2 * W), 3.0, np.float32), "does not fit"),
        (np.full((H, W, 3), 3.0, np.float32), "expected (H, W)"),
    ],
)
def test_bad_depth_gives_clear_errors(tmp_path, depth, needle):
    with pytest.raises(DepthError) as info:
        check_depth(depth, W, H, "test")
    assert needle in str(info.value)
    np.save(tmp_path / "000.npy", depth)
    settings = Settings(depth={"strategy": "sequence", "sequence_path": tmp_path})
    with pytest.raises(DepthError, match="000.npy"):
        DEPTH_ESTIMATORS.create("sequence", settings).estimate(np.zeros((H, W, 3), np.uint8), 0)


def test_bad_depth_sources_are_named(tmp_path):
    (tmp_path / "000.png").write_bytes(b"garbage")
    settings = Settings(depth={"strategy": "sequence", "sequence_path": tmp_path})
    with pytest.raises(DepthError, match="000.png"):
        DEPTH_ESTIMATORS.create("sequence", settings).estimate(np.zeros((H, W, 3), np.uint8), 0)
    cv2.imwrite(str(tmp_path / "000.png"), np.full((H, W), 9, np.uint8))
    with pytest.raises(DepthError, match="expected 16-bit"):
        DEPTH_ESTIMATORS.create("sequence", settings).estimate(np.zeros((H, W, 3), np.uint8), 0)
    with pytest.raises(DepthError, match="not found"):
        DEPTH_ESTIMATORS.create(
            "sequence", Settings(depth={"strategy": "sequence", "sequence_path": tmp_path / "no"})
        )
    with pytest.raises(ConfigError, match="depth.sequence_path"):
        load_settings(depth={"strategy": "sequence"})


def test_frames_too_small_for_flow_get_zero_flow():
    tiny = np.full((1, 1), 90, np.uint8)
    flow = FLOW_ESTIMATORS.create("dis", Settings()).estimate(tiny, tiny)
    assert flow.shape == (1, 1, 2) and not flow.any()

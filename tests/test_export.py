"""Exports animators open (`talos.axis.export`, `axis export`): Lottie, animated SVG and the
Blender Grease Pencil script, checked with python-lottie, headless Chromium (lottie-web) and
Debian's Blender."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.helpers.processes import assert_clean_failure, run_axis, trace_sample

from talos.axis.export import export_chunks, read_shot
from talos.axis.export.grease_pencil import PX_PER_UNIT, SAMPLES
from talos.axis.export.lottie import lottie_document
from talos.axis.export.motion import motion_keys, track_motion
from talos.axis.export.resample import (
    TrackAnimation,
    align,
    reduce_keys,
    subdivide,
    track_animations,
)
from talos.axis.export.shot import frame_strokes
from talos.axis.fidelity import ssim
from talos.axis.geometry.bezier import sample, segment_points
from talos.axis.io.frames import circle_from_dict, stroke_from_dict, triangle_from_dict
from talos.axis.render.raster import render_frame
from talos.axis.strokes import Stroke
from talos.bench.browser import render_exports

W, H, FRAMES = 320, 240, 8
HERE = Path(__file__).parent
SSIM_BAR = 0.95


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generated clip traced by the real CLI: the trace folder."""
    root = tmp_path_factory.mktemp("export")
    return trace_sample(root, W, H)[1]


def _export(folder: Path, fmt: str, tolerance: float = 0.5) -> bytes:
    return b"".join(export_chunks(read_shot(folder), fmt, tolerance))


def _raster(data: dict) -> np.ndarray:
    return render_frame(
        data["width"],
        data["height"],
        [stroke_from_dict(s) for s in data["strokes"]],
        [circle_from_dict(c) for c in data.get("circles", [])],
        [triangle_from_dict(t) for t in data.get("triangles", [])],
    )


def _frames(folder: Path) -> list[dict]:
    manifest = json.loads((folder / "lines.json").read_text())
    return [json.loads((folder / e["path"]).read_text()) for e in manifest["frames"]]


# --- resampling and key reduction --------------------------------------------------------


def test_subdivision_redraws_the_traced_curve_exactly():
    rng = np.random.default_rng(4)
    cp = np.cumsum(rng.normal(0, 20, (3 * 3 + 1, 2)), axis=0)
    stroke = Stroke(stroke_id=1, control_points=cp, pressure=np.linspace(0.2, 1.0, 4))
    sub, p0, p1 = subdivide([stroke], np.array([7]))
    assert sub.shape == (7, 4, 2)
    np.testing.assert_allclose(sub[0, 0], cp[0], atol=1e-9)
    np.testing.assert_allclose(sub[-1, 3], cp[-1], atol=1e-9)
    np.testing.assert_allclose(sub[1:, 0], sub[:-1, 3], atol=1e-9)  # a chain
    # every point of the new curve lies on the old one (dense polyline distance)
    dense = sample(stroke.control_points, 4000)
    new = segment_points(sub, np.linspace(0, 1, 9)).reshape(-1, 2)
    dist = np.min(np.linalg.norm(new[:, None] - dense[None], axis=2), axis=1)
    assert dist.max() < 0.05  # the polyline's vertex spacing; a wrong split is pixels off
    # pressure linear in the parameter, continuous across sub-segments
    np.testing.assert_allclose(p0[1:], p1[:-1], atol=1e-9)
    assert p0[0] == pytest.approx(0.2) and p1[-1] == pytest.approx(1.0)


def test_key_reduction_keeps_what_interpolation_cannot_redraw():
    frames = np.arange(10)
    linear = np.stack([frames * 2.0, frames * 0.5], 1)[:, None, :]
    assert reduce_keys(frames, linear, 0.5).tolist() == [0, 9]
    bumped = linear.copy()
    bumped[4, 0, 1] += 3.0
    assert 4 in reduce_keys(frames, bumped, 0.5).tolist()
    assert reduce_keys(frames, bumped, 5.0).tolist() == [0, 9]
    gap = np.array([0, 1, 2, 3, 7, 8, 9])
    kept = reduce_keys(gap, np.stack([gap * 1.0, gap * 0.0], 1)[:, None, :], 0.5).tolist()
    assert kept == [0, 3, 4, 6]  # both ends of every run
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(0, 0.4, (40, 5, 2)), axis=0)
    keys = reduce_keys(np.arange(40), walk, 0.5)
    lerp = np.stack(
        [np.interp(np.arange(40), keys, walk[keys, k, d]) for k in range(5) for d in range(2)], 1
    )
    assert np.abs(lerp - walk.reshape(40, -1)).max() <= 0.5 + 1e-9
    assert 2 < len(keys) < 40


def _similar_copies(shape: np.ndarray, frames: int, spin: float, step: complex) -> np.ndarray:
    """``shape`` ``(K, 2)`` turned by ``spin`` rad and moved by ``step`` px each frame."""
    z = shape[:, 0] + 1j * shape[:, 1]
    moved = [np.exp(1j * spin * f) * z + step * f for f in range(frames)]
    return np.stack([np.stack([m.real, m.imag], 1) for m in moved])


def test_a_held_shape_exports_as_one_path_and_a_moving_transform():
    rng = np.random.default_rng(3)
    shape = rng.uniform(0, 60, (6, 2))
    bent = shape + rng.normal(0, 3, shape.shape)  # frame 12 on: a re-fitted, new shape
    first = _similar_copies(shape, 12, 0.02, 3 + 1j)
    turn, shift = np.exp(1j * 0.02 * 12), (3 + 1j) * 12
    z = bent[:, 0] + 1j * bent[:, 1]
    rest = _similar_copies(
        np.stack([(turn * z + shift).real, (turn * z + shift).imag], 1), 8, 0.02, 3 + 1j
    )
    vertices = np.concatenate([first, rest])
    zeros = np.zeros_like(vertices)
    track = TrackAnimation(
        track_id=1,
        layer="foreground",
        closed=False,
        frames=np.arange(20),
        vertices=vertices,
        in_tangents=zeros,
        out_tangents=zeros,
        widths=np.full(20, 2.0),
        pressure=np.ones((20, 6)),
    )
    motion = track_motion(track)
    path_rows, (position, rotation, scale) = motion_keys(track, motion, 0.5)
    assert path_rows.tolist() == [0, 12]  # one path per shape, held
    assert len(position) <= 4 and len(rotation) <= 4 and len(scale) <= 4  # steady motion
    # What a player draws: held path, each transform property linear between its keys.
    held = path_rows[np.searchsorted(path_rows, np.arange(20), side="right") - 1]
    local = motion.vertices[held]
    x, y = (np.interp(np.arange(20), position, motion.position[position, d]) for d in (0, 1))
    angle = np.interp(np.arange(20), rotation, motion.rotation[rotation])
    size = np.interp(np.arange(20), scale, motion.scale[scale])
    a = size * np.exp(1j * angle)
    drawn = a[:, None] * (local[..., 0] + 1j * local[..., 1]) + (x + 1j * y)[:, None]
    assert np.abs(drawn - (vertices[..., 0] + 1j * vertices[..., 1])).max() <= 0.5 + 1e-9


def test_frames_traced_the_other_way_round_are_turned_to_match():
    v = np.array([[[0.0, 0], [10, 0], [20, 5], [30, 0]]] * 3)
    i = np.zeros_like(v) + [-1.0, 0]
    o = np.zeros_like(v) + [1.0, 0]
    p = np.array([[0.1, 0.2, 0.3, 0.4]] * 3)
    v[1], p[1] = v[1][::-1], p[1][::-1]  # the open line traced from its end
    i[1], o[1] = o[1][::-1].copy(), i[1][::-1].copy()
    av, ai, ao, ap = align(v, i, o, p, closed=False)
    np.testing.assert_allclose(av[1], av[0])
    np.testing.assert_allclose(ap[1], ap[0])
    np.testing.assert_allclose(ai[1], ai[0])
    np.testing.assert_allclose(ao[1], ao[0])
    loop = np.array([[[0.0, 0], [10, 0], [10, 10], [0, 10]]] * 2)
    loop[1] = np.roll(loop[1], 2, axis=0)  # the seam elsewhere on the loop
    lv, *_ = align(loop, np.zeros_like(loop), np.zeros_like(loop), np.zeros((2, 4)), closed=True)
    np.testing.assert_allclose(lv[1], lv[0])


# --- Lottie ------------------------------------------------------------------------------


def _at(prop: dict, frame: int):
    """A Lottie property's value at ``frame`` as a player computes it: static, held from a
    key with ``h`` = 1, else linear between keys (shapes per vertex array)."""
    if not prop["a"]:
        return prop["k"]
    keys = prop["k"]
    times = [k["t"] for k in keys]
    j = max(int(np.searchsorted(times, frame, side="right") - 1), 0)
    a = keys[j]["s"]
    if j == len(keys) - 1 or times[j] == frame or keys[j].get("h"):
        return a[0] if isinstance(a[0], dict) else a
    b = keys[j + 1]["s"]
    w = (frame - times[j]) / (times[j + 1] - times[j])
    if isinstance(a[0], dict):
        return {n: np.asarray(a[0][n]) * (1 - w) + np.asarray(b[0][n]) * w for n in "vio"}
    return (np.asarray(a) * (1 - w) + np.asarray(b) * w).tolist()


def _drawn_path(group: list[dict], frame: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices and absolute handles ``(v, v + i, v + o)`` of a track's path at ``frame``,
    through its group transform (position, rotation clockwise on screen, scale, anchor)."""
    shape, transform = _at(group[0]["ks"], frame), group[-1]
    p, a = np.asarray(_at(transform["p"], frame))[:2], np.asarray(_at(transform["a"], frame))[:2]
    rotation = np.radians(np.ravel(_at(transform["r"], frame))[0])
    scale = np.asarray(_at(transform["s"], frame))[:2] / 100.0
    c, s = np.cos(rotation), np.sin(rotation)
    turn = np.array([[c, -s], [s, c]])

    def place(points: np.ndarray) -> np.ndarray:
        return ((points - a) * scale) @ turn.T + p

    v = np.asarray(shape["v"], np.float64)
    return place(v), place(v + np.asarray(shape["i"])), place(v + np.asarray(shape["o"]))


@pytest.mark.e2e  # the trace fixture runs `axis` as a process
def test_lottie_tracks_redraw_every_frame_within_the_tolerance(trace):
    doc = json.loads(_export(trace, "lottie"))
    assert (doc["w"], doc["h"], doc["fr"], doc["op"]) == (W, H, 24.0, FRAMES)
    frames = _frames(trace)
    tracks = [layer for layer in doc["layers"] if layer["ty"] == 4]
    nulls = {layer["ind"]: layer["nm"] for layer in doc["layers"] if layer["ty"] == 3}
    assert set(nulls.values()) == {"background", "foreground"}
    drawn = [{s.stroke_id: s for s in frame_strokes(f)} for f in frames]  # primitives too
    assert {int(t["nm"].split()[1]) for t in tracks} == {i for f in drawn for i in f}
    keyed = 0
    for layer in tracks:
        sid = int(layer["nm"].split()[1])
        lives = [i for i, f in enumerate(drawn) if sid in f]
        assert (layer["ip"], layer["op"]) == (lives[0], lives[-1] + 1)
        assert nulls[layer["parent"]] in ("background", "foreground")
        group = layer["shapes"][0]["it"]
        path = group[0]["ks"]
        keys = path["k"] if path["a"] else [{"t": lives[0], "s": [path["k"]]}]
        counts = {len(k["s"][0]["v"]) for k in keys}
        assert len(counts) == 1, "one vertex count per track"
        keyed += len(keys)
        for f in lives:
            v, in_handle, out_handle = _drawn_path(group, f)
            i, o = in_handle - v, out_handle - v
            closed = keys[0]["s"][0]["c"]
            nxt = np.roll(np.arange(len(v)), -1) if closed else np.arange(1, len(v))
            cur = np.arange(len(v)) if closed else np.arange(len(v) - 1)
            segs = np.stack([v[cur], v[cur] + o[cur], v[nxt] + i[nxt], v[nxt]], 1)
            redrawn = segment_points(segs, np.linspace(0, 1, 17)).reshape(-1, 2)
            traced = sample(drawn[f][sid].control_points, 64)
            d = np.linalg.norm(redrawn[:, None] - traced[None], axis=2).min(axis=1)
            assert d.max() <= 0.5 + 0.05, (sid, f, d.max())
    assert keyed < sum(len(f) for f in drawn), "key reduction dropped keys"


@pytest.mark.e2e  # the trace fixture runs `axis` as a process
def test_lottie_round_trips_through_python_lottie(trace):
    from lottie.objects import Animation

    chunks = list(export_chunks(read_shot(trace), "lottie"))
    assert len(chunks) > 3, "streamed a layer at a time"
    doc = json.loads(b"".join(chunks))
    assert (
        b"".join(chunks)
        == json.dumps(lottie_document(read_shot(trace)), separators=(",", ":")).encode()
    )
    again = Animation.load(doc).to_dict()
    assert json.loads(json.dumps(again)) == doc
    # and a broken document does not (the check can fail)
    doc["layers"][0]["shapes"][0]["it"][0].pop("d")
    assert json.loads(json.dumps(Animation.load(doc).to_dict())) != doc


def _write_shot(folder: Path, frames: list[list[dict]], version: str = "1.0") -> Path:
    (folder / "frames").mkdir(parents=True)
    entries = []
    for i, strokes in enumerate(frames):
        path = f"frames/{i:06d}.json"
        data = {
            "format_version": version,
            "index": i,
            "time": i / 24,
            "width": 64,
            "height": 48,
            "strokes": strokes,
            "circles": [],
            "triangles": [],
        }
        (folder / path).write_text(json.dumps(data))
        entries.append({"index": i, "time": i / 24, "path": path, "stroke_count": len(strokes)})
    manifest = {
        "format": "talos.axis.lines",
        "format_version": version,
        "run_id": "t",
        "source": {"uri": "x.mp4", "width": 64, "height": 48, "fps": 24},
        "fps": 24.0,
        "frame_size": {"width": 64, "height": 48},
        "camera": {},
        "layers": [{"name": "foreground", "order": 0}],
        "frame_count": len(frames),
        "frames": entries,
        "tracks": [],
        "metrics": {},
    }
    (folder / "lines.json").write_text(json.dumps(manifest))
    return folder


def _stroke(sid: int, dx: float = 0.0) -> dict:
    return {
        "stroke_id": sid,
        "layer": "foreground",
        "closed": False,
        "width": 2.0,
        "bezier": [[10 + dx, 10], [20 + dx, 5], [30 + dx, 15], [40 + dx, 10]],
        "pressure": [1.0, 1.0],
    }


def test_lottie_numbers_are_rounded_and_whole_ones_written_as_ints():
    from talos.axis.export.lottie import numbers

    written = numbers(np.array([[12.0, -0.04, 3.14159], [99.96, -7.25, 0.5]]), 1)
    assert written == [[12, 0, 3.1], [100, -7.2, 0.5]]
    assert json.dumps(written) == "[[12, 0, 3.1], [100, -7.2, 0.5]]"  # no 12.0, no -0.0
    assert all(type(x) is int for x in (written[0][0], written[0][1], written[1][0]))


def test_an_empty_shot_is_a_valid_empty_lottie_and_a_one_frame_track_exports(tmp_path):
    from lottie.objects import Animation

    empty = _write_shot(tmp_path / "empty", [[], []])
    doc = json.loads(_export(empty, "lottie"))
    assert [layer["ty"] for layer in doc["layers"]] == [3]  # the layer's null, no tracks
    assert Animation.load(doc).to_dict()["op"] == 2
    assert b"<path" not in _export(empty, "svg-anim")
    ET.fromstring(_export(empty, "svg-anim"))
    none = json.loads(_export(_write_shot(tmp_path / "none", []), "lottie"))  # no frames at all
    assert none["op"] == 1 and Animation.load(none).to_dict() == none
    one = _write_shot(tmp_path / "one", [[], [_stroke(5)], []])
    doc = json.loads(_export(one, "lottie"))
    (track,) = [layer for layer in doc["layers"] if layer["ty"] == 4]
    assert (track["ip"], track["op"], track["nm"]) == (1, 2, "track 5")
    assert track["shapes"][0]["it"][0]["ks"]["a"] == 0  # one key: a static path
    assert len(track["shapes"][0]["it"][0]["ks"]["k"]["v"]) == 2
    svg = ET.fromstring(_export(one, "svg-anim"))
    assert svg.find(".//{http://www.w3.org/2000/svg}path").get("data-stroke-id") == "5"


def test_style_profile_colours_and_background(tmp_path):
    from talos.axis.export.shot import read_shot as read

    folder = _write_shot(tmp_path / "styled", [[_stroke(1)], [_stroke(1, 2)]])
    style = {"line_color": "#ff0000", "background": "#0000ff", "layer_line_colors": {}}
    shot = read(folder, style=style)
    doc = json.loads(b"".join(export_chunks(shot, "lottie")))
    (track,) = [layer for layer in doc["layers"] if layer["ty"] == 4]
    assert track["shapes"][1]["c"]["k"] == [1.0, 0.0, 0.0, 1.0]
    assert doc["layers"][-1]["ty"] == 1 and doc["layers"][-1]["sc"] == "#0000ff"  # bottom
    svg = b"".join(export_chunks(shot, "svg-anim")).decode()
    assert 'stroke="#ff0000"' in svg and 'fill="#0000ff"' in svg
    plain = json.loads(_export(folder, "lottie"))
    assert all(layer["ty"] != 1 for layer in plain["layers"])


def test_a_track_that_leaves_and_returns_is_hidden_while_gone(tmp_path):
    folder = _write_shot(tmp_path / "gap", [[_stroke(1)], [], [_stroke(1, 4)], [_stroke(1, 8)]])
    doc = json.loads(_export(folder, "lottie"))
    (track,) = [layer for layer in doc["layers"] if layer["ty"] == 4]
    assert [(k["t"], k["s"]) for k in track["ks"]["o"]["k"]] == [(0, [100]), (1, [0]), (2, [100])]
    svg = _export(folder, "svg-anim").decode()
    vis = re.search(r'attributeName="visibility"[^>]*keyTimes="([^"]*)" values="([^"]*)"', svg)
    assert vis and vis.group(2) == "visible;hidden;visible"


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.e2e
def test_bad_folders_fail_in_one_line_naming_the_file(tmp_path):
    not_axis = tmp_path / "plain"
    not_axis.mkdir()
    assert_clean_failure(run_axis("export", str(not_axis), "--format", "lottie"), "lines.json")
    other = _write_shot(tmp_path / "v2", [[_stroke(1)]], version="2.0")
    assert_clean_failure(
        run_axis("export", str(other), "--format", "lottie"), "format version", "2.0"
    )
    missing = _write_shot(tmp_path / "missing", [[_stroke(1)], [_stroke(1)]])
    (missing / "frames" / "000001.json").unlink()
    result = run_axis("export", str(missing), "--format", "svg-anim")
    assert_clean_failure(result, "frames/000001.json")
    good = _write_shot(tmp_path / "good", [[_stroke(1)]])
    tol = run_axis("export", str(good), "--format", "lottie", "--tolerance", "-1")
    assert_clean_failure(tol, "--tolerance")
    style = run_axis("export", str(good), "--format", "lottie", "--style", "nosuch")
    assert_clean_failure(style, "nosuch")
    ok = run_axis(
        "export",
        str(_write_shot(tmp_path / "ok", [[_stroke(1)]])),
        "--format",
        "lottie",
        "-o",
        str(tmp_path / "a.json"),
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "a.json").read_text())["layers"]


# --- animated SVG ------------------------------------------------------------------------


@pytest.mark.e2e  # the trace fixture runs `axis` as a process
def test_svg_animation_keeps_one_command_list_per_track(trace):
    svg = ET.fromstring(_export(trace, "svg-anim"))
    ns = "{http://www.w3.org/2000/svg}"
    paths = svg.findall(f".//{ns}path")
    assert len(paths) == len(track_animations(read_shot(trace)))
    animated = 0
    for path in paths:
        for anim in path.findall(f"{ns}animate"):
            if anim.get("attributeName") != "d":
                continue
            animated += 1
            values = anim.get("values").split(";")
            times = [float(t) for t in anim.get("keyTimes").split(";")]
            assert len(values) == len(times) and times[0] == 0 and times[-1] == 1
            shapes = {re.sub(r"[-0-9.]+", "#", v) for v in values}
            assert len(shapes) == 1, "same commands in every value"
    assert animated


# --- in a real browser -------------------------------------------------------------------


def _ring(sid: int, scale: float) -> dict:
    """A closed octagon of radius 16·scale about the middle of the 64×48 frame."""
    a = np.linspace(0, 2 * np.pi, 9)
    points = np.stack([32 + 16 * scale * np.cos(a), 24 + 16 * scale * np.sin(a)], 1)
    stroke = Stroke.from_polyline(points[:-1], sid, closed=True, width=2.0)
    return {
        "stroke_id": sid,
        "layer": "foreground",
        "closed": True,
        "width": 2.0,
        "bezier": stroke.control_points.astype(float).tolist(),
        "pressure": stroke.pressure.astype(float).tolist(),
    }


@pytest.mark.e2e
def test_a_growing_line_keeps_its_width_in_the_browser(tmp_path):
    """A track whose frames are scaled copies is one path under a scaling transform. The
    stroke sits beside that group, at the layer's level: After Effects scales a stroke with
    the transform of the group it is in (lottie-web does not), so inside the group the line
    would thicken as it grows. lottie-web must still draw the group's path with the outer
    stroke, at the traced width."""
    scales = [1.0, 1.06, 1.12, 1.18, 1.24, 1.3]
    folder = _write_shot(tmp_path / "grow", [[_ring(4, s)] for s in scales])
    doc = json.loads(_export(folder, "lottie"))
    (track,) = [layer for layer in doc["layers"] if layer["ty"] == 4]
    assert track["shapes"][0]["it"][0]["ks"]["a"] == 0, "one path, moved by the transform"
    assert track["shapes"][0]["it"][-1]["s"]["a"] == 1, "the scale is keyed"
    assert [item["ty"] for item in track["shapes"][0]["it"]] == ["sh", "tr"]
    assert track["shapes"][1]["ty"] == "st", "the stroke is outside the scaled group"
    references = [_raster(f) for f in _frames(folder)]
    lottie_images, _ = render_exports(
        json.dumps(doc), _export(folder, "svg-anim").decode(), 64, 48, [0, 5], 24.0
    )
    for reference, image in zip([references[0], references[-1]], lottie_images, strict=True):
        ink = (np.asarray(image) < 128).sum() / (np.asarray(reference) < 128).sum()
        assert 0.85 <= ink <= 1.15, ink


@pytest.mark.e2e
def test_browser_renders_match_axis_raster(trace):
    """lottie-web and Chromium's SMIL draw every frame as AXIS rasterizes it (SSIM bar)."""
    shot = read_shot(trace)
    references = [_raster(f) for f in _frames(trace)]
    lottie_images, svg_images = render_exports(
        _export(trace, "lottie").decode(),
        _export(trace, "svg-anim").decode(),
        W,
        H,
        list(range(FRAMES)),
        shot.fps,
    )
    scores = {
        "lottie": [ssim(r, i) for r, i in zip(references, lottie_images, strict=True)],
        "svg": [ssim(r, i) for r, i in zip(references, svg_images, strict=True)],
    }
    print({k: round(min(v), 4) for k, v in scores.items()})
    assert min(scores["lottie"]) >= SSIM_BAR, scores
    assert min(scores["svg"]) >= SSIM_BAR, scores
    # a frame compared with another frame's raster scores below the bar: the check bites
    assert ssim(references[-1], lottie_images[0]) < SSIM_BAR


# --- Blender -----------------------------------------------------------------------------


def _blender(script: Path, report: Path, png: Path) -> subprocess.CompletedProcess[str]:
    """Debian's blender, headless, building ``script``'s shot and reporting what it holds."""
    blender = shutil.which("blender")
    assert blender, "Debian's blender is needed (.ci/run installs it)"
    check = str(HERE / "helpers" / "blender_gp_check.py")
    run = subprocess.run(
        [blender, "-b", "--factory-startup", "--python", check, "--"]
        + [str(script), str(report), str(png)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.mark.e2e
def test_blender_builds_the_shot_point_for_point(trace, tmp_path):
    script = tmp_path / "shot.py"
    made = run_axis("export", str(trace), "--format", "grease-pencil", "-o", str(script))
    assert made.returncode == 0, made.stderr
    report, png = tmp_path / "report.json", tmp_path / "frame.png"
    run = _blender(script, report, png)
    before = (run.stdout + run.stderr).split("axis-import-done")[0]
    assert not re.search(r"warning|error|traceback", before, re.I), before
    got = json.loads(report.read_text())
    assert len(got["objects"]) == 1
    frames = _frames(trace)
    assert list(got["layers"]) == ["background", "foreground"]
    for name in ("background", "foreground"):
        assert sorted(int(n) for n in got["layers"][name]) == list(range(1, FRAMES + 1))
    worst = 0.0
    for pos, data in enumerate(frames):
        drawn = frame_strokes(data)
        made = [s for name in got["layers"] for s in got["layers"][name][str(pos + 1)]]
        assert len(made) == len(drawn)
        for name in got["layers"]:
            traced = [s for s in drawn if s.layer == name]
            strokes = got["layers"][name][str(pos + 1)]
            assert [s["track_id"] for s in strokes] == [s.stroke_id for s in traced]
            assert got["axis_track_ids"][f"{name}/{pos}"] == [s.stroke_id for s in traced]
            for made_stroke, stroke in zip(strokes, traced, strict=True):
                pts = sample(stroke.control_points, SAMPLES)
                co = np.asarray(made_stroke["co"]).reshape(-1, 3) * PX_PER_UNIT
                back = np.stack([co[:, 0], -co[:, 2]], 1)
                worst = max(worst, float(np.abs(back - pts).max()))
                assert len(made_stroke["pressure"]) == len(pts)
    assert worst <= 0.01, worst
    image = cv2.imread(str(png))
    assert image is not None and image.shape[:2] == (H, W)
    assert (image.min(axis=2) < 40).mean() > 0.005, "ink in the render"
    artifacts = Path("out/test-artifacts")
    artifacts.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, artifacts / "grease_pencil_frame1.png")


@pytest.mark.e2e
def test_blender_3d_option_places_strokes_that_the_camera_sees_where_they_were(trace, tmp_path):
    script = tmp_path / "shot3d.py"
    made = run_axis("export", str(trace), "--format", "grease-pencil", "--3d", "-o", str(script))
    assert made.returncode == 0, made.stderr
    report = tmp_path / "report.json"
    _blender(script, report, tmp_path / "f.png")
    got = json.loads(report.read_text())
    drawn = frame_strokes(_frames(trace)[0])
    checked = 0
    for name, strokes in got["projected"].items():
        traced = [s for s in drawn if s.layer == name]
        for points, stroke in zip(strokes, traced, strict=True):
            if stroke.points_3d is None:
                continue
            knots = np.asarray(points)[::SAMPLES]  # knots are every SAMPLES-th point
            np.testing.assert_allclose(knots, stroke.control_points[::3], atol=0.05)
            checked += 1
    assert checked

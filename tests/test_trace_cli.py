from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers.processes import assert_clean_failure, run_axis

from talos.axis.validation import validate, validate_output
from talos.contracts.documents import SchemaError

pytestmark = pytest.mark.e2e  # the axis command as a subprocess


@pytest.fixture(scope="module")
def traced(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("trace") / "out"
    result = run_axis("trace", str(sample_clip), "-o", str(out), "--workers", "2")
    return out, result


def test_trace_writes_the_brief_layout_and_validates(traced):
    out, result = traced
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("lines.json")
    assert "slowest step" in result.stderr and "traced 16 frames" in result.stderr
    assert validate_output(out) == 16
    manifest = json.loads((out / "lines.json").read_text())
    assert manifest["frame_size"] == {"width": 320, "height": 240}
    assert manifest["source"]["frame_count"] == 16
    assert manifest["frames"][3] == {
        "index": 3,
        "time": pytest.approx(3 / 24, abs=1e-5),
        "path": "frames/000003.json",
        "svg": "frames/000003.svg",
        "stroke_count": manifest["frames"][3]["stroke_count"],
    }
    assert manifest["metrics"]["fps"] > 0 and manifest["metrics"]["slowest_step"]
    frame = json.loads((out / "frames/000003.json").read_text())
    assert frame["strokes"], "the sample clip has lines"
    svg = (out / "frames/000003.svg").read_text()
    assert svg.count("data-stroke-id=") == len(frame["strokes"])
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = {r["step"] for r in records if r["type"] == "step"}
    assert {"decode", "edges", "vectorize", "render", "write"} <= steps


def test_schema_rejects_broken_frame(traced):
    out, _ = traced
    frame = json.loads((out / "frames/000000.json").read_text())
    frame["strokes"][0]["pressure"] = [2.0] * len(frame["strokes"][0]["pressure"])
    with pytest.raises(SchemaError, match="strokes/0/pressure"):
        validate("frame", frame)
    del frame["strokes"]
    with pytest.raises(SchemaError, match="strokes"):
        validate("frame", frame)


def test_max_frames_and_every(sample_clip: Path, tmp_path: Path):
    result = run_axis(
        "trace",
        str(sample_clip),
        "-o",
        str(tmp_path / "o"),
        "--every",
        "2",
        "--max-frames",
        "3",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "o/lines.json").read_text())
    assert [f["time"] for f in manifest["frames"]] == pytest.approx([0, 2 / 24, 4 / 24], abs=1e-5)


@pytest.mark.parametrize("command", [[], ["trace"], ["sample"], ["validate"]])
def test_help(command: list[str]):
    result = run_axis(*command, "--help")
    assert result.returncode == 0
    assert "usage: axis" in result.stdout


def test_missing_input_is_one_line(tmp_path: Path):
    result = run_axis("trace", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "o"))
    assert_clean_failure(result, "input not found", "nope.mp4")


def test_corrupt_input_is_one_line(tmp_path: Path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 4096)
    result = run_axis("trace", str(bad), "-o", str(tmp_path / "o"))
    assert_clean_failure(result, "cannot open video")


def test_truncated_input_is_one_line(tmp_path: Path, sample_clip: Path):
    cut = tmp_path / "cut.mp4"
    data = sample_clip.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    result = run_axis("trace", str(cut), "-o", str(tmp_path / "o"), "--quiet")
    assert_clean_failure(result, "cut.mp4")


def test_zero_frame_range_is_one_line(tmp_path: Path, sample_clip: Path):
    result = run_axis(
        "trace", str(sample_clip), "-o", str(tmp_path / "o"), "--start", "99", "--quiet"
    )
    assert_clean_failure(result, "no frames")


def test_bad_option_value_is_one_line(tmp_path: Path, sample_clip: Path):
    result = run_axis("trace", str(sample_clip), "-o", str(tmp_path / "o"), "--every", "0")
    assert_clean_failure(result, "processing.every")


def test_validate_command_reports_invalid_folder(tmp_path: Path):
    result = run_axis("validate", str(tmp_path))
    assert_clean_failure(result, "lines.json", "missing")


def _frame_edited(traced, tmp_path: Path, index: int, edit) -> tuple[Path, Path]:
    """A copy of the traced folder with frame ``index``'s JSON passed through ``edit``."""
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(traced[0], out)
    path = out / "frames" / f"{index:06d}.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    return out, path


def test_validate_rejects_an_id_worn_twice_in_a_frame(traced, tmp_path: Path):
    def twice(frame):
        frame["strokes"].append(dict(frame["strokes"][0]))
        return frame

    out, path = _frame_edited(traced, tmp_path, 3, twice)
    stroke_id = json.loads(path.read_text())["strokes"][0]["stroke_id"]
    with pytest.raises(SchemaError, match=f"stroke_id {stroke_id} is used twice"):
        validate_output(out)
    result = run_axis("validate", str(out))
    assert_clean_failure(result, "000003.json", "used twice")


def test_validate_rejects_a_stroke_outside_its_tracks_frames(traced, tmp_path: Path):
    out, path = _frame_edited(traced, tmp_path, 0, lambda frame: frame)
    stroke_id = json.loads(path.read_text())["strokes"][0]["stroke_id"]
    manifest = json.loads((out / "lines.json").read_text())
    row = next(t for t in manifest["tracks"] if t["stroke_id"] == stroke_id)
    row["first_frame"], row["frames"] = 1, [[1, row["last_frame"]]]  # the table says: born at 1
    (out / "lines.json").write_text(json.dumps(manifest))
    with pytest.raises(SchemaError, match=f"stroke_id {stroke_id} is in frame 0, outside"):
        validate_output(out)
    row["stroke_id"] = max(t["stroke_id"] for t in manifest["tracks"]) + 1  # out of the table
    (out / "lines.json").write_text(json.dumps(manifest))
    assert validate_output(out) == 16  # an id the table does not hold: a stroke added by hand


def test_validate_rejects_a_frame_file_of_another_index(traced, tmp_path: Path):
    def renumbered(frame):
        frame["index"] = 5
        return frame

    out, _ = _frame_edited(traced, tmp_path, 2, renumbered)
    with pytest.raises(SchemaError, match="000002.json: index: 5, but lines.json lists it as 2"):
        validate_output(out)


def test_validate_rejects_a_track_listed_twice(traced, tmp_path: Path):
    out, _ = _frame_edited(traced, tmp_path, 0, lambda frame: frame)
    manifest = json.loads((out / "lines.json").read_text())
    manifest["tracks"].append(dict(manifest["tracks"][0]))
    (out / "lines.json").write_text(json.dumps(manifest))
    with pytest.raises(SchemaError, match="lines.json: tracks: stroke_id .* is listed twice"):
        validate_output(out)

"""CHROMA: style profiles, frame rendering (pressure, fills, colors) and MP4 encoding."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from talos.axis.errors import InputError
from talos.axis.io.frames import frame_to_dict
from talos.axis.strokes import Circle, Stroke
from talos.chroma.app import create_app
from talos.chroma.profiles import hex_to_bgr, load_profile, parse_profile, shipped_profile_names
from talos.chroma.render import render_frame
from talos.chroma.video import encode_mp4
from talos.config import Settings


def _square(stroke_id: int, layer: str, x0: float, size: float, pressure: float = 1.0) -> Stroke:
    pts = np.array([[x0, 20], [x0 + size, 20], [x0 + size, 20 + size], [x0, 20 + size]])
    stroke = Stroke.from_polyline(pts, stroke_id, closed=True, layer=layer, width=3.0)
    return stroke.evolve(pressure=np.full(len(stroke.pressure), pressure, np.float32))


def _frame(*strokes: Stroke, circles: tuple[Circle, ...] = ()) -> dict:
    return frame_to_dict(0, 0.0, 160, 100, strokes, circles)


def test_at_least_two_profiles_ship_and_load() -> None:
    names = shipped_profile_names()
    assert {"ink", "neon"} <= set(names) and len(names) >= 2
    for name in names:
        assert load_profile(name).name == name


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"name": "x", "line_color": "red"}, "line_color"),
        ({"name": "x", "line_width_scale": 0}, "line_width_scale"),
        ({"name": "x", "fill_opacity": 2}, "fill_opacity"),
        ({"name": "x", "unknown": 1}, "unknown"),
        ({"line_color": "#000000"}, "name"),
    ],
)
def test_bad_profiles_are_refused(document: dict, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        parse_profile(document)


def test_unknown_or_unsafe_profile_names(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown style profile 'nope'; known: "):
        load_profile("nope")
    with pytest.raises(InputError, match="invalid"):
        load_profile("../ink")
    (tmp_path / "mine.json").write_text(json.dumps({"name": "mine", "background": "#102030"}))
    assert load_profile("mine", tmp_path).background == "#102030"
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        load_profile("broken", tmp_path)


def test_render_uses_profile_colors_fills_and_layers() -> None:
    neon = load_profile("neon")
    back, front = _square(1, "background", 10, 40), _square(2, "foreground", 90, 40)
    image = render_frame(_frame(back, front), neon, ["background", "foreground"])
    assert image.shape == (100, 160, 3) and image.dtype == np.uint8
    assert tuple(image[95, 5]) == hex_to_bgr(neon.background)
    # Lines: the foreground layer has its own line color, the background the default one.
    assert np.abs(image[20, 30].astype(int) - hex_to_bgr(neon.line_color)).max() < 40
    assert np.abs(image[20, 110].astype(int) - hex_to_bgr("#ff4fd8")).max() < 40
    # Fills: closed shapes take their layer's fill at the profile's opacity.
    bg, fill = np.array(hex_to_bgr(neon.background)), np.array(hex_to_bgr("#1c2450"))
    expected = bg * (1 - neon.fill_opacity) + fill * neon.fill_opacity
    assert np.abs(image[40, 30].astype(float) - expected).max() < 3
    pencil = render_frame(_frame(back), load_profile("pencil"))
    assert tuple(pencil[40, 30]) == (255, 255, 255)  # pencil fills nothing


def test_pressure_sets_line_width() -> None:
    ink = load_profile("ink")
    light = render_frame(_frame(_square(1, "foreground", 40, 40, pressure=0.4)), ink)
    heavy = render_frame(_frame(_square(1, "foreground", 40, 40, pressure=2.0)), ink)
    line = np.array(hex_to_bgr(ink.line_color))

    def inked(image: np.ndarray) -> int:
        return int((np.abs(image.astype(int) - line).max(axis=2) < 60).sum())

    assert inked(heavy) > 2 * inked(light) > 0


def test_circles_are_drawn_and_filled() -> None:
    ink = load_profile("ink")
    image = render_frame(_frame(circles=(Circle((80, 50), 20, "foreground", 1, 3.0),)), ink)
    assert np.abs(image[50, 80].astype(int) - hex_to_bgr("#f2c6a0")).max() < 50
    assert np.abs(image[50, 100].astype(int) - hex_to_bgr(ink.line_color)).max() < 60


def test_mp4_roundtrip_keeps_frames_size_and_rate(tmp_path: Path) -> None:
    frames = [np.full((61, 81, 3), (i * 20, 100, 200 - i * 20), np.uint8) for i in range(6)]
    count = encode_mp4(iter(frames), tmp_path / "v.mp4", fps=12.5)
    assert count == 6
    with av.open(str(tmp_path / "v.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.average_rate) == pytest.approx(12.5)
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(decoded) == 6 and decoded[0].shape == (62, 82, 3)  # padded to even
    assert np.abs(decoded[3][30, 40].astype(int) - frames[3][30, 40]).max() < 12


def test_colorize_endpoint_rejects_bad_input(tmp_path: Path) -> None:
    settings = Settings(store={"url": f"file://{tmp_path}/store"},
                        inputs={"allowed_roots": [str(tmp_path)]})  # fmt: skip
    lines = f"file://{tmp_path}/lines.json"
    with TestClient(create_app(settings)) as client:
        assert "neon" in client.get("/profiles").json()["profiles"]
        assert client.get("/profiles/ink").json()["name"] == "ink"
        assert client.get("/profiles/nope").status_code == 404
        unknown = client.post("/colorize", json={"job_id": "a", "lines_data_url": lines,
                                                 "style": "nope"})  # fmt: skip
        assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_style"
        scheme = client.post("/colorize", json={"job_id": "a", "lines_data_url": "gopher://x"})
        assert scheme.status_code == 400
        outside = client.post(
            "/colorize", json={"job_id": "a", "lines_data_url": "file:///etc/hosts"}
        )
        assert outside.status_code == 400
        frames = client.post("/colorize", json={"job_id": "a", "lines_data_url": lines,
                                                "frames": [-1]})  # fmt: skip
        assert frames.status_code == 422
        extra = client.post("/colorize", json={"job_id": "a", "lines_data_url": lines, "x": 1})
        assert extra.status_code == 400
        ssrf = client.post("/colorize", json={"job_id": "a", "lines_data_url": lines,
                                              "callback_url": "http://[::1]:9/x"})  # fmt: skip
        assert ssrf.status_code == 422 and ssrf.json()["error"]["code"] == "callback_not_allowed"

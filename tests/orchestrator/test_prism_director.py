"""PRISM: the rule-based director and its published cut_spec schema."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from talos.config import PrismSettings, Settings
from talos.contracts.cut_spec import cut_spec_schema, validate_cut_spec
from talos.contracts.documents import SchemaError
from talos.prism.app import create_app
from talos.prism.director import camera_path, detect_layers, detect_motion, direct

DEFAULTS = PrismSettings()


@pytest.mark.parametrize(
    ("prompt", "motion", "direction"),
    [
        ("slow pan over a city skyline", "pan", "right"),
        ("the camera pans left across the room", "pan", "left"),
        ("zoom out from the robot", "zoom", "out"),
        ("orbit around the cat", "orbit", "clockwise"),
        ("a locked-off shot of a dog", "static", None),
        ("a cat sleeping", "static", None),
        ("tilt up to the sky", "tilt", "up"),
    ],
)
def test_motion_words(prompt: str, motion: str, direction: str | None) -> None:
    assert detect_motion(prompt) == (motion, direction)


def test_layers_back_to_front() -> None:
    assert detect_layers("a robot walks down a street under the sky") == [
        "background", "midground", "foreground",
    ]  # fmt: skip
    assert detect_layers("nothing named") == ["background", "foreground"]


def test_prompt_numbers_beat_source_facts_beat_defaults() -> None:
    source = {"width": 320, "height": 240, "fps": 30.0, "duration": 2.0}
    spec = direct("pan left, 3 seconds at 12 fps in the neon style", DEFAULTS, source=source)
    assert (spec["fps"], spec["duration_s"], spec["frame_range"]) == (12.0, 3.0, [0, 35])
    assert spec["resolution"] == {"width": 320, "height": 240}
    assert spec["style"] == "neon"
    from_source = direct("pan left", DEFAULTS, source=source)
    assert (from_source["fps"], from_source["frame_range"]) == (30.0, [0, 59])
    bare = direct("pan left", DEFAULTS)
    assert bare["fps"] == DEFAULTS.fps and bare["resolution"]["width"] == DEFAULTS.width
    assert bare["style"] == DEFAULTS.default_style
    assert direct("pan left", DEFAULTS, style="pencil")["style"] == "pencil"


def test_same_prompt_same_spec_and_it_validates() -> None:
    a = direct("orbit around a robot, 2 s", DEFAULTS, job_id="j1")
    assert a == direct("orbit around a robot, 2 s", DEFAULTS, job_id="j1")
    validate_cut_spec(a)
    assert len(a["camera"]["extrinsics"]) == a["frame_range"][1] + 1
    k = np.array(a["camera"]["intrinsics"])
    assert k[0, 2] == DEFAULTS.width / 2 and k[0, 0] > 0


def test_camera_paths_are_rigid_and_eased() -> None:
    for motion, direction in (("pan", "right"), ("orbit", "clockwise"), ("tilt", "up")):
        poses = camera_path(motion, direction, 24, 20.0, 10.0)
        for pose in poses:
            rot = np.array(pose["R"])
            assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-5)
        angles = [np.degrees(np.arccos(np.clip(np.array(p["R"])[0, 0] if motion != "tilt"
                                                else np.array(p["R"])[1, 1], -1, 1)))
                  for p in poses]  # fmt: skip
        assert angles[0] == pytest.approx(0, abs=1e-3) and angles[-1] == pytest.approx(20, abs=1e-3)
        steps = np.diff(angles)
        assert steps[0] < steps[len(steps) // 2]  # ease in
    orbit = camera_path("orbit", "clockwise", 5, 90.0, 10.0)[-1]
    centre = np.array([0.0, 0.0, 10.0])  # the orbit's pivot stays where it was
    assert np.allclose(np.array(orbit["R"]) @ centre + np.array(orbit["t"]), centre, atol=1e-4)
    zoom = camera_path("zoom", "in", 3, 50.0, 10.0)
    assert [p["focal_scale"] for p in zoom] == [1.0, 1.25, 1.5]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"fps": 0}, "fps"),
        ({"frame_range": [5, 2]}, "frame_range"),
        ({"frame_range": [0]}, "frame_range"),
        ({"style": "../etc"}, "style"),
        ({"layers": []}, "layers"),
        ({"camera": {"motion": "warp"}}, "camera/motion"),
        ({"version": "2.0"}, "version"),
    ],
)
def test_schema_rejects_bad_specs(change: dict, needle: str) -> None:
    spec = {**direct("pan", DEFAULTS), **change}
    with pytest.raises(SchemaError, match=needle):
        validate_cut_spec(spec)


def test_schema_is_published() -> None:
    schema = cut_spec_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) >= {"version", "fps", "frame_range", "layers", "style"}


def test_direct_endpoint_rejects_bad_input(tmp_path) -> None:
    settings = Settings(store={"url": f"file://{tmp_path}/store"})
    with TestClient(create_app(settings)) as client:
        assert client.get("/schemas/cut_spec").json() == cut_spec_schema()
        missing = client.post("/direct", json={"job_id": "a"})
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_request"
        bad_id = client.post("/direct", json={"job_id": "../x", "prompt": "pan"})
        assert bad_id.status_code == 400
        bad_url = client.post(
            "/direct", json={"job_id": "a", "prompt": "pan", "video_source_url": "ftp://x/y"}
        )
        assert bad_url.status_code == 400 and "scheme" in bad_url.json()["error"]["message"]
        outside = client.post(
            "/direct",
            json={"job_id": "a", "prompt": "pan", "video_source_url": "file:///etc/passwd"},
        )
        assert outside.status_code == 400
        for url in ("http://127.0.0.1:9/callbacks/job-completed", "http://169.254.169.254/x",
                    "file:///tmp/x"):  # fmt: skip
            ssrf = client.post(
                "/direct", json={"job_id": "a", "prompt": "pan", "callback_url": url}
            )
            assert ssrf.status_code == 422, ssrf.text
            assert ssrf.json()["error"]["code"] in ("callback_not_allowed", "invalid_url")


def test_direct_endpoint_writes_the_spec_and_calls_back(tmp_path) -> None:
    """No callback URL configured: the spec still lands in the store; bad facts are 400."""
    import time

    settings = Settings(store={"url": f"file://{tmp_path}/store"})
    with TestClient(create_app(settings)) as client:
        bad = client.post("/direct", json={"job_id": "a", "prompt": "pan",
                                           "source": {"fps": "fast"}})  # fmt: skip
        assert bad.status_code == 400 and "source.fps" in bad.json()["error"]["message"]
        body = {"job_id": "j9", "prompt": "orbit, 1 second", "source": {"width": 64, "height": 48,
                "fps": 8}}  # fmt: skip
        assert client.post("/direct", json=body).status_code == 202
        path = tmp_path / "store" / "j9" / "prism" / "cut_spec.json"
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    import json

    spec = json.loads(path.read_text())
    validate_cut_spec(spec)
    assert spec["frame_range"] == [0, 7] and spec["resolution"] == {"width": 64, "height": 48}

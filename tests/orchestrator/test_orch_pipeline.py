"""End to end with real processes: the three use cases, then the fault scenarios of issue 6."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import av
import cv2
import httpx
import numpy as np
import pytest

from talos.axis.geometry import bezier
from talos.calllog import read_calls
from talos.chroma.profiles import hex_to_bgr, load_profile
from talos.web.callbacks import job_key, signed_headers

pytestmark = pytest.mark.e2e  # the four services and two fault proxies as real processes


def _path(url: str) -> Path:
    assert url.startswith("file://"), url
    return Path(urlsplit(url).path)


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def _near(pixel: np.ndarray, color: tuple[int, int, int], tol: int) -> bool:
    return int(np.abs(pixel.astype(int) - np.array(color)).max()) <= tol


def _line_pixels_match(image: np.ndarray, frame: dict, profile_name: str) -> float:
    """Fraction of points along the frame's strokes drawn in the profile's line color for their
    layer (8 samples per Bézier segment, knots included)."""
    profile = load_profile(profile_name)
    hits = total = 0
    for stroke in frame["strokes"]:
        color = profile.line_bgr(stroke["layer"])
        for x, y in bezier.sample(np.asarray(stroke["bezier"]), per_segment=8):
            xi, yi = int(round(x)), int(round(y))
            if 0 <= yi < image.shape[0] and 0 <= xi < image.shape[1]:
                total += 1
                hits += _near(image[yi, xi], color, 60)
    assert total > 10, "too few points to judge"
    return hits / total


def _submit(pipe, body: dict) -> str:
    with pipe.orchestrator as client:
        answer = client.post("/jobs", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"
    return answer.json()["job_id"]


@pytest.fixture(scope="module")
def first_job(pipeline) -> dict:
    """Use case 1: prompt + generated clip → PRISM → AXIS → CHROMA → MP4."""
    job_id = _submit(
        pipeline,
        {
            "prompt": "a slow pan right over bouncing shapes in the neon style",
            "style": "neon",
            "video_source_url": f"file://{pipeline.clip}",
        },
    )
    return pipeline.wait_job(job_id)


def test_use_case_1_prompt_to_colored_video(pipeline, first_job: dict) -> None:
    job = first_job
    assert job["status"] == "completed", job
    assert [s["module"] for s in job["stages"]] == ["prism", "axis", "chroma"]
    assert all(s["status"] == "completed" and s["attempts"] == 1 for s in job["stages"])
    spec = json.loads(_path(job["details"]["outputs"]["prism"]).read_text())
    assert spec["camera"]["motion"] == "pan" and spec["style"] == "neon"
    lines_path = _path(job["details"]["outputs"]["axis"])
    manifest = json.loads(lines_path.read_text())
    video = _path(job["details"]["final_url"])
    assert video.name == "video.mp4" and video.parent.name == "chroma"
    frames = _decode(video)
    assert len(frames) == manifest["frame_count"] == 8
    neon = load_profile("neon")
    assert _near(frames[0][0, 0], hex_to_bgr(neon.background), 12)
    frame0 = json.loads((lines_path.parent / manifest["frames"][0]["path"]).read_text())
    assert _line_pixels_match(frames[0], frame0, "neon") > 0.6
    # The call log has the sequence of use case 1 in time order.
    calls = [c for c in read_calls(pipeline.call_log) if c.get("job_id") == job["job_id"]]
    pairs = [(c["source"], c["target"]) for c in calls if c["method"] == "POST"]
    assert pairs == [
        ("user", "orchestrator"),
        ("orchestrator", "prism"),
        ("prism", "orchestrator"),
        ("orchestrator", "axis"),
        ("axis", "orchestrator"),
        ("orchestrator", "chroma"),
        ("chroma", "orchestrator"),
    ]


def test_use_case_2_recolor_existing_lines(pipeline, first_job: dict) -> None:
    lines_url = first_job["details"]["outputs"]["axis"]
    job = pipeline.wait_job(_submit(pipeline, {"lines_data_url": lines_url, "style": "ink"}))
    assert job["status"] == "completed", job
    assert [s["module"] for s in job["stages"]] == ["chroma"]
    frames = _decode(_path(job["details"]["final_url"]))
    ink = load_profile("ink")
    assert _near(frames[0][0, 0], hex_to_bgr(ink.background), 12)
    assert not _near(frames[0][0, 0], hex_to_bgr(load_profile("neon").background), 60)
    lines_path = _path(lines_url)
    frame0 = json.loads((lines_path.parent / "frames/000000.json").read_text())
    assert _line_pixels_match(frames[0], frame0, "ink") > 0.6


def test_use_case_3_edit_one_stroke_and_rerender_one_frame(pipeline, first_job: dict) -> None:
    lines_path = _path(first_job["details"]["outputs"]["axis"])
    frame_file = lines_path.parent / "frames/000002.json"
    before = json.loads(frame_file.read_text())
    stroke = max(before["strokes"], key=lambda s: len(s["bezier"]))
    edit = {"base_job_id": first_job["job_id"], "frame": 2, "stroke_id": stroke["stroke_id"],
            "translate": [0, 9], "delta_pressure": 0.3}  # fmt: skip
    job = pipeline.wait_job(_submit(pipeline, {"edit": edit, "style": "pencil"}))
    assert job["status"] == "completed", job
    assert [s["module"] for s in job["stages"]] == ["axis_edit", "chroma"]
    assert job["details"]["outputs"]["axis_edit"]["revision"] >= 1
    after = json.loads(frame_file.read_text())  # AXIS stored the edit in the shared store
    moved = next(s for s in after["strokes"] if s["stroke_id"] == stroke["stroke_id"])
    delta = np.asarray(moved["bezier"]) - np.asarray(stroke["bezier"])
    assert np.allclose(delta[:, 1], 9, atol=0.05) and np.allclose(delta[:, 0], 0, atol=0.05)
    png = _path(job["details"]["final_url"])
    assert png.name == "000002.png"
    assert sorted(p.name for p in png.parent.iterdir()) == ["000002.png"]  # one frame only
    image = cv2.imread(str(png))
    assert _line_pixels_match(image, {"strokes": [moved]}, "pencil") > 0.6


def test_callbacks_are_authenticated_and_checked(pipeline, first_job: dict) -> None:
    job_id = first_job["job_id"]
    body = {"job_id": job_id, "module_name": "AXIS", "status": "completed",
            "output_url": first_job["details"]["outputs"]["axis"]}  # fmt: skip
    key = job_key(pipeline.callback_token, job_id)

    def signed(payload: dict, with_key: str = key) -> dict:
        raw = json.dumps(payload).encode()
        headers = {"content-type": "application/json", **signed_headers(with_key, raw)}
        return {"content": raw, "headers": headers}

    bearer = {"Authorization": f"Bearer {pipeline.callback_token}"}
    with pipeline.orchestrator as client:
        for unsigned in ({"json": body}, {"json": body, "headers": bearer}):
            answer = client.post("/callbacks/job-completed", **unsigned)
            assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"
        wrong = client.post("/callbacks/job-completed", **signed(body, "nope"))
        assert wrong.status_code == 401
        duplicate = client.post("/callbacks/job-completed", **signed(body))
        assert duplicate.status_code == 200 and duplicate.json()["result"] == "duplicate"
        other_job = {**body, "job_id": "nope"}
        unknown = client.post(
            "/callbacks/job-completed",
            **signed(other_job, job_key(pipeline.callback_token, "nope")),
        )
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        other = client.post("/callbacks/job-completed", **signed({**body, "module_name": "lumen"}))
        assert other.status_code == 409
        bad = client.post("/callbacks/job-completed", **signed({"job_id": job_id}))
        assert bad.status_code == 400
        assert client.get(f"/jobs/{job_id}").json()["status"] == "completed"
    assert "callback refused" in pipeline["orchestrator"].log()


def test_axis_503_twice_then_success_records_three_attempts(pipeline, first_job: dict) -> None:
    pipeline.faults("axis_proxy", "/generate", ["503", "503"])
    job = pipeline.wait_job(
        _submit(pipeline, {"cut_spec_url": first_job["details"]["outputs"]["prism"],
                           "style": "ink", "video_source_url": f"file://{pipeline.clip}"})
    )  # fmt: skip
    assert job["status"] == "completed", job
    axis = next(s for s in job["stages"] if s["module"] == "axis")
    assert axis["attempts"] == 3
    log = axis["attempt_log"]
    assert [a["http_status"] for a in log] == [503, 503, 202]
    assert [a["outcome"] for a in log] == ["transient", "transient", "completed"]
    assert all(a["started"] and a["finished"] for a in log)
    calls = [c for c in read_calls(pipeline.call_log)
             if c.get("job_id") == job["job_id"] and c["path"] == "/generate"]  # fmt: skip
    assert [c["note"] for c in calls] == ["attempt 1", "attempt 2", "attempt 3"]


def test_axis_422_dead_letters_at_once(pipeline) -> None:
    bad_spec = pipeline.root / "bad_cut_spec.json"
    bad_spec.write_text(json.dumps({"version": "1.0", "fps": -5, "frame_range": [0, 3],
                                    "layers": ["foreground"], "style": "ink"}))  # fmt: skip
    body = {"cut_spec_url": f"file://{bad_spec}", "video_source_url": f"file://{pipeline.clip}"}
    job = pipeline.wait_job(_submit(pipeline, body))
    assert job["status"] == "failed"
    axis = next(s for s in job["stages"] if s["module"] == "axis")
    assert axis["attempts"] == 1 and axis["attempt_log"][0]["http_status"] == 422
    assert "fps" in axis["error"]
    with pipeline.orchestrator as client:
        entries = client.get("/dlq").json()["entries"]
        entry = next(e for e in entries if e["job_id"] == job["job_id"])
        assert entry["stage"] == "axis" and entry["http_status"] == 422
        assert entry["transient"] is False and len(entry["attempts"]) == 1
        assert entry["request_body"]["cut_spec_url"] == f"file://{bad_spec}"
        assert client.get(f"/dlq/{entry['id']}").json() == entry
        assert client.get("/dlq/999999").status_code == 404


def test_axis_down_dead_letters_then_cli_replay_completes(pipeline) -> None:
    pipeline["axis"].stop()
    try:
        job_id = _submit(pipeline, {"prompt": "static shot of shapes", "style": "neon",
                                    "video_source_url": f"file://{pipeline.clip}"})  # fmt: skip
        job = pipeline.wait_job(job_id)
    finally:
        pipeline.restart("axis")
    assert job["status"] == "failed"
    prism, axis, chroma = job["stages"]
    assert prism["status"] == "completed" and axis["status"] == "failed"
    assert chroma["status"] == "pending"
    assert axis["attempts"] == 3
    with pipeline.orchestrator as client:
        entry = next(e for e in client.get("/dlq?pending=true").json()["entries"]
                     if e["job_id"] == job_id)  # fmt: skip
    assert entry["stage"] == "axis" and entry["http_status"] == 502 and entry["transient"]
    assert [a["number"] for a in entry["attempts"]] == [1, 2, 3]
    assert all(a["started"] and a["finished"] for a in entry["attempts"])
    assert entry["request_body"]["job_id"] == job_id
    assert entry["request_body"]["cut_spec_url"] == prism["output_url"]
    assert entry["request_body"]["callback_url"].startswith(pipeline["callback_proxy"].url)

    env = {"AXIS_ORCHESTRATOR__PORT": str(pipeline["orchestrator"].port)}
    listed = pipeline.cli("dlq", "list", "--pending", env=env)
    assert listed.returncode == 0 and job_id in listed.stdout, listed
    shown = pipeline.cli("dlq", "show", str(entry["id"]), env=env)
    assert json.loads(shown.stdout)["request_body"] == entry["request_body"]
    replayed = pipeline.cli("dlq", "replay", str(entry["id"]), env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert "from its axis stage" in replayed.stdout
    job = pipeline.wait_job(job_id)
    assert job["status"] == "completed", job
    prism_after, axis_after, _ = job["stages"]
    assert prism_after["attempts"] == 1 and prism_after["output_url"] == prism["output_url"]
    assert axis_after["attempts"] == 4  # three failed, one after the replay
    again = pipeline.cli("dlq", "replay", str(entry["id"]), env=env)
    assert again.returncode == 1 and "409" in again.stderr and "Traceback" not in again.stderr


def test_orchestrator_killed_mid_job_resumes_after_restart(pipeline) -> None:
    job_id = _submit(pipeline, {"prompt": "zoom in on shapes", "style": "ink",
                                "video_source_url": f"file://{pipeline.clip}"})  # fmt: skip
    pipeline.wait_job(job_id, timeout=60, until=("running",))
    deadline = time.monotonic() + 60
    with pipeline.orchestrator as client:
        while time.monotonic() < deadline:
            stages = client.get(f"/jobs/{job_id}").json()["stages"]
            if stages[1]["status"] in ("dispatching", "waiting"):
                break
            time.sleep(0.05)
    pipeline["orchestrator"].kill9()
    time.sleep(1.0)  # AXIS keeps working; its callback finds nobody home
    pipeline["orchestrator"].start()
    job = pipeline.wait_job(job_id)
    assert job["status"] == "completed", job
    assert job["stages"][2]["status"] == "completed"


def test_lost_callback_is_retried_by_the_stage_timeout(pipeline, first_job: dict) -> None:
    # CHROMA keeps no jobs to ask about, so a callback of its that is lost (the next one to
    # reach the proxy is swallowed: CHROMA believes it was delivered) ends in the stage timeout.
    pipeline.faults("callback_proxy", "/callbacks/job-completed", ["drop"])
    lines_url = first_job["details"]["outputs"]["axis"]
    job_id = _submit(pipeline, {"lines_data_url": lines_url, "style": "ink"})
    job = pipeline.wait_job(job_id, timeout=120)
    assert job["status"] == "completed", job
    chroma = job["stages"][0]
    assert chroma["module"] == "chroma" and chroma["attempts"] == 2
    assert chroma["attempt_log"][0]["outcome"] == "timeout"
    assert "no callback" in chroma["attempt_log"][0]["error"]
    seen = httpx.get(f"{pipeline['callback_proxy'].url}/_faults").json()["seen"]
    assert any(s["action"] == "drop" for s in seen)


def _axis_stage_when(pipeline, job_id: str, statuses: tuple[str, ...], timeout: float) -> dict:
    """The job's axis stage once its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    with pipeline.orchestrator as client:
        while time.monotonic() < deadline:
            try:
                stages = client.get(f"/jobs/{job_id}").json()["stages"]
            except httpx.TransportError:
                stages = []  # the Orchestrator is still coming up
            axis = next((s for s in stages if s["module"] == "axis"), None)
            if axis is not None and axis["status"] in statuses:
                return axis
            time.sleep(0.05)
    raise TimeoutError(f"the axis stage of {job_id} never reached {statuses}")


def test_lost_axis_callback_is_recovered_by_a_status_poll(pipeline, first_job: dict) -> None:
    # AXIS's callback is swallowed (AXIS believes it was delivered); the Orchestrator learns
    # the result by asking GET /jobs/{id} long before the 12 s stage timeout.
    pipeline.faults("callback_proxy", "/callbacks/job-completed", ["drop"])
    job_id = _submit(pipeline, {"cut_spec_url": first_job["details"]["outputs"]["prism"],
                                "video_source_url": f"file://{pipeline.clip}"})  # fmt: skip
    job = pipeline.wait_job(job_id, timeout=60)
    assert job["status"] == "completed", job
    axis = job["stages"][0]
    assert axis["module"] == "axis" and axis["attempts"] == 1
    assert axis["attempt_log"][0]["outcome"] == "completed"
    assert axis["output_url"] and axis["output_url"].endswith("lines.json")
    seen = httpx.get(f"{pipeline['callback_proxy'].url}/_faults").json()["seen"]
    assert any(s["action"] == "drop" for s in seen)
    polls = [c for c in read_calls(pipeline.call_log)
             if c.get("job_id") == job_id and c.get("note") == "status poll"]  # fmt: skip
    assert polls and polls[-1]["method"] == "GET" and polls[-1]["path"] == f"/jobs/{job_id}"


# How long the outage test keeps the Orchestrator down, s (the bar's 30 s: TALOS_OUTAGE_S=30).
OUTAGE_S = float(os.environ.get("TALOS_OUTAGE_S", "13"))


def test_callback_outage_job_completes_soon_after_the_orchestrator_returns(
    pipeline, first_job: dict, report_figure
) -> None:
    """Issue 17's "callback outage" bar, scaled down: the Orchestrator process is killed
    while AXIS runs a stage and stays down (13 s, longer than the stage timeout; the bar's
    30 s with ``TALOS_OUTAGE_S=30``) until AXIS
    has finished and given up on its callback (every retry refused); after the restart the job
    completes within 2 × the callback backoff cap, from a status poll, not a timeout."""
    cap = 30.0  # callbacks.backoff_max_s: the fixture keeps the default
    body = {"cut_spec_url": first_job["details"]["outputs"]["prism"], "style": "ink",
            "video_source_url": f"file://{pipeline.clip}"}  # fmt: skip
    job_id = _submit(pipeline, body)
    _axis_stage_when(pipeline, job_id, ("waiting",), timeout=60)
    pipeline["orchestrator"].kill9()
    down = time.monotonic()
    try:
        deadline = time.monotonic() + 90
        callback: dict = {}
        while time.monotonic() < deadline:  # AXIS itself (not the proxy) says how it went
            report = httpx.get(f"{pipeline['axis'].url}/jobs/{job_id}").json()
            callback = report["callback"]
            if callback["status"] == "failed":
                break
            time.sleep(0.2)
        assert report["status"] == "completed" and callback["status"] == "failed", report
        assert callback["attempts"] == 2  # AXIS_CALLBACKS__ATTEMPTS: all of them refused
        # Down longer than the 12 s stage timeout too: back up, the Orchestrator must ask
        # AXIS before it times the stage out.
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down)))
        outage = time.monotonic() - down
    finally:
        launched = time.monotonic()
        pipeline["orchestrator"].start()
    back = time.monotonic()
    axis = _axis_stage_when(pipeline, job_id, ("completed", "failed"), timeout=2 * cap)
    stage_s = time.monotonic() - back
    job = pipeline.wait_job(job_id, timeout=2 * cap)
    job_s = time.monotonic() - back
    report_figure(
        f"callback outage: Orchestrator down {outage:.1f} s; once it answered again "
        f"({back - launched:.1f} s after its launch) the AXIS stage was completed after "
        f"{stage_s:.2f} s and the job after {job_s:.2f} s "
        f"(bar: < 2 × callback backoff cap = {2 * cap:g} s; stage timeout 12 s)"
    )
    assert job["status"] == "completed", job
    assert axis["attempts"] == 1 and axis["attempt_log"][0]["outcome"] == "completed", axis
    assert job_s < 2 * cap
    assert stage_s < 6.0  # well inside the 12 s stage timeout: a poll did it, not the timeout

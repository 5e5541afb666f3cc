"""The Orchestrator's retry policy, flows and API input checks (the loop itself runs in the
end-to-end tests with real processes)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from talos.config import OrchestratorSettings, Settings
from talos.orchestrator.app import create_app
from talos.orchestrator.flows import build_call, callback_signature, callback_url, plan
from talos.orchestrator.retry import RetryPolicy, classify_exception, classify_status


def test_backoff_is_exponential_capped_and_jittered() -> None:
    exact = RetryPolicy(
        OrchestratorSettings(backoff_base_s=1, backoff_cap_s=10, backoff_jitter_s=0)
    )
    assert [exact.wait_s(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    jittered = RetryPolicy(
        OrchestratorSettings(backoff_base_s=0.5, backoff_cap_s=10, backoff_jitter_s=0.25)
    )
    waits = [jittered.wait_s(2) for _ in range(50)]
    assert all(1.0 <= w <= 1.25 for w in waits) and len(set(waits)) > 1


@pytest.mark.parametrize(
    ("status", "transient"),
    [(400, False), (401, False), (404, False), (409, False), (422, False),
     (429, True), (500, True), (502, True), (503, True), (504, True)],
)  # fmt: skip
def test_only_transient_statuses_are_retried(status: int, transient: bool) -> None:
    failure = classify_status(status, "x")
    assert failure.transient is transient and failure.http_status == status
    policy = RetryPolicy(OrchestratorSettings(retry_attempts=3))
    assert policy.should_retry(failure, 1) is transient
    assert policy.should_retry(failure, 3) is False  # attempts exhausted


def test_network_failures_are_transient() -> None:
    request = httpx.Request("POST", "http://x/generate")
    assert classify_exception(httpx.ConnectError("refused", request=request)).transient
    assert classify_exception(httpx.ReadTimeout("slow", request=request)).transient
    assert not classify_exception(ValueError("bug")).transient


def test_flows_and_signed_callback_urls() -> None:
    assert plan("generate", {"prompt": "p"}) == ["prism", "axis", "chroma"]
    assert plan("generate", {"cut_spec_url": "file:///c.json"}) == ["axis", "chroma"]
    assert plan("recolor", {}) == ["chroma"] and plan("edit", {}) == ["axis_edit", "chroma"]
    open_settings = Settings()
    assert callback_url(open_settings, "j1") == "http://127.0.0.1:8100/callbacks/job-completed"
    signed = Settings(orchestrator={"callback_token": "s3cret"})
    assert callback_url(signed, "j1").endswith(f"?token={callback_signature('s3cret', 'j1')}")
    assert callback_signature("s3cret", "j1") != callback_signature("s3cret", "j2")
    request = {"prompt": "p", "video_source_url": "file:///v.mp4", "style": "ink"}
    call = build_call("axis", "j1", request, {"prism": "file:///s/j1/prism/cut_spec.json"},
                      open_settings)  # fmt: skip
    assert call.url == "http://127.0.0.1:8000/generate"
    assert call.body["cut_spec_url"] == "file:///s/j1/prism/cut_spec.json"
    edit = {"edit": {"base_job_id": "b", "frame": 3, "stroke_id": 7, "translate": [1, 2]},
            "lines_data_url": "file:///l.json"}  # fmt: skip
    patch = build_call("axis_edit", "j2", edit, {}, open_settings)
    assert (patch.method, patch.path, patch.body) == (
        "PATCH", "/jobs/b/frames/3/strokes/7", {"translate": [1, 2]}
    )  # fmt: skip
    assert build_call("chroma", "j2", edit, {}, open_settings).body["frames"] == [3]


@pytest.fixture()
def client(tmp_path: Path):
    settings = Settings(
        orchestrator={"database_url": f"sqlite:///{tmp_path}/o.db", "callback_token": "tok"},
        api_keys=["k1"],
    )
    with TestClient(create_app(settings, start_loop=False), headers={"X-API-Key": "k1"}) as c:
        yield c


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"prompt": "pan"}, "video_source_url is required"),
        ({"prompt": "pan", "video_source_url": "ftp://x/v.mp4"}, "scheme"),
        ({"prompt": "pan", "video_source_url": "clip.mp4"}, "absolute URL"),
        ({"video_source_url": "file:///v.mp4"}, "prompt is required"),
        ({"lines_data_url": "file:///l.json"}, "needs style"),
        ({"lines_data_url": "file:///l.json", "style": "ink", "prompt": "x"}, "recolor"),
        ({"prompt": "p", "video_source_url": "file:///v.mp4", "style": "a/b"}, "style"),
        ({"edit": {"base_job_id": "b", "frame": 0, "stroke_id": 1}}, "at least one"),
        ({"edit": {"base_job_id": "b", "frame": -1, "stroke_id": 1, "translate": [1, 1]}},
         "frame"),
        ({"prompt": "p", "video_source_url": "file:///v.mp4", "extra": 1}, "extra"),
    ],
)  # fmt: skip
def test_bad_job_requests_are_400(client: TestClient, body: dict, needle: str) -> None:
    answer = client.post("/jobs", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "details"} and needle in error["message"]


def test_job_lifecycle_checks(client: TestClient) -> None:
    body = {"job_id": "j1", "prompt": "pan", "video_source_url": "file:///v.mp4"}
    created = client.post("/jobs", json=body)
    assert created.status_code == 202 and created.json() == {
        "job_id": "j1", "status": "pending", "kind": "generate",
        "stages": ["prism", "axis", "chroma"],
    }  # fmt: skip
    assert client.post("/jobs", json=body).status_code == 409
    job = client.get("/jobs/j1").json()
    assert job["status"] == "pending" and job["current_module"] == "prism"
    assert [s["status"] for s in job["stages"]] == ["ready", "pending", "pending"]
    assert client.get("/jobs?status=pending").json()["count"] == 1
    assert client.get("/jobs?status=failed").json()["count"] == 0
    assert client.get("/jobs?status=bogus").status_code == 400
    assert client.get("/jobs/nope").status_code == 404
    edit = {"edit": {"base_job_id": "nope", "frame": 0, "stroke_id": 1, "translate": [1, 1]}}
    assert client.post("/jobs", json=edit).status_code == 404
    edit["edit"]["base_job_id"] = "j1"
    no_lines = client.post("/jobs", json=edit)  # j1 has no lines.json yet
    assert no_lines.status_code == 409
    # A callback for a stage that was never dispatched is a conflict, not a state change.
    callback = {"job_id": "j1", "module_name": "prism", "status": "completed"}
    token = callback_signature("tok", "j1")
    early = client.post(f"/callbacks/job-completed?token={token}", json=callback)
    assert early.status_code == 409
    assert client.get("/dlq").json() == {"entries": [], "count": 0}
    assert client.get("/dlq/1").status_code == 404
    assert client.post("/dlq/1/replay").status_code == 404


def test_api_key_is_required_when_configured(client: TestClient) -> None:
    assert client.get("/jobs", headers={"X-API-Key": "wrong"}).status_code == 403
    bare = TestClient(client.app)
    assert bare.get("/jobs").status_code == 401
    assert bare.get("/healthz").status_code == 200
    assert bare.get("/readyz").json() == {"status": "ready", "module": "orchestrator"}


def test_non_ascii_keys_and_tokens_are_refused_not_a_crash(client: TestClient) -> None:
    """Secrets are compared as UTF-8 bytes: ``compare_digest`` on a non-ASCII ``str`` raises."""
    answer = client.get("/jobs", headers={"X-API-Key": "cl\u00e9".encode()})
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "forbidden"
    callback = {"job_id": "j1", "module_name": "prism", "status": "completed"}
    by_token = client.post("/callbacks/job-completed?token=\u00e9t\u00e9", json=callback)
    assert by_token.status_code == 403, by_token.text
    bearer = {"Authorization": "Bearer t\u00f6k".encode()}
    by_bearer = client.post("/callbacks/job-completed", json=callback, headers=bearer)
    assert by_bearer.status_code == 403, by_bearer.text


@pytest.mark.e2e
def test_cli_bad_input_is_one_line() -> None:
    from tests.helpers.processes import assert_clean_failure, run_axis

    unreachable = run_axis("dlq", "list", "--url", "http://127.0.0.1:9")
    assert_clean_failure(unreachable, "cannot reach the Orchestrator")
    for args, needle in ((("dlq", "show", "abc"), "invalid int value"),
                         (("dlq", "frobnicate"), "invalid choice")):  # fmt: skip
        usage = run_axis(*args)  # argparse: usage lines, then one error line
        assert usage.returncode == 2 and "Traceback" not in usage.stderr
        assert needle in usage.stderr.strip().splitlines()[-1]
    assert_clean_failure(run_axis("serve", "nope"), "unknown service 'nope'")
    assert_clean_failure(run_axis("serve", "--port", "8100"), "need a MODULE")
    down = run_axis(
        "serve",
        "orchestrator",
        "--port",
        "9",
        env={"AXIS_ORCHESTRATOR__DATABASE_URL": "postgresql+psycopg://nobody:pw@127.0.0.1:9/x"},
    )
    assert_clean_failure(down, "orchestrator database unreachable")
    assert "pw@" not in down.stderr


@pytest.fixture()
def stub_module():
    """A real HTTP server on loopback that accepts every module call with 202 and keeps the
    bodies it got."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_transient_callback_retries_and_permanent_one_dead_letters(
    orchestrator_db_url: str, stub_module
) -> None:
    import time

    url, received = stub_module
    settings = Settings(
        orchestrator={"database_url": orchestrator_db_url, "backoff_base_s": 0.05,
                      "backoff_jitter_s": 0, "poll_interval_s": 0.05},
        services={"axis_url": url, "chroma_url": url},
    )  # fmt: skip
    with TestClient(create_app(settings)) as client:

        def stage_status(job_id: str, index: int, want: str) -> dict:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                job = client.get(f"/jobs/{job_id}").json()
                if job["stages"][index]["status"] == want:
                    return job
                time.sleep(0.02)
            raise AssertionError(f"stage {index} never became {want}: {job}")

        def report(job_id: str, module: str, status: str, **extra: object) -> dict:
            body = {"job_id": job_id, "module_name": module, "status": status, **extra}
            answer = client.post("/callbacks/job-completed", json=body)
            assert answer.status_code == 200, answer.text
            return answer.json()

        body = {"cut_spec_url": "file:///s/c.json", "video_source_url": "file:///v.mp4"}
        job_id = client.post("/jobs", json=body).json()["job_id"]
        stage_status(job_id, 0, "waiting")
        out_of_memory = report(job_id, "AXIS", "failed", error_message="oom", transient=True)
        assert out_of_memory["result"] == "retrying"
        stage_status(job_id, 0, "waiting")  # the retry was sent
        assert [r["path"] for r in received] == ["/generate", "/generate"]
        assert report(job_id, "AXIS", "completed", output_url="file:///l.json")["result"] == (
            "advanced"
        )
        job = stage_status(job_id, 1, "waiting")
        assert job["current_module"] == "chroma"
        assert [a["outcome"] for a in job["stages"][0]["attempt_log"]] == [
            "transient", "completed",
        ]  # fmt: skip
        assert report(job_id, "chroma", "failed", error_message="bad lines")["result"] == (
            "dead-lettered"
        )
        job = client.get(f"/jobs/{job_id}").json()
        assert job["status"] == "failed" and "bad lines" in job["details"]["error"]
        entry = client.get("/dlq").json()["entries"][0]
        assert entry["stage"] == "chroma" and entry["transient"] is False
        assert entry["request_body"] == received[-1]["body"]
        assert entry["request_body"]["lines_data_url"] == "file:///l.json"
        late = {"job_id": job_id, "module_name": "chroma", "status": "completed"}
        assert client.post("/callbacks/job-completed", json=late).status_code == 409

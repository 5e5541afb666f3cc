"""The Orchestrator's retry policy, flows and API input checks (the loop itself runs in the
end-to-end tests with real processes)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from talos.config import OrchestratorSettings, Settings
from talos.orchestrator.app import create_app
from talos.orchestrator.flows import build_call, callback_url, plan
from talos.orchestrator.retry import RetryPolicy, classify_exception, classify_status
from talos.web.callbacks import KEY_PARAM, job_key, redact, signed_headers, split_key


def post_signed(
    client: TestClient, body: dict, key: str, now: float | None = None, **headers: str
) -> httpx.Response:
    """POST a callback as a module does: the exact bytes, signed with the job's key."""
    raw = json.dumps(body).encode()
    signed = {"content-type": "application/json", **signed_headers(key, raw, now), **headers}
    return client.post("/callbacks/job-completed", content=raw, headers=signed)


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
    assert callback_url(signed, "j1").endswith(f"?{KEY_PARAM}={job_key('s3cret', 'j1')}")
    assert job_key("s3cret", "j1") != job_key("s3cret", "j2")
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
    early = post_signed(client, callback, job_key("tok", "j1"))
    assert early.status_code == 409, early.text
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
    forged = {"X-Talos-Signature": "sha256=\u00e9t\u00e9".encode()}
    by_signature = post_signed(client, callback, "k", **forged)  # type: ignore[arg-type]
    assert by_signature.status_code == 401, by_signature.text


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
            """The callback as the module would send it, signed with the key from the
            callback_url the Orchestrator handed it (the app made its own secret)."""
            body = {"job_id": job_id, "module_name": module, "status": status, **extra}
            answer = post_signed(client, body, key_of(received[-1]))
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
        sent = received[-1]["body"]
        assert entry["request_body"] == {**sent, "callback_url": redact(sent["callback_url"])}
        assert key_of(received[-1]) not in json.dumps(entry)  # the job's key is not shown
        assert entry["request_body"]["lines_data_url"] == "file:///l.json"
        late = {"job_id": job_id, "module_name": "chroma", "status": "completed"}
        assert post_signed(client, late, key_of(received[-1])).status_code == 409


def key_of(call: dict) -> str:
    """The signing key in the callback_url of a module call the stub received."""
    key = split_key(call["body"]["callback_url"])[1]
    assert key is not None, call
    return key


def test_forged_callbacks_are_refused_logged_and_change_nothing(
    tmp_path: Path, stub_module, caplog: pytest.LogCaptureFixture
) -> None:
    """No ``callback_token`` is configured (the default): the Orchestrator signs with a
    secret of its own, and a callback without a valid, fresh signature is 401."""
    url, received = stub_module
    settings = Settings(
        orchestrator={"database_url": f"sqlite:///{tmp_path}/o.db", "poll_interval_s": 0.05},
        services={"axis_url": url, "chroma_url": url},
    )
    with TestClient(create_app(settings)) as client:
        body = {"cut_spec_url": "file:///s/c.json", "video_source_url": "file:///v.mp4"}
        job_id = client.post("/jobs", json=body).json()["job_id"]
        deadline = time.monotonic() + 10
        while client.get(f"/jobs/{job_id}").json()["stages"][0]["status"] != "waiting":
            assert time.monotonic() < deadline, "the axis stage was never dispatched"
            time.sleep(0.02)
        before = client.get(f"/jobs/{job_id}").json()
        key = key_of(received[-1])
        forged = {"job_id": job_id, "module_name": "AXIS", "status": "completed",
                  "output_url": "http://attacker.example/lines.json"}  # fmt: skip
        raw = json.dumps(forged).encode()
        stamp = str(int(time.time()))
        attempts = {
            "unsigned": client.post("/callbacks/job-completed", json=forged),
            "wrong signature": client.post(
                "/callbacks/job-completed",
                content=raw,
                headers={"X-Talos-Timestamp": stamp, "X-Talos-Signature": "sha256=" + "0" * 64},
            ),  # fmt: skip
            "another job's key": post_signed(client, forged, job_key("guess", job_id)),
            "old timestamp": post_signed(client, forged, key, now=time.time() - 301),
            "query token only": client.post(
                f"/callbacks/job-completed?{KEY_PARAM}={key}&token={key}", json=forged
            ),
        }
        with caplog.at_level(logging.WARNING, logger="talos.orchestrator.routes.callbacks"):
            bad = client.post("/callbacks/job-completed", content=b"{not json")
        for name, answer in {**attempts, "not json": bad}.items():
            assert answer.status_code == 401, (name, answer.text)
            assert answer.json()["error"]["code"] == "unauthorized", name
        assert client.get(f"/jobs/{job_id}").json() == before  # the job did not move
        assert "callback refused" in caplog.text and key not in caplog.text
        genuine = {**forged, "output_url": "file:///s/lines.json"}
        answer = post_signed(client, genuine, key)
        assert answer.status_code == 200 and answer.json()["result"] == "advanced"
        assert client.get(f"/jobs/{job_id}").json()["details"]["outputs"]["axis"] == (
            "file:///s/lines.json"
        )

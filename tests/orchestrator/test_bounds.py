"""Untrusted numbers and sizes at the Orchestrator, PRISM and CHROMA (issue 17): ids past
64 bits, non-finite floats, a body over the limit, and the one X-API-Key check. Every answer
is a 4xx with the one error body, never a 500. (AXIS: tests/service/test_service_api.py.)"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from tests.helpers.api import assert_error

from talos.chroma.app import create_app as chroma_app
from talos.config import Settings
from talos.contracts.bounds import COORD_MAX, DB_INT_MAX
from talos.contracts.job_options import JobOptions
from talos.orchestrator.app import create_app as orchestrator_app
from talos.prism.app import create_app as prism_app
from talos.web.callbacks import job_key, signed_headers

TOO_BIG = 2**63  # one past the largest 64-bit database integer
GENERATE = {"job_id": "j1", "prompt": "pan", "video_source_url": "file:///v.mp4"}


def raw_json(body: object) -> dict:
    """``body`` as Python's ``json`` writes it, NaN and Infinity included (as an outside client
    may send them; httpx refuses to encode them)."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        orchestrator={"database_url": f"sqlite:///{tmp_path}/o.db", "callback_token": "tok"},
        api_keys=["k1"],
        http={"max_body_bytes": 64 * 1024},
    )
    app = orchestrator_app(settings, start_loop=False)
    with TestClient(app, headers={"X-API-Key": "k1"}, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/jobs?offset={TOO_BIG}"),
        ("GET", f"/jobs?offset={10**30}"),
        ("GET", f"/dlq/{TOO_BIG}"),
        ("POST", f"/dlq/{TOO_BIG}/replay"),
    ],
)
def test_ids_past_64_bits_are_400_not_an_overflow(client: TestClient, method: str, path: str):
    """SQLite's driver raised OverflowError on these (a 500); now validation stops them."""
    assert_error(client.request(method, path), 400, "invalid_request")


def test_the_largest_64_bit_id_is_still_a_plain_miss(client: TestClient) -> None:
    assert client.get(f"/jobs?offset={DB_INT_MAX}").json() == {"jobs": [], "count": 0}
    assert_error(client.get(f"/dlq/{DB_INT_MAX}"), 404, "not_found")


def test_callback_numbers_are_bounded(client: TestClient) -> None:
    assert client.post("/jobs", json=GENERATE).status_code == 202
    body = {"job_id": "j1", "module_name": "prism", "status": "failed", "http_status": TOO_BIG}
    raw = json.dumps(body).encode()
    headers = {"content-type": "application/json", **signed_headers(job_key("tok", "j1"), raw)}
    answer = client.post("/callbacks/job-completed", content=raw, headers=headers)
    assert_error(answer, 400, "invalid_request")


@pytest.mark.parametrize(
    "edit",
    [
        {"translate": [math.nan, 0]},
        {"translate": [math.inf, 0]},
        {"translate": [1e39, 0]},
        {"translate": [1, 2, 3]},
        {"control_points": [[1, 2], [3]]},  # ragged
        {"control_points": [[0, 0], [1, 1], [2, 2], [-math.inf, 3]]},
        {"control_points": [[0, 0], [1, 1], [2, 2], [COORD_MAX * 2, 3]]},
        {"delta_pressure": math.nan},
        {"delta_curvature": math.inf},
    ],
)
def test_edit_jobs_refuse_non_finite_huge_and_ragged_values(client: TestClient, edit: dict):
    job = {"edit": {"base_job_id": "b", "frame": 0, "stroke_id": 1, **edit}}
    assert_error(client.post("/jobs", **raw_json(job)), 400, "invalid_request")


@pytest.mark.parametrize("field", ["frame", "stroke_id"])
def test_edit_job_ids_are_bounded(client: TestClient, field: str) -> None:
    job = {"edit": {"base_job_id": "b", "frame": 0, "stroke_id": 1, "translate": [1, 1]}}
    job["edit"][field] = TOO_BIG
    assert_error(client.post("/jobs", json=job), 400, "invalid_request")


@pytest.mark.parametrize(
    "options",
    [
        {"fps": math.inf},
        {"fps": math.nan},
        {"fps": 0},
        {"fps": -24},
        {"fps": 1e9},
        {"start": math.inf},
        {"max_frames": TOO_BIG},
        {"no_such_option": 1},
    ],
)
def test_job_options_are_checked_at_submit(client: TestClient, options: dict) -> None:
    """The Orchestrator validates AXIS's options with AXIS's own model: before, ``fps:
    Infinity`` was accepted with 202 and the job failed later with internal_error."""
    answer = client.post("/jobs", **raw_json({**GENERATE, "options": options}))
    assert_error(answer, 400, "invalid_request")
    assert client.get("/jobs").json()["count"] == 0  # nothing was stored


def test_good_options_pass_through(client: TestClient) -> None:
    answer = client.post("/jobs", json={**GENERATE, "options": {"fps": 12, "max_frames": 5}})
    assert answer.status_code == 202, answer.text
    assert client.get("/jobs/j1").json()["job_id"] == "j1"


def test_job_options_model_refuses_non_finite_values() -> None:
    for bad in ({"fps": math.inf}, {"end": math.nan}, {"start": -1}, {"every": 0}):
        with pytest.raises(ValidationError):
            JobOptions.model_validate(bad)
    assert JobOptions.model_validate({"fps": 24.0}).processing_overrides() == {"fps": 24.0}


def test_a_body_over_the_limit_is_413_before_it_is_read(client: TestClient) -> None:
    big = b'{"prompt": "' + b"x" * (1024 * 1024) + b'"}'
    answer = client.post("/jobs", content=big, headers={"Content-Type": "application/json"})
    error = assert_error(answer, 413, "body_too_large")
    assert error["details"] == {"max_bytes": 64 * 1024}
    assert client.get("/jobs").status_code == 200  # the app goes on answering


def test_a_streamed_body_is_cut_off_at_the_limit(client: TestClient) -> None:
    """No Content-Length (chunked): counted as it arrives, refused once over the limit."""
    pieces = iter([b'{"prompt": "', *([b"x" * 8192] * 16), b'"}'])
    answer = client.post(
        "/jobs", content=pieces, headers={"Content-Type": "application/json"}
    )  # an iterator: httpx sends it chunked, with no Content-Length
    assert_error(answer, 413, "body_too_large")


def test_a_bad_content_length_is_400(client: TestClient) -> None:
    answer = client.post(
        "/jobs", content=b"{}", headers={"Content-Length": "two", "Content-Type": "text/plain"}
    )
    assert answer.status_code == 400, answer.text


# -- PRISM and CHROMA: the same bounds and the same X-API-Key check ----------------------------


@pytest.fixture()
def modules(tmp_path: Path) -> Iterator[dict[str, TestClient]]:
    settings = Settings(
        store={"url": f"file://{tmp_path}/store"},
        inputs={"allowed_roots": [str(tmp_path)]},
        api_keys=["k1"],
        http={"max_body_bytes": 64 * 1024},
    )
    with (
        TestClient(prism_app(settings), raise_server_exceptions=False) as prism,
        TestClient(chroma_app(settings), raise_server_exceptions=False) as chroma,
    ):
        yield {"prism": prism, "chroma": chroma}


REQUESTS = {
    "prism": ("/direct", {"job_id": "a", "prompt": "pan"}),
    "chroma": ("/colorize", {"job_id": "a", "lines_data_url": "file:///nope/l.json"}),
}


@pytest.mark.parametrize("module", ["prism", "chroma"])
def test_modules_check_the_api_key_like_axis_and_the_orchestrator(modules, module: str):
    """PRISM and CHROMA took any request; now the shared talos.web.auth dependency guards
    them: no key 401, a wrong or non-ASCII key 403 (compared as UTF-8 bytes), never 500."""
    client = modules[module]
    path, body = REQUESTS[module]
    assert_error(client.post(path, json=body), 401, "unauthorized")
    assert_error(client.post(path, json=body, headers={"X-API-Key": "k2"}), 403, "forbidden")
    for raw in ("cl\u00e9".encode(), b"\xff\xfe"):  # UTF-8, and bytes that are not UTF-8
        assert_error(client.post(path, json=body, headers={"X-API-Key": raw}), 403, "forbidden")
    assert client.get("/healthz").status_code == 200  # health needs no key
    good = client.post(path, json=body, headers={"X-API-Key": "k1"})
    assert good.status_code in (202, 400), good.text  # past the key check


def test_modules_refuse_bad_numbers_and_big_bodies(modules) -> None:
    key = {"X-API-Key": "k1"}
    prism, chroma = modules["prism"], modules["chroma"]
    for facts in ({"fps": math.inf}, {"duration": math.nan}, {"frame_count": TOO_BIG}):
        body = {"job_id": "a", "prompt": "pan", "source": facts}
        answer = prism.post("/direct", content=json.dumps(body), headers=key)
        assert_error(answer, 400, "invalid_request")
    frames = {"job_id": "a", "lines_data_url": "file:///l.json", "frames": [TOO_BIG]}
    assert_error(chroma.post("/colorize", json=frames, headers=key), 400, "invalid_request")
    big = {"job_id": "a", "prompt": "x" * (128 * 1024)}
    assert_error(prism.post("/direct", json=big, headers=key), 413, "body_too_large")


def test_echoed_values_are_clipped() -> None:
    from talos.web.limits import ECHO_MAX, clip_echo

    assert clip_echo("r7") == "r7"
    clipped = clip_echo("r" * 100_000)
    assert len(clipped) == ECHO_MAX + 1 and clipped.endswith("…")

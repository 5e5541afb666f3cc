"""The OpenAPI documents tell the truth about errors, Allow headers and timestamps (issue 17);
the fuzzer (tests/fuzz) checks the same against real servers, these pin the rules in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from talos.axis.service.api_models import Revision
from talos.config import Settings
from talos.contracts.patterns import JOB_ID_PATTERN
from talos.orchestrator.app import create_app as orchestrator_app
from talos.prism.app import create_app as prism_app


@pytest.fixture()
def orchestrator(tmp_path: Path):
    settings = Settings(
        orchestrator={"database_url": f"sqlite:///{tmp_path}/o.db"}, api_keys=["k1"]
    )
    with TestClient(orchestrator_app(settings, start_loop=False)) as client:
        yield client


def _codes(document: dict, method: str, path: str) -> list[str]:
    return sorted(document["paths"][path][method]["responses"])


def test_every_answered_error_is_documented_with_the_error_model(orchestrator) -> None:
    document = orchestrator.get("/openapi.json").json()
    assert _codes(document, "get", "/jobs/{job_id}") == [
        "200", "400", "401", "403", "404", "503"
    ]  # fmt: skip
    assert _codes(document, "post", "/jobs") == [
        "202", "400", "401", "403", "404", "409", "413", "503"
    ]  # fmt: skip
    assert _codes(document, "post", "/callbacks/job-completed") == [
        "200", "400", "401", "403", "404", "409", "413", "503"
    ]  # fmt: skip
    assert _codes(document, "get", "/healthz") == ["200"]  # no input, no key, no error
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # malformed input is 400 here, not 422
    for item in document["paths"].values():
        for operation in item.values():
            for code, response in operation["responses"].items():
                if code[0] in "45":
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    # What the document says is what the server does.
    missing = orchestrator.get("/jobs/nope")
    assert missing.status_code == 401 and set(missing.json()) == {"error"}
    assert orchestrator.get("/jobs/nope", headers={"X-API-Key": "k1"}).status_code == 404
    refused = orchestrator.get("/jobs?limit=0", headers={"X-API-Key": "k1"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_request"


def test_job_id_pattern_and_length_are_in_the_schema(orchestrator) -> None:
    document = orchestrator.get("/openapi.json").json()
    (param,) = [
        p for p in document["paths"]["/jobs/{job_id}"]["get"]["parameters"] if p["in"] == "path"
    ]
    assert param["schema"]["pattern"] == JOB_ID_PATTERN
    assert param["schema"]["maxLength"] == 128


def test_allow_header_lists_every_route_at_the_path(orchestrator) -> None:
    # GET /jobs and POST /jobs are two routes; Starlette named only the first one's methods.
    answer = orchestrator.put("/jobs", headers={"X-API-Key": "k1"})
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST"
    assert answer.json()["error"]["code"] == "method_not_allowed"
    one = orchestrator.delete("/dlq/3")
    assert one.status_code == 405 and one.headers["allow"] == "GET, HEAD"


def test_module_apps_document_their_own_errors(tmp_path: Path) -> None:
    settings = Settings(store={"url": f"file://{tmp_path}/store"})
    with TestClient(prism_app(settings)) as client:
        document = client.get("/openapi.json").json()
    assert _codes(document, "post", "/direct") == ["202", "400", "401", "403", "413", "422"]


def test_timestamps_carry_their_time_zone() -> None:
    naive = datetime(2026, 12, 6, 19, 0, 0)  # as SQLite hands it back
    revision = Revision(
        revision=1, action="move", stroke_id=2, author="a", created_at=naive, change={}
    )
    assert revision.created_at.tzinfo is UTC
    assert revision.model_dump(mode="json")["created_at"] == "2026-12-06T19:00:00Z"


def test_a_broken_database_is_503_not_500(tmp_path: Path) -> None:
    """The Orchestrator answered 500 when its database failed under a request; now 503 with
    Retry-After, as AXIS does (one handler, talos.web.errors)."""
    import sqlite3

    settings = Settings(orchestrator={"database_url": f"sqlite:///{tmp_path}/o.db"})
    with TestClient(orchestrator_app(settings, start_loop=False)) as client:
        with sqlite3.connect(tmp_path / "o.db") as db:
            db.execute("DROP TABLE orch_attempts")
            db.execute("DROP TABLE orch_stages")
            db.execute("DROP TABLE orch_jobs")
        answer = client.get("/jobs")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert answer.headers["retry-after"] == "10"

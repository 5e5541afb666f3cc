"""Many-machine mode for real: PostgreSQL job state, S3 (moto server) store, Celery workers on
Redis started with ``axis worker`` — including a worker killed with SIGKILL mid-job."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from tests.helpers.api import CallbackServer, assert_error, wait_job
from tests.helpers.processes import ServiceProcess

from talos.config import StoreSettings
from talos.store import Store

pytestmark = pytest.mark.e2e  # real processes, PostgreSQL, Redis, S3


@pytest.fixture(scope="module")
def env(tmp_path_factory, inputs, postgres_url, redis_url, moto_s3, callbacks) -> dict[str, str]:
    base = tmp_path_factory.mktemp("dist")
    return {
        "AXIS_DATABASE__URL": postgres_url,
        "AXIS_STORE__URL": f"s3://{moto_s3['bucket']}/talos",
        "AXIS_STORE__ENDPOINT_URL": moto_s3["endpoint_url"],
        "AXIS_STORE__ACCESS_KEY_ID": moto_s3["access_key_id"],
        "AXIS_STORE__SECRET_ACCESS_KEY": moto_s3["secret_access_key"],
        "AXIS_QUEUE__BACKEND": "celery",
        "AXIS_QUEUE__BROKER_URL": redis_url,
        "AXIS_QUEUE__MAX_PENDING": "1",
        "AXIS_QUEUE__WORKERS": "1",
        "AXIS_SERVICE__LEASE_S": "2",
        "AXIS_SERVICE__HEARTBEAT_S": "0.4",
        "AXIS_SERVICE__WORK_DIR": str(base / "work"),
        "AXIS_INPUTS__ALLOWED_ROOTS": json.dumps([str(inputs["root"])]),
        "AXIS_PROCESSING__WORKERS": "1",
        "AXIS_CALLBACKS__BACKOFF_S": "0.05",
        "AXIS_CALLBACKS__TRUSTED_HOSTS": json.dumps([urlsplit(callbacks.url).netloc]),
        "BASE": str(base),
    }


@pytest.fixture(scope="module")
def service(env) -> Iterator[ServiceProcess]:
    process = ServiceProcess(env, f"{env['BASE']}/service.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def workers(env) -> Iterator[list[ServiceProcess]]:
    """``axis worker`` processes (the first one started here; tests may add more)."""
    started = [ServiceProcess(env, f"{env['BASE']}/worker.log", command="worker").start()]
    yield started
    for process in started:
        process.stop()


@pytest.fixture(scope="module")
def client(service: ServiceProcess) -> Iterator[httpx.Client]:
    with service.client() as c:
        yield c


@pytest.fixture(scope="module")
def store(moto_s3) -> Store:
    return Store.from_settings(
        StoreSettings(
            url=f"s3://{moto_s3['bucket']}/talos",
            endpoint_url=moto_s3["endpoint_url"],
            access_key_id=moto_s3["access_key_id"],
            secret_access_key=moto_s3["secret_access_key"],
        )
    )


def test_ready_and_queue_full_before_any_worker(client: httpx.Client, inputs, store) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["executor"] == "celery"
    store.put_file("inputs/clip.mp4", inputs["root"] / "clip.mp4")  # the source, in S3 too
    first = {"job_id": "d-1", "video_source_url": store.url_for("inputs/clip.mp4")}
    assert client.post("/generate", json=first).status_code == 202
    assert client.get("/jobs/d-1").json()["status"] == "queued"  # no worker yet
    second = {**first, "job_id": "d-2"}
    response = client.post("/generate", json=second)
    assert_error(response, 503, "queue_full")
    assert int(response.headers["retry-after"]) > 0


def test_worker_runs_queued_job_into_s3(client: httpx.Client, workers, store: Store) -> None:
    status = wait_job(client, "d-1", timeout=120)
    assert status["status"] == "completed", status
    assert status["output_url"] == store.url_for("d-1/axis/lines.json")
    assert status["output_url"].startswith("s3://")
    keys = store.list("d-1/axis")
    assert {
        "d-1/axis/lines.json",
        "d-1/axis/metrics.jsonl",
        "d-1/axis/frames/000000.json",
        "d-1/axis/frames/000000.svg",
    } <= set(keys)
    assert client.get("/jobs/d-1/lines.json").json()["frame_count"] == 8
    # an edit re-renders the frame in S3
    frame = client.get("/jobs/d-1/frames/0.json")
    sid = frame.json()["strokes"][0]["stroke_id"]
    edited = client.patch(
        f"/jobs/d-1/frames/0/strokes/{sid}",
        json={"delta_pressure": -0.5},
        headers={"If-Match": frame.headers["etag"]},
    )
    assert edited.status_code == 200, edited.text
    assert json.loads(store.get_bytes("d-1/axis/frames/000000.json")) == edited.json()["data"]
    # two concurrent conditional edits on PostgreSQL: exactly one wins
    etag = edited.headers["etag"]
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def edit(delta: float) -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=30) as own:
            barrier.wait()
            answers.append(
                own.patch(
                    f"/jobs/d-1/frames/0/strokes/{sid}",
                    json={"delta_pressure": delta},
                    headers={"If-Match": etag},
                ).status_code
            )

    threads = [threading.Thread(target=edit, args=(d,)) for d in (0.1, 0.2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 412]
    assert len(client.get("/jobs/d-1/frames/0/revisions").json()) == 3
    metrics = client.get("/metrics").text
    assert 'axis_jobs{status="completed"} 1.0' in metrics


def test_failure_in_the_worker_is_recorded_and_called_back_and_a_retry_runs_it_again(
    client: httpx.Client, workers, callbacks: CallbackServer, store: Store, inputs
) -> None:
    body = {
        "job_id": "d-missing",
        "video_source_url": store.url_for("nowhere/missing.mp4"),
        "callback_url": callbacks.url,
    }
    assert client.post("/generate", json=body).status_code == 202
    status = wait_job(client, "d-missing", timeout=60)
    assert status["status"] == "failed"
    assert status["error"]["code"] == "input_not_found" and status["error"]["http_status"] == 422
    sent = callbacks.for_job("d-missing")
    assert sent["status"] == "failed" and sent["module_name"] == "AXIS"
    assert (
        sent["error_message"] == status["error"]["message"]
        and "missing.mp4" in sent["error_message"]
    )
    assert sent["error_code"] == "input_not_found" and sent["output_url"] is None
    # The input turns up; the same request again (a DLQ replay) queues the job again.
    store.put_file("nowhere/missing.mp4", inputs["root"] / "clip.mp4")
    again = client.post("/generate", json=body)
    assert again.status_code == 202 and "queued again" in again.json()["message"]
    status = wait_job(client, "d-missing", timeout=120, until=("completed",))
    assert status["error"] is None and status["attempts"] >= 2
    deadline = time.monotonic() + 30
    sent_statuses: list[str] = []
    while "completed" not in sent_statuses and time.monotonic() < deadline:
        sent_statuses = [b["status"] for b in callbacks.received if b["job_id"] == "d-missing"]
        time.sleep(0.1)
    assert sent_statuses == ["failed", "completed"]
    twice = client.post("/generate", json=body)  # a finished job is not run a third time
    assert "already exists (completed)" in twice.json()["message"]


def test_worker_killed_mid_job_then_restarted_finishes_it(
    client: httpx.Client, workers: list[ServiceProcess], env, inputs
) -> None:
    body = {
        "job_id": "d-kill",
        "video_source_url": f"file://{inputs['root'] / 'long.mp4'}",
        "options": {"width": 1600},  # upscaled: slow enough to be killed in the middle
    }
    assert client.post("/generate", json=body).status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get("/jobs/d-kill").json()
        if status["status"] == "running" and status["progress"]["frames_done"] >= 1:
            break
        time.sleep(0.05)
    assert status["status"] == "running", status
    assert status["progress"]["frames_done"] < status["progress"]["frames_total"]
    workers[0].kill9()
    assert client.get("/jobs/d-kill").json()["status"] == "running"  # nobody finished it
    workers.append(ServiceProcess(env, f"{env['BASE']}/worker2.log", command="worker").start())
    final = wait_job(client, "d-kill", timeout=120)
    assert final["status"] == "completed", final
    assert final["attempts"] == 2
    assert final["progress"]["frames_done"] == final["progress"]["frames_total"] == 96

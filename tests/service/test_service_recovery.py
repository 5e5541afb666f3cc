"""One machine, no other service: ``axis serve`` killed with SIGKILL mid-job finishes the job
after a restart (embedded executor; the job database is the truth), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import psutil
import pytest
from tests.helpers.api import wait_job
from tests.helpers.processes import ServiceProcess, service_env, still_alive

pytestmark = pytest.mark.e2e  # services killed and restarted for real


def _wait_running(client, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}").json()
        if status["status"] == "running" and status["progress"]["frames_done"] >= 1:
            return status
        time.sleep(0.05)
    raise TimeoutError(f"{job_id} never ran: {status}")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_killed_service_finishes_the_job_after_restart(
    tmp_path, inputs, database: str, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path}/axis.db"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    env = {
        "AXIS_DATABASE__URL": url,
        "AXIS_STORE__URL": f"file://{tmp_path}/store",
        "AXIS_INPUTS__ALLOWED_ROOTS": json.dumps([str(inputs["root"])]),
        "AXIS_PROCESSING__WORKERS": "1",
        "AXIS_QUEUE__WORKERS": "1",
        "AXIS_SERVICE__LEASE_S": "2",
        "AXIS_SERVICE__HEARTBEAT_S": "0.4",
        "AXIS_SERVICE__POLL_S": "0.2",
    }
    job_id = f"kill-{database}"
    first = ServiceProcess(env, tmp_path / "first.log").start()
    try:
        with first.client() as client:
            body = {
                "job_id": job_id,
                "video_source_url": f"file://{inputs['root'] / 'long.mp4'}",
                "options": {"width": 1600},
            }
            assert client.post("/generate", json=body).status_code == 202
            status = _wait_running(client, job_id)
            assert status["progress"]["frames_done"] < status["progress"]["frames_total"]
            response = client.get(f"/jobs/{job_id}/lines.json")
            assert response.status_code == 409
            assert response.json()["error"]["code"] == "job_not_completed"
        first.kill9()
    finally:
        first.stop()
    second = ServiceProcess(env, tmp_path / "second.log").start()
    try:
        with second.client() as client:
            assert client.get(f"/jobs/{job_id}").json()["status"] == "running"  # as left
            final = wait_job(client, job_id, timeout=120)
            assert final["status"] == "completed", final
            assert final["attempts"] == 2
            assert (tmp_path / "store" / job_id / "axis" / "lines.json").is_file()
    finally:
        second.stop()


def test_killed_server_leaves_no_worker_process(tmp_path, inputs, report_figure) -> None:
    """Issue 17: ``kill -9`` of ``axis serve axis`` mid-job leaves no child process alive
    after 5 s (the frame pool's workers used to live on, reading a queue nobody writes)."""
    env = {
        **service_env(tmp_path, inputs["root"]),
        "AXIS_PROCESSING__WORKERS": "3",
        "AXIS_QUEUE__WORKERS": "1",
    }
    server = ServiceProcess(env, tmp_path / "serve.log").start()
    try:
        assert server.process is not None
        with server.client() as client:
            clip = f"file://{inputs['root'] / 'long.mp4'}"
            body = {"job_id": "orphans", "video_source_url": clip, "options": {"width": 1600}}
            assert client.post("/generate", json=body).status_code == 202
            _wait_running(client, "orphans")
        parent = psutil.Process(server.process.pid)
        children = parent.children(recursive=True)  # the forkserver and the pool's workers
        assert len(children) >= 3, children
        server.kill9()
        killed = time.monotonic()
        while still_alive(children) and time.monotonic() - killed < 5.0:
            time.sleep(0.1)
        left = still_alive(children)
        report_figure(
            f"kill -9 of axis serve: {len(children)} child processes, "
            f"{len(children) - len(left)} gone within {time.monotonic() - killed:.1f} s, "
            f"{len(left)} left (bar: none after 5 s)"
        )
        assert not left, [(p.pid, p.name(), p.cmdline()[:4]) for p in left]
    finally:
        server.stop()
        for proc in still_alive(locals().get("children", [])):
            proc.kill()  # never leave them behind for the next test, even when this one fails


def test_standalone_embedded_worker_runs_jobs_from_the_database(tmp_path, inputs) -> None:
    """``axis worker`` with the embedded backend: no HTTP, just the shared database."""
    from talos.axis.service.api_models import GenerateRequest
    from talos.axis.service.jobs import JobService
    from talos.axis.service.runtime import build_runtime
    from talos.config import Settings

    env = {
        **service_env(tmp_path, inputs["root"]),
        "AXIS_PROCESSING__WORKERS": "1",
        "AXIS_SERVICE__POLL_S": "0.2",
    }
    settings = Settings(
        database={"url": env["AXIS_DATABASE__URL"]}, store={"url": env["AXIS_STORE__URL"]}
    )
    jobs = JobService(build_runtime(settings, check=False))
    request = GenerateRequest(job_id="solo", video_source_url=f"file://{inputs['root']}/clip.mp4")
    jobs.submit(request)
    worker = ServiceProcess(env, tmp_path / "worker.log", command="worker").start(wait=False)
    try:
        deadline = time.monotonic() + 60
        while jobs.get("solo").status != "completed" and time.monotonic() < deadline:
            assert worker.process.poll() is None, worker.log()
            time.sleep(0.1)
        job = jobs.get("solo")
        assert job.status == "completed" and job.frames_done == 8
        assert (tmp_path / "store" / "solo" / "axis" / "frames" / "000007.svg").is_file()
    finally:
        worker.stop()

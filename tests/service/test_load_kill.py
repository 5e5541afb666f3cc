"""Issue 17's load bar: N submits with bounded concurrency to ``axis serve axis`` plus a
separate ``axis worker`` (one SQLite database), both killed with SIGKILL half-way through and
started again. Every accepted job reaches a terminal state, no child of a killed process
outlives it by 5 s, and the servers' memory (RSS) ends within 20 % of where it started.

The suite runs N = 30 (tiny generated clips: 64×48, 3 frames); the bar's N = 200 runs the
same test with ``TALOS_LOAD_N=200`` (README, "Hardening").
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest
from tests.helpers.processes import ServiceProcess, service_env, still_alive

from talos.axis.io.sample import generate_sample

pytestmark = pytest.mark.e2e  # real servers killed and restarted

N = int(os.environ.get("TALOS_LOAD_N", "30"))
CONCURRENCY = 8
TERMINAL = ("completed", "failed")


def _tree(proc: ServiceProcess) -> list[psutil.Process]:
    """The server process and every process below it."""
    assert proc.process is not None
    parent = psutil.Process(proc.process.pid)
    return [parent, *parent.children(recursive=True)]


def _rss_mb(procs: list[ServiceProcess]) -> float:
    """Resident memory of the servers themselves (not their short-lived frame pools), MB."""
    return sum(psutil.Process(p.process.pid).memory_info().rss for p in procs if p.process) / 2**20


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {proc.status()} ppid={proc.ppid()} {' '.join(proc.cmdline())[-120:]}"
    except psutil.Error:
        return f"{proc.pid} gone"


def _submit(url: str, job_id: str, clip: str) -> str:
    """POST one job; its id if accepted (202), else "" (refused, or nobody listening)."""
    body = {"job_id": job_id, "video_source_url": clip}
    try:
        answer = httpx.post(f"{url}/generate", json=body, timeout=30)
    except httpx.TransportError:
        return ""
    return job_id if answer.status_code == 202 else ""


def test_load_with_kill9_of_api_and_worker(tmp_path, report_figure) -> None:
    clip = tmp_path / "inputs" / "tiny.mp4"
    generate_sample(clip, width=64, height=48, frames=3, seed=11)
    env = {
        **service_env(tmp_path, tmp_path / "inputs"),
        "AXIS_PROCESSING__WORKERS": "2",  # a frame pool per job: its workers must not leak
        "AXIS_QUEUE__WORKERS": "2",
        "AXIS_QUEUE__MAX_PENDING": str(2 * N),
        "AXIS_SERVICE__LEASE_S": "3",
        "AXIS_SERVICE__HEARTBEAT_S": "0.5",
        "AXIS_SERVICE__POLL_S": "0.2",
    }
    api = ServiceProcess(env, tmp_path / "api.log")
    worker = ServiceProcess(env, tmp_path / "worker.log", command="worker")
    worker.ready_line = "embedded worker pool"  # what `axis worker` logs once it polls
    api.start()
    worker.start()
    servers = [api, worker]
    started = time.monotonic()
    # Warm up first (the first job imports the engine's steps): the bar is about memory
    # that load leaves behind, not about modules loaded once.
    with ThreadPoolExecutor(max_workers=4) as pool:
        warm = list(pool.map(lambda j: _submit(api.url, j, f"file://{clip}"),
                             [f"warm-{i}" for i in range(4)]))  # fmt: skip
    with api.client() as client:
        for job_id in warm:
            while job_id and client.get(f"/jobs/{job_id}").json()["status"] not in TERMINAL:
                time.sleep(0.2)
    rss_start = _rss_mb(servers)
    accepted: list[str] = []
    killed_children: list[psutil.Process] = []
    orphan_s = 0.0
    try:
        ids = [f"load-{i:04d}" for i in range(N)]
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            first = list(pool.map(lambda j: _submit(api.url, j, f"file://{clip}"), ids[: N // 2]))
            accepted += [j for j in first if j]
            # Half-way: both processes die at once, mid-job, with whatever they hold.
            trees = _tree(api) + _tree(worker)
            killed_children = [p for p in trees if p.pid not in (api.process.pid,
                                                                  worker.process.pid)]  # fmt: skip
            api.kill9()
            worker.kill9()
            killed = time.monotonic()
            while still_alive(killed_children) and time.monotonic() - killed < 5.0:
                time.sleep(0.1)
            orphan_s = time.monotonic() - killed
            orphans = still_alive(killed_children)
            seen = [_describe(p) for p in orphans]
            api.start()
            worker.start()
            second = list(pool.map(lambda j: _submit(api.url, j, f"file://{clip}"), ids[N // 2 :]))
            accepted += [j for j in second if j]
        statuses: dict[str, str] = {}
        deadline = time.monotonic() + max(300.0, 3.0 * N)
        with api.client() as client:
            while time.monotonic() < deadline:
                for job_id in accepted:
                    if statuses.get(job_id) not in TERMINAL:
                        statuses[job_id] = client.get(f"/jobs/{job_id}").json()["status"]
                if all(s in TERMINAL for s in statuses.values()):
                    break
                time.sleep(0.5)
        time.sleep(1.0)  # let the last job's memory go
        rss_end = _rss_mb(servers)
        done = sum(s == "completed" for s in statuses.values())
        failed = sum(s == "failed" for s in statuses.values())
        waiting = [j for j, s in statuses.items() if s not in TERMINAL]
        report_figure(
            f"load N={N} (concurrency {CONCURRENCY}, kill -9 of API and worker half-way): "
            f"{len(accepted)} accepted, {done} completed, {failed} failed, {len(waiting)} not "
            f"terminal; {len(killed_children)} children of the killed processes, "
            f"{len(orphans)} alive {orphan_s:.1f} s later; RSS of API + worker {rss_start:.0f} "
            f"-> {rss_end:.0f} MB ({100 * (rss_end / rss_start - 1):+.0f} %); "
            f"{time.monotonic() - started:.0f} s"
        )
        assert not orphans, "\n".join(seen)
        assert len(accepted) >= N // 2, "most submits must be accepted"
        assert not waiting, {j: statuses[j] for j in waiting[:10]}
        assert failed == 0, {j: s for j, s in statuses.items() if s == "failed"}
        assert rss_end <= 1.2 * rss_start
    finally:
        for server in servers:
            server.stop()
        for proc in still_alive(killed_children):
            proc.kill()

"""Fixtures for the Orchestrator tests: the four TALOS services as real processes on loopback,
plus real fault-injecting proxies in front of AXIS and of the Orchestrator's callbacks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.helpers.databases import fresh_postgres_database
from tests.helpers.processes import (
    AXIS,
    REPO_ROOT,
    ServerProcess,
    clean_env,
    free_port,
    service_env,
)

from talos.axis.io.sample import generate_sample

PROXY_SCRIPT = Path(__file__).with_name("fault_proxy.py")
CALLBACK_TOKEN = "test-callback-secret"


@dataclass
class Pipeline:
    root: Path
    clip: Path
    call_log: Path
    procs: dict[str, ServerProcess]

    callback_token: str = CALLBACK_TOKEN

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """The real ``axis`` command in a subprocess, with the pipeline's settings."""
        full_env = {**self["orchestrator"].env, **(env or {})}
        return subprocess.run(
            [*AXIS, *args], cwd=REPO_ROOT, env=full_env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def __getitem__(self, name: str) -> ServerProcess:
        return self.procs[name]

    @property
    def orchestrator(self) -> httpx.Client:
        return httpx.Client(base_url=self["orchestrator"].url, timeout=30)

    def faults(self, proxy: str, path: str, actions: list[str]) -> None:
        answer = httpx.post(f"{self[proxy].url}/_faults", json={"path": path, "actions": actions})
        answer.raise_for_status()

    def restart(self, name: str) -> None:
        proc = self[name]
        proc.stop() if proc.process and proc.process.poll() is None else None
        proc.start()

    def wait_job(self, job_id: str, timeout: float = 90.0, until: tuple[str, ...] = (
        "completed", "failed")) -> dict:  # fmt: skip
        deadline = time.monotonic() + timeout
        body: dict = {}
        with self.orchestrator as client:
            while time.monotonic() < deadline:
                body = client.get(f"/jobs/{job_id}").json()
                if body.get("status") in until:
                    return body
                time.sleep(0.2)
        logs = {n: p.log()[-3000:] for n, p in self.procs.items()}
        raise TimeoutError(f"job {job_id} still {body.get('status')}: {body}\n{logs}")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Orchestrator, PRISM, AXIS and CHROMA as separate `axis serve MODULE` processes, with a
    fault proxy in front of AXIS (``axis_proxy``) and one in front of the Orchestrator's
    callback endpoint (``callback_proxy``). Short backoff and stage timeout."""
    root = tmp_path_factory.mktemp("pipeline")
    clip = root / "inputs" / "clip.mp4"
    generate_sample(clip, width=192, height=144, frames=8, seed=7)
    ports = {n: free_port() for n in ("orchestrator", "prism", "axis", "chroma", "ap", "cp")}
    call_log = root / "calls.jsonl"
    env = clean_env(
        {
            **service_env(root, root),
            "AXIS_ORCHESTRATOR__DATABASE_URL": f"sqlite:///{root / 'orchestrator.db'}",
            "AXIS_TRACING__CALL_LOG": os.environ.get("AXIS_TRACING__CALL_LOG") or str(call_log),
            "AXIS_PROCESSING__WORKERS": "1",
            "AXIS_ORCHESTRATOR__PORT": str(ports["orchestrator"]),
            "AXIS_PRISM__PORT": str(ports["prism"]),
            "AXIS_SERVICE__PORT": str(ports["axis"]),
            "AXIS_CHROMA__PORT": str(ports["chroma"]),
            "AXIS_SERVICES__PRISM_URL": f"http://127.0.0.1:{ports['prism']}",
            "AXIS_SERVICES__AXIS_URL": f"http://127.0.0.1:{ports['ap']}",
            "AXIS_SERVICES__CHROMA_URL": f"http://127.0.0.1:{ports['chroma']}",
            "AXIS_CALLBACKS__ORCHESTRATOR_URL": (
                f"http://127.0.0.1:{ports['cp']}/callbacks/job-completed"
            ),
            "AXIS_CALLBACKS__ATTEMPTS": "2",
            "AXIS_CALLBACKS__BACKOFF_S": "0.2",
            "AXIS_ORCHESTRATOR__CALLBACK_TOKEN": CALLBACK_TOKEN,
            "AXIS_ORCHESTRATOR__RETRY_ATTEMPTS": "3",
            "AXIS_ORCHESTRATOR__BACKOFF_BASE_S": "0.2",
            "AXIS_ORCHESTRATOR__BACKOFF_CAP_S": "1.0",
            "AXIS_ORCHESTRATOR__BACKOFF_JITTER_S": "0.1",
            "AXIS_ORCHESTRATOR__STAGE_TIMEOUT_S": "12",  # AXIS needs ~2 s here; margin for load
            "AXIS_ORCHESTRATOR__REQUEST_TIMEOUT_S": "5",
            "AXIS_ORCHESTRATOR__POLL_INTERVAL_S": "0.1",
            "AXIS_SERVICE__POLL_S": "0.1",
        }
    )
    serve = [*AXIS, "serve"]
    procs = {
        name: ServerProcess(
            name, [*serve, name], env, ports[name], "/healthz", root / f"{name}.log"
        )
        for name in ("orchestrator", "prism", "axis", "chroma")
    }
    for proxy, target in (("axis_proxy", "axis"), ("callback_proxy", "orchestrator")):
        port = ports["ap" if proxy == "axis_proxy" else "cp"]
        args = [sys.executable, str(PROXY_SCRIPT), str(port), procs[target].url]
        procs[proxy] = ServerProcess(proxy, args, env, port, "/_faults", root / f"{proxy}.log")
    for proc in procs.values():  # all at once; then wait for each
        proc.start(wait=False)
    pipe = Pipeline(root, clip, call_log, procs)
    try:
        for proc in procs.values():
            proc.wait()
        yield pipe
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.e2e)])
def orchestrator_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The Orchestrator's database: a SQLite file, or a fresh database on the machine's
    PostgreSQL (127.0.0.1:5432), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/orchestrator.db"
        return
    with fresh_postgres_database("orch_test") as url:
        yield url

"""The four TALOS services as real processes on loopback for the fuzzer and the load test:
one temporary root holding their SQLite databases, the store and the allowed inputs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.processes import AXIS, ServerProcess, clean_env, free_port, service_env

SERVICES = ("orchestrator", "prism", "axis", "chroma")
# Where each module's port setting lives (AXIS's is the `service` section).
PORT_SETTING = {
    "orchestrator": "AXIS_ORCHESTRATOR__PORT",
    "prism": "AXIS_PRISM__PORT",
    "axis": "AXIS_SERVICE__PORT",
    "chroma": "AXIS_CHROMA__PORT",
}


def services_env(root: Path, ports: dict[str, int], extra: dict[str, str]) -> dict[str, str]:
    """The settings every service of one set shares: files under ``root``, each other's
    loopback ports, short retries; ``extra`` last."""
    env = {
        **service_env(root, root / "inputs"),
        "AXIS_ORCHESTRATOR__DATABASE_URL": f"sqlite:///{root / 'orchestrator.db'}",
        "AXIS_SERVICES__PRISM_URL": f"http://127.0.0.1:{ports['prism']}",
        "AXIS_SERVICES__AXIS_URL": f"http://127.0.0.1:{ports['axis']}",
        "AXIS_SERVICES__CHROMA_URL": f"http://127.0.0.1:{ports['chroma']}",
        "AXIS_CALLBACKS__ORCHESTRATOR_URL": (
            f"http://127.0.0.1:{ports['orchestrator']}/callbacks/job-completed"
        ),
        "AXIS_CALLBACKS__ATTEMPTS": "2",
        "AXIS_CALLBACKS__BACKOFF_S": "0.2",
        "AXIS_ORCHESTRATOR__BACKOFF_BASE_S": "0.2",
        "AXIS_ORCHESTRATOR__BACKOFF_CAP_S": "1.0",
        "AXIS_ORCHESTRATOR__POLL_INTERVAL_S": "0.2",
        "AXIS_SERVICE__POLL_S": "0.2",
        "AXIS_PROCESSING__WORKERS": "1",
        **{PORT_SETTING[name]: str(port) for name, port in ports.items()},
    }
    env.update(extra)
    return clean_env(env)


@contextmanager
def running_services(
    root: Path, extra: dict[str, str] | None = None, names: tuple[str, ...] = SERVICES
) -> Iterator[dict[str, ServerProcess]]:
    """``axis serve NAME`` for each of ``names``, started together, stopped at the end."""
    (root / "inputs").mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in SERVICES}
    env = services_env(root, ports, extra or {})
    procs = {
        name: ServerProcess(
            name, [*AXIS, "serve", name], env, ports[name], "/healthz", root / f"{name}.log"
        )
        for name in names
    }
    try:
        for proc in procs.values():
            proc.start(wait=False)
        for proc in procs.values():
            proc.wait()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()

"""Real processes for the tests: the ``axis`` command, and TALOS servers on free loopback
ports with the helpers to wait for them and stop them. Every test that starts a process goes
through here, so a change to how servers start (a flag, a timeout) is made once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parents[2]
AXIS = [sys.executable, "-m", "talos.cli"]  # the `axis` command of the code under test


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``AXIS_*`` variables (the developer's shell must
    not leak into a test), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXIS_")}
    env.update(extra or {})
    return env


def service_env(base: Path, inputs_root: Path) -> dict[str, str]:
    """The settings of an AXIS service that keeps its state under ``base`` (SQLite
    ``axis.db``, a file store in ``store/``) and reads inputs from ``inputs_root`` only."""
    return {
        "AXIS_DATABASE__URL": f"sqlite:///{base / 'axis.db'}",
        "AXIS_STORE__URL": f"file://{base / 'store'}",
        "AXIS_INPUTS__ALLOWED_ROOTS": json.dumps([str(inputs_root)]),
    }


def run_axis(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``axis`` command in a subprocess."""
    return subprocess.run(
        [*AXIS, *args],
        cwd=cwd or REPO_ROOT,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def trace_sample(root: Path, width: int, height: int, frames: int = 8) -> tuple[Path, Path]:
    """A generated clip of ``width`` x ``height`` px traced by the real CLI (``axis sample``,
    then ``axis trace``, one worker): ``(clip, trace folder)`` under ``root``."""
    clip, out = root / "clip.mp4", root / "trace"
    size = ("--width", str(width), "--height", str(height), "--frames", str(frames))
    made = run_axis("sample", str(clip), *size)
    assert made.returncode == 0, made.stderr
    traced = run_axis("trace", str(clip), "-o", str(out), "--workers", "1", "--quiet")
    assert traced.returncode == 0, traced.stderr
    return clip, out


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def free_port() -> int:
    """A TCP port nobody listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    """Poll ``url`` until it answers with a status below 500, or fail: at once if ``process``
    (the server) exits, else after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ServerProcess:
    """One real server process, started from the repository root, its output appended to
    ``log_path``. It is ready when ``health`` (a path on ``port``) answers, or, with no
    ``health`` (a worker has no port), when its log shows ``ready_line``."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        port: int,
        health: str | None,
        log_path: str | Path,
        ready_line: str = " ready",
    ) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.port = port
        self.health = health
        self.log_path = Path(log_path)
        self.ready_line = ready_line
        self.process: subprocess.Popen | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> ServerProcess:
        """Start the process; with ``wait``, return once it is ready."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop() / kill9()
        self.process = subprocess.Popen(
            self.args, cwd=REPO_ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        if wait:
            self.wait()
        return self

    def wait(self, timeout: float = 60.0) -> ServerProcess:
        """Return once the process is ready; the error carries the end of its log."""
        assert self.process is not None, "start() first"
        try:
            if self.health is not None:
                wait_http(self.url + self.health, self.process, timeout)
            else:
                self._wait_for_log(timeout)
        except (RuntimeError, TimeoutError) as exc:
            raise type(exc)(f"{self.name}: {exc}\n{self.log()[-3000:]}") from None
        return self

    def _wait_for_log(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_line in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"exited with {self.process.returncode} before it was ready")
            time.sleep(0.1)
        raise TimeoutError(f"not ready within {timeout} s")

    def kill9(self) -> None:
        """SIGKILL: no clean-up, no goodbye (a crashed machine)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self._close_log()

    def stop(self, grace: float = 15.0) -> None:
        if self.process is not None:
            stop(self.process, grace)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


class ServiceProcess(ServerProcess):
    """``axis serve axis`` (or ``axis worker``) on a free loopback port, with this process's
    environment minus ``AXIS_*``, plus ``env``."""

    def __init__(self, env: dict[str, str], log_path: str | Path, command: str = "serve") -> None:
        port = free_port()
        args = [*AXIS, command]
        if command == "serve":
            args += ["axis", "--host", "127.0.0.1", "--port", str(port)]
        health = "/healthz" if command == "serve" else None
        super().__init__(f"axis {command}", args, clean_env(env), port, health, log_path)


def still_alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The processes still there; a zombie (gone, waiting to be reaped) holds nothing."""
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive

"""Helpers of the service tests: real processes on loopback, HTTP polling, a callback server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers (any status) or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


REPO_ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    """``axis serve axis`` (or ``axis worker``) as a real process on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path, command: str = "serve") -> None:  # noqa: ANN001
        self.env = env
        self.log_path = log_path
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> ServiceProcess:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AXIS_")}
        full_env.update(self.env)
        args = [sys.executable, "-m", "talos.cli", self.command]
        if self.command == "serve":
            args += ["axis", "--host", "127.0.0.1", "--port", str(self.port)]
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            args, cwd=REPO_ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT
        )
        if wait and self.command == "serve":
            wait_http(f"{self.url}/healthz", timeout=60, process=self.process)
        elif wait:
            self._wait_for_log(" ready", timeout=60)
        return self

    def _wait_for_log(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command} exited early:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.command} not ready in {timeout} s:\n{self.log()[-3000:]}")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up, no goodbye
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self._log.close()

    def log(self) -> str:
        return open(self.log_path, encoding="utf-8", errors="replace").read()

    def client(self, **kwargs) -> httpx.Client:  # noqa: ANN003
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


def wait_job(
    client: httpx.Client,
    job_id: str,
    timeout: float = 90.0,
    until: tuple[str, ...] = ("completed", "failed"),
) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/jobs/{job_id}").json()
        if body.get("status") in until:
            return body
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id} still {body.get('status')} after {timeout} s: {body}")


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """The answer has ``status`` and the one error body with ``code``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    return body["error"]


class CallbackServer:
    """A real HTTP server recording POSTed JSON; answers ``fail_first`` requests with 503."""

    def __init__(self, fail_first: int = 0) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.attempts += 1
                if outer.attempts <= outer.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:  # noqa: ANN002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/job-completed"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def for_job(self, job_id: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in self.received:
                if body.get("job_id") == job_id:
                    return body
            time.sleep(0.05)
        raise TimeoutError(f"no callback for {job_id}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

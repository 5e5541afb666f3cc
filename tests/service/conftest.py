"""Fixtures for the service tests: real servers (moto S3, PostgreSQL, Redis) on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

MOTO_KEY = "testing-key"
MOTO_SECRET = "testing-secret"


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


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[dict[str, str]]:
    """A real S3-compatible server (moto in server mode) with a fresh bucket."""
    port = free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": MOTO_KEY, "AWS_SECRET_ACCESS_KEY": MOTO_SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_http(endpoint, process=process)
        bucket = f"axis-{uuid.uuid4().hex[:8]}"
        httpx.put(f"{endpoint}/{bucket}", timeout=10).raise_for_status()
        yield {
            "endpoint_url": endpoint,
            "bucket": bucket,
            "access_key_id": MOTO_KEY,
            "secret_access_key": MOTO_SECRET,
        }
    finally:
        stop(process)

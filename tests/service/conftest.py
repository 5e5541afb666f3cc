"""Fixtures for the service tests: real servers (moto S3, PostgreSQL, Redis) on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from tests.helpers.api import CallbackServer
from tests.helpers.databases import fresh_postgres_database
from tests.helpers.processes import free_port, stop, wait_http

MOTO_KEY = "testing-key"
MOTO_SECRET = "testing-secret"


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
        wait_http(endpoint, process=process, timeout=30)
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


@pytest.fixture(scope="module")
def callbacks() -> Iterator[CallbackServer]:
    server = CallbackServer(fail_first=1)  # each module's first callback is retried
    yield server
    server.close()


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory):
    """The allowed input folder: small clips, a cut spec, bad files; and an outside file."""
    import json

    from talos.axis.io.sample import generate_sample

    root = tmp_path_factory.mktemp("inputs")
    outside = tmp_path_factory.mktemp("outside")
    generate_sample(root / "clip.mp4", width=160, height=120, frames=8, seed=1)
    generate_sample(root / "long.mp4", width=160, height=120, frames=96, seed=2)
    generate_sample(root / "wide.mp4", width=800, height=200, frames=2, seed=3)
    (root / "garbage.mp4").write_bytes(b"this is not a video" * 100)
    (root / "empty.mp4").write_bytes(b"")
    spec = {
        "version": "1.0",
        "job_id": "x",
        "fps": 24,
        "frame_range": [0, 5],
        "resolution": {"width": 640, "height": 480},
        "layers": ["background", "foreground"],
        "style": "ink",
    }
    (root / "cut_spec.json").write_text(json.dumps(spec))
    (root / "cut_spec_16x9.json").write_text(
        json.dumps({**spec, "resolution": {"width": 1920, "height": 1080}})
    )
    (root / "cut_spec_range.json").write_text(json.dumps({**spec, "frame_range": [0, 500]}))
    (root / "cut_spec_bad.json").write_text("{not json")
    generate_sample(outside / "secret.mp4", width=160, height=120, frames=2, seed=4)
    (root / "escape.mp4").symlink_to(outside / "secret.mp4")
    return {"root": root, "outside": outside}


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test module, dropped afterwards."""
    with fresh_postgres_database("axis_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database of its own (flushed first), on the machine's Redis."""
    import redis

    db = 13
    client = redis.Redis(host="127.0.0.1", port=6379, db=db)
    client.flushdb()
    client.close()
    return f"redis://127.0.0.1:6379/{db}"

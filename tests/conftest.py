"""Shared fixtures: generated clips (never committed) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from talos.axis.io.sample import generate_sample

REPO_ROOT = Path(__file__).resolve().parents[1]

# CI explores the same property-test examples on every run, so a red build means a change
# broke something; local runs keep drawing new examples.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AXIS_* variable of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("AXIS_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def sample_clip(clips: Path) -> Path:
    """A small 320×240, 16-frame generated clip with ground truth beside it."""
    path = clips / "small.mp4"
    generate_sample(path, width=320, height=240, frames=16, seed=3)
    return path


@pytest.fixture(scope="session")
def medium_clip(clips: Path) -> Path:
    """A 640×360, 24-frame generated clip."""
    path = clips / "medium.mp4"
    generate_sample(path, width=640, height=360, frames=24, seed=5)
    return path


def run_axis(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``axis`` command in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AXIS_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "talos.cli", *args],
        cwd=cwd or REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Non-zero exit, one line on stderr naming the problem, no traceback."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new database on the machine's PostgreSQL (127.0.0.1:5432, trust auth); its URL is
    yielded and the database dropped afterwards, even if clients are still connected."""
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

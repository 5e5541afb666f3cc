"""The viewer's browser tests: a real AXIS service process (SQLite, file store, API keys on),
jobs traced from small generated clips, and Debian's chromium driven by Playwright.

Chromium is a system package (``apt-get install chromium``; .ci/run installs it). These tests
fail when it is missing; ``AXIS_SKIP_BROWSER=1`` skips them on a developer's machine only."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.helpers.api import wait_job
from tests.helpers.processes import REPO_ROOT, ServiceProcess, service_env

API_KEY = "viewer-test-key"
# Debian's chromium; else a Chrome already on the machine (GitHub's Ubuntu runners have one,
# and their apt "chromium" is only a snap stub); AXIS_CHROMIUM names another
BROWSERS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


# read at import: tests/conftest.py removes every AXIS_* variable while a test runs
NAMED_BROWSER = os.environ.get("AXIS_CHROMIUM")
SKIP_BROWSER = os.environ.get("AXIS_SKIP_BROWSER") == "1"


def find_chromium() -> str | None:
    """The browser the tests drive: ``AXIS_CHROMIUM``, else the first of :data:`BROWSERS`."""
    named = NAMED_BROWSER
    for candidate in (named,) if named else BROWSERS:
        if Path(candidate).is_file():
            return candidate
        found = shutil.which(candidate)
        if found:
            return found
    return None


# wait_for_function polls on a timer, not on animation frames: a page behind another one in
# the same browser gets none
POLL_MS = 25
ARTIFACTS = REPO_ROOT / "out" / "test-artifacts" / "viewer"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium per test module (the system browser: Playwright may not
    download its own here). Not one per session: Playwright's sync API keeps an event loop
    running while it is open, and a later test that starts Playwright itself (the exports'
    browser check) would find it."""
    if SKIP_BROWSER:
        pytest.skip("AXIS_SKIP_BROWSER=1: browser tests skipped on request")
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(
            f"no chromium found ({NAMED_BROWSER or ', '.join(BROWSERS)}): "
            "apt-get install chromium, or set AXIS_CHROMIUM (AXIS_SKIP_BROWSER=1 skips these "
            "tests)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def viewer_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The service with the jobs the tests look at:

    - ``clip``: 12 frames, 320x240, traced, with PNGs (the one every playback/edit test uses);
    - ``damaged``: the same clip, then frame 2's JSON deleted and frame 3's overwritten;
    - ``broken``: failed, as a worker records a failure;
    - ``busy``: shown as running, 3 of 10 frames done (a row with a live lease: no worker
      takes it). These two are rows written into the service's database: a job caught
      mid-run or failing on cue would make the tests slow or flaky."""
    from talos.axis.io.sample import generate_sample

    base = tmp_path_factory.mktemp("viewer")
    inputs = base / "inputs"
    inputs.mkdir()
    generate_sample(inputs / "clip.mp4", width=320, height=240, frames=12, seed=5)
    env = {
        **service_env(base, inputs),
        "AXIS_PROCESSING__WORKERS": "1",
        "AXIS_SERVICE__WORK_DIR": str(base / "work"),
        "AXIS_API_KEYS": API_KEY,
    }
    service = ServiceProcess(env, base / "service.log").start()
    try:
        with service.client(headers={"X-API-Key": API_KEY}) as client:
            clip = (inputs / "clip.mp4").as_uri()
            for job_id, url, options in (
                ("clip", clip, {"write_png": True}),
                ("damaged", clip, {}),
            ):
                body = {"job_id": job_id, "video_source_url": url, "options": options}
                assert client.post("/generate", json=body).status_code == 202
            for job_id in ("clip", "damaged"):
                wait_job(client, job_id, timeout=120)
            assert client.get("/jobs/clip").json()["status"] == "completed"
        frames = base / "store" / "damaged" / "axis" / "frames"
        (frames / "000002.json").unlink()
        (frames / "000003.json").write_text('{"width": 320, "strokes": [')
        _insert_jobs(f"sqlite:///{base}/axis.db")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield {"service": service, "url": service.url, "base": base, "inputs": inputs}
    finally:
        service.stop()


def _insert_jobs(db_url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from talos.axis.service.tables import Job

    common = {"request_hash": "0" * 64, "attempts": 1, "callback_attempts": 0}
    engine = create_engine(db_url)
    with Session(engine) as session, session.begin():
        session.add(
            Job(
                job_id="busy",
                request={"job_id": "busy", "video_source_url": "file:///nowhere.mp4"},
                status="running",
                lease_owner="a-test",
                lease_expires_at=time.time() + 3600,
                frames_done=3,
                frames_total=10,
                **common,
            )
        )
        session.add(
            Job(
                job_id="broken",
                request={"job_id": "broken", "video_source_url": "file:///nowhere.mp4"},
                status="failed",
                frames_done=0,
                error_code="video_unreadable",
                error_status=422,
                error_message="the video could not be decoded",
                **common,
            )
        )
    engine.dispose()


@pytest.fixture
def api(viewer_env: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=viewer_env["url"], headers={"X-API-Key": API_KEY}, timeout=30
    ) as client:
        yield client


def _keyed_context(browser: Any) -> Any:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    ctx.add_init_script(f"sessionStorage.setItem('axis.apiKey', {json.dumps(API_KEY)})")
    return ctx


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context whose pages start with the API key in sessionStorage (as if
    typed into the key form once; the form itself has its own test)."""
    ctx = _keyed_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def other_context(browser: Any) -> Iterator[Any]:
    """A second person's browser (its own window: a page behind another gets no animation
    frames, and Chromium delivers mouse moves with them)."""
    ctx = _keyed_context(browser)
    yield ctx
    ctx.close()


def open_shot(ctx: Any, base_url: str, job_id: str, frame: int = 0, state: str = "ready") -> Any:
    """A page on the shot view of ``job_id``, waited until its state is ``state``."""
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    fetched: list[str] = []  # the frame files the page asked for
    page.on("request", lambda r: "/frames/" in r.url and fetched.append(r.url))
    page.frames_fetched = fetched  # type: ignore[attr-defined]
    page.goto(f"{base_url}/viewer/#/job/{job_id}?frame={frame}")
    wait_state(page, state)
    return page


def wait_state(page: Any, state: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        f"document.getElementById('app').dataset.state === {json.dumps(state)}",
        timeout=timeout,
        polling=POLL_MS,
    )


def viewer_state(page: Any) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate("window.axisViewer.state")
    return state


def wait_until(page: Any, expression: str, timeout: float = 10_000) -> None:
    """Wait for a JS expression over ``s`` (the viewer's state snapshot) to be true."""
    script = f"(() => {{ const s = window.axisViewer.state; return {expression}; }})()"
    page.wait_for_function(script, timeout=timeout, polling=POLL_MS)


def screenshot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path

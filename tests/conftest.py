"""Shared fixtures: no AXIS_* variable leaks in, generated clips (never committed).

Helpers that start processes, talk to services or make databases are in ``tests/helpers/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from talos.axis.io.sample import generate_sample

# CI explores the same property-test examples on every run, so a red build means a change
# broke something; local runs keep drawing new examples.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


# Measured figures the tests report (fuzzing cases, recovery times, load): printed at the end
# of the run under "figures", so CI's test log carries them whether the tests pass or fail.
FIGURES: list[str] = []


@pytest.fixture
def report_figure() -> Callable[[str], None]:
    """``report_figure("what: value")`` adds one line to the run's "figures" section."""
    return FIGURES.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


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

"""schemathesis over the OpenAPI of all four services, as real processes on loopback.

Two sets of servers: one with no API keys configured, one with keys, fuzzed once with the
key and once without it (every protected operation must then answer 401, as documented).
Every check runs (``--checks all``) with a fixed seed; the figures (cases and failures per
service and run) go to the test log's "figures" section. The bar of issue 17: no answer
≥ 500, no schema violation, at least 5,000 cases in all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from tests.fuzz.services import SERVICES, running_services
from tests.helpers.processes import REPO_ROOT, clean_env

pytestmark = pytest.mark.e2e  # four servers as processes, twice

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 17
API_KEY = "fuzz-key"
# Cases per operation and phase; chosen so that the whole run is ≥ 5,000 cases and stays
# near two minutes on a 2-core machine.
EXAMPLES = {"orchestrator": 45, "prism": 40, "axis": 32, "chroma": 40}
KEYED_EXAMPLES = {"orchestrator": 25, "prism": 20, "axis": 20, "chroma": 20}
MIN_CASES = 5000


def _fuzz(url: str, report_dir: Path, headers: dict[str, str], examples: int) -> dict[str, Any]:
    """One ``st run`` over one service; its JSON report plus the text output."""
    st = Path(sys.executable).with_name("st")
    args = [
        str(st), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--checks", "all", "--seed", str(SEED), "--max-examples", str(examples),
        "--generation-database", "none", "--no-shrink", "--workers", "1", "--no-color",
        "--request-timeout", "20", "--report", "json", "--report-dir", str(report_dir),
    ]  # fmt: skip
    for key, value in headers.items():
        args += ["--header", f"{key}: {value}"]
    started = time.monotonic()
    done = subprocess.run(
        args, cwd=REPO_ROOT, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    reports = sorted(report_dir.glob("json-*.json"))
    assert reports, f"no schemathesis report for {url}:\n{done.stdout[-3000:]}{done.stderr}"
    report: dict[str, Any] = json.loads(reports[-1].read_text())
    report["_output"] = done.stdout[-6000:] + done.stderr[-2000:]
    report["_seconds"] = time.monotonic() - started
    return report


def _run_set(
    root: Path,
    env: dict[str, str],
    runs: list[tuple[str, str, dict[str, str], int]],
    report_figure: Callable[[str], None],
) -> tuple[int, list[str]]:
    """Start the four services with ``env``, then fuzz: each run is (label, service,
    headers, examples per operation); two at a time (each ``st`` is one busy process, the
    servers mostly wait). Returns (cases, the output of every run that found something)."""
    cases, problems = 0, []
    with running_services(root, env) as procs, ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            (label, name, pool.submit(
                _fuzz, procs[name].url, root / f"st-{label}-{name}", headers, examples
            ))
            for label, name, headers, examples in runs
        ]  # fmt: skip
        for label, name, future in futures:
            report = future.result()
            generated = report["test_cases"]["generated"]
            failures = report["failures"]
            cases += generated
            found = ", ".join(f"{f['code']} x{f['count']}" for f in failures) or "none"
            report_figure(
                f"fuzz {label} {name}: {generated} cases, {report['test_cases']['with_failures']}"
                f" with failures ({found}), {len(report['errors'])} errors, "
                f"{report['_seconds']:.1f} s"
            )
            if failures or report["errors"] or report["exit_code"] != 0:
                problems.append(f"{label} {name}:\n{report['_output']}")
    return cases, problems


def test_schemathesis_over_every_service(tmp_path, report_figure) -> None:
    started = time.monotonic()
    # No keys configured: every operation is open; the deep fuzzing of all four.
    open_runs = [("no-keys", name, {}, EXAMPLES[name]) for name in SERVICES]
    cases, problems = _run_set(tmp_path / "open", {}, open_runs, report_figure)
    # Keys configured: all four fuzzed again with the key, and without it, a few cases each
    # (a protected operation must answer 401, as its schema says).
    key = {"X-API-Key": API_KEY}
    keyed_runs = [("with-key", name, key, KEYED_EXAMPLES[name]) for name in SERVICES]
    keyed_runs += [("without-key", name, {}, 5) for name in SERVICES]
    more, more_problems = _run_set(
        tmp_path / "keyed", {"AXIS_API_KEYS": API_KEY}, keyed_runs, report_figure
    )
    total = cases + more
    problems += more_problems
    report_figure(
        f"fuzz total: {total} cases in {time.monotonic() - started:.0f} s, "
        f"{len(problems)} runs with failures (bar: >= {MIN_CASES} cases, none failing)"
    )
    assert not problems, "\n\n".join(problems)
    assert total >= MIN_CASES

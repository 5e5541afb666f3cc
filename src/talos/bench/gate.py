"""The CI performance gate: compare a short benchmark with ``benchmarks/baseline.json``.

Every figure compared is in calibration units (a step's p50 divided by the calibration
workload measured in the same run), so a faster or slower machine moves both alike. Per step,
``change = current / baseline − 1``; more than ``warn`` (15 %) slower warns loudly, more than
``fail`` (35 %) fails the run, naming the step. A step that takes under ``min_share`` of the
frame time in both runs is reported but not judged (a 0.3 ms step is all noise). The line
``(all steps)`` is the sum of the step p50s: it catches many small steps growing together.

A failed gate measures again and fails only for a step that failed both times
(:func:`confirm`): the gate must not flake on a busy machine. The baseline changes only by a
deliberate, reviewed commit (``axis bench --gate
--update-baseline`` writes it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASELINE_SCHEMA = "axis-bench-baseline/1"
TOTAL = "(all steps)"
STATUS_ORDER = ("ok", "new", "gone", "skipped", "warn", "fail")


class BaselineError(ValueError):
    """The baseline file is missing or unreadable; the message names it."""


@dataclass(frozen=True)
class GateThresholds:
    """Relative slow-downs that warn and fail; steps below ``min_share`` are not judged."""

    warn: float = 0.15
    fail: float = 0.35
    min_share: float = 0.05


@dataclass(frozen=True)
class StepVerdict:
    """One step's comparison. ``change`` is ``current / baseline − 1`` (None if either is
    missing); ``status`` is ok, warn, fail, new (not in the baseline), gone (only in the
    baseline) or skipped (too small to judge)."""

    step: str
    baseline_cal: float | None
    current_cal: float | None
    change: float | None
    status: str


@dataclass(frozen=True)
class GateResult:
    """All verdicts and the worst status among them (``ok``, ``warn`` or ``fail``)."""

    verdicts: list[StepVerdict]
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        worst = "ok"
        for verdict in self.verdicts:
            if verdict.status in ("warn", "fail") and STATUS_ORDER.index(
                verdict.status
            ) > STATUS_ORDER.index(worst):
                worst = verdict.status
        return worst

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "notes": list(self.notes),
            "steps": [
                {
                    "step": v.step,
                    "baseline_cal": v.baseline_cal,
                    "current_cal": v.current_cal,
                    "change": None if v.change is None else round(v.change, 4),
                    "status": v.status,
                }
                for v in self.verdicts
            ],
        }


def judge_step(
    step: str,
    baseline_cal: float | None,
    current_cal: float | None,
    share: float,
    thresholds: GateThresholds,
) -> StepVerdict:
    """The verdict for one step; ``share`` is the larger of its two frame-time shares."""
    if baseline_cal is None:
        return StepVerdict(step, None, current_cal, None, "new")
    if current_cal is None:
        return StepVerdict(step, baseline_cal, None, None, "gone")
    change = current_cal / baseline_cal - 1.0 if baseline_cal > 0 else 0.0
    if share < thresholds.min_share:
        status = "skipped"
    elif change > thresholds.fail:
        status = "fail"
    elif change > thresholds.warn:
        status = "warn"
    else:
        status = "ok"
    return StepVerdict(step, baseline_cal, current_cal, change, status)


def compare_steps(
    current: Mapping[str, Mapping[str, float]],
    baseline: Mapping[str, Mapping[str, float]],
    thresholds: GateThresholds = GateThresholds(),
) -> GateResult:
    """Compare per-step figures ``{step: {"p50_cal": x, "share": s}}`` with the baseline's."""
    verdicts = []
    for step in [*baseline, *(s for s in current if s not in baseline)]:
        now, then = current.get(step), baseline.get(step)
        share = max(
            float(now.get("share", 0.0)) if now else 0.0,
            float(then.get("share", 0.0)) if then else 0.0,
        )
        verdicts.append(
            judge_step(
                step,
                None if then is None else float(then["p50_cal"]),
                None if now is None else float(now["p50_cal"]),
                share,
                thresholds,
            )
        )
    common = [s for s in baseline if s in current]
    if common:
        verdicts.append(
            judge_step(
                TOTAL,
                sum(float(baseline[s]["p50_cal"]) for s in common),
                sum(float(current[s]["p50_cal"]) for s in common),
                1.0,
                thresholds,
            )
        )
    return GateResult(verdicts)


def confirm(first: GateResult, second: GateResult) -> GateResult:
    """Combine a failed gate with a second measurement: a step keeps the milder of its two
    verdicts (``fail`` only if it failed both times), so one noisy run cannot fail CI while a
    real regression, which shows every time, still does. Figures are the second run's."""
    severity = {"ok": 0, "warn": 1, "fail": 2}
    earlier = {v.step: v for v in first.verdicts}
    verdicts = []
    for verdict in second.verdicts:
        before = earlier.get(verdict.step)
        if (
            before is not None
            and verdict.status in severity
            and before.status in severity
            and severity[before.status] < severity[verdict.status]
        ):
            verdict = StepVerdict(
                verdict.step,
                verdict.baseline_cal,
                verdict.current_cal,
                verdict.change,
                before.status,
            )
        verdicts.append(verdict)
    return GateResult(verdicts, [*second.notes, "second measurement after a failure"])


def baseline_from_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The baseline document for a bench report (what ``--update-baseline`` writes)."""
    return {
        "schema": BASELINE_SCHEMA,
        "date": report["date"],
        "machine": report["machine"],
        "input": {k: report["input"][k] for k in ("sha256",)},
        "frames": report["frames"],
        "repeat": report["repeat"],
        "pipeline": report["pipeline"],
        "calibration_ms": report["calibration_ms"],
        "steps": {
            name: {"p50_cal": s["p50_cal"], "share": s["share"], "p50_ms": s["p50_ms"]}
            for name, s in report["steps"].items()
        },
    }


def load_baseline(path: str | Path) -> dict[str, Any]:
    """Read and check a baseline file, or raise :class:`BaselineError`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} not found (write one with: axis bench --gate --update-baseline)"
        ) from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"baseline {path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != BASELINE_SCHEMA:
        raise BaselineError(f"baseline {path} is not a {BASELINE_SCHEMA} document")
    steps = data.get("steps")
    if not isinstance(steps, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("p50_cal"), int | float) for v in steps.values()
    ):
        raise BaselineError(f"baseline {path}: 'steps' must map step names to {{p50_cal: number}}")
    return data


def gate_report(
    report: Mapping[str, Any],
    baseline: Mapping[str, Any],
    thresholds: GateThresholds = GateThresholds(),
) -> GateResult:
    """Judge a bench report against a baseline document; notes say what differs in setup."""
    result = compare_steps(report["steps"], baseline["steps"], thresholds)
    notes = []
    was_steps = baseline.get("pipeline", {}).get("steps")
    if was_steps != report["pipeline"]["steps"]:
        notes.append(
            f"pipeline steps differ from the baseline's ({was_steps} -> "
            f"{report['pipeline']['steps']}): new steps are not judged; re-baseline"
        )
    for key in ("edges", "vectorize"):
        was = baseline.get("pipeline", {}).get(key)
        if was is not None and was != report["pipeline"].get(key):
            notes.append(f"{key} strategy changed ({was} -> {report['pipeline'].get(key)})")
    if baseline.get("input", {}).get("sha256") not in (None, report["input"]["sha256"]):
        notes.append("the clip's bytes differ from the baseline's (another encoder version?)")
    return GateResult(result.verdicts, notes)


def format_gate(result: GateResult, thresholds: GateThresholds = GateThresholds()) -> str:
    """A table of verdicts, then one loud line per warning or failure, naming the step."""
    lines = [f"{'step':<14}{'baseline':>10}{'now':>10}{'change':>9}  verdict"]
    for v in result.verdicts:
        base = "-" if v.baseline_cal is None else f"{v.baseline_cal:.3f}"
        now = "-" if v.current_cal is None else f"{v.current_cal:.3f}"
        change = "-" if v.change is None else f"{v.change:+.0%}"
        lines.append(f"{v.step:<14}{base:>10}{now:>10}{change:>9}  {v.status}")
    lines += [f"note: {note}" for note in result.notes]
    for v in result.verdicts:
        if v.status == "fail":
            lines.append(
                f"PERF GATE FAILED: step '{v.step}' is {v.change:.0%} slower than the baseline "
                f"({v.current_cal:.3f} vs {v.baseline_cal:.3f} calibration units; "
                f"fails above {thresholds.fail:.0%})"
            )
        elif v.status == "warn":
            lines.append(
                f"PERF GATE WARNING: step '{v.step}' is {v.change:.0%} slower than the "
                f"baseline ({v.current_cal:.3f} vs {v.baseline_cal:.3f} calibration units; "
                f"warns above {thresholds.warn:.0%})"
            )
    if result.status == "ok":
        lines.append(f"perf gate: ok (no step more than {thresholds.warn:.0%} slower)")
    return "\n".join(lines)

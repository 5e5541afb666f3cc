"""The perf gate's decisions, on synthetic numbers (no clocks involved)."""

from __future__ import annotations

import json

import pytest

from talos.bench.gate import (
    TOTAL,
    BaselineError,
    GateThresholds,
    baseline_from_report,
    compare_steps,
    confirm,
    format_gate,
    gate_report,
    judge_step,
    load_baseline,
)

BASE = {
    "decode": {"p50_cal": 1.0, "share": 0.15},
    "edges": {"p50_cal": 4.0, "share": 0.55},
    "render": {"p50_cal": 2.0, "share": 0.27},
    "write": {"p50_cal": 0.2, "share": 0.03},
}


def _scaled(**factors: float) -> dict[str, dict[str, float]]:
    return {
        step: {"p50_cal": v["p50_cal"] * factors.get(step, 1.0), "share": v["share"]}
        for step, v in BASE.items()
    }


def _verdict(result, step):
    return next(v for v in result.verdicts if v.step == step)


def test_unchanged_timings_pass():
    result = compare_steps(_scaled(), BASE)
    assert result.status == "ok"
    assert {v.status for v in result.verdicts} <= {"ok", "skipped"}


@pytest.mark.parametrize(
    ("factor", "status"),
    [(0.5, "ok"), (1.10, "ok"), (1.149, "ok"), (1.16, "warn"), (1.34, "warn"), (1.36, "fail")],
)
def test_thresholds_warn_above_15_and_fail_above_35_percent(factor, status):
    result = compare_steps(_scaled(edges=factor), BASE)
    assert _verdict(result, "edges").status == status
    assert result.status == status


def test_failure_message_names_the_step_that_regressed():
    result = compare_steps(_scaled(render=1.6), BASE)
    assert result.failed
    text = format_gate(result)
    assert "PERF GATE FAILED: step 'render' is 60% slower" in text
    assert "edges' is" not in text


def test_warning_is_loud_but_not_a_failure():
    result = compare_steps(_scaled(decode=1.25), BASE)
    assert result.status == "warn" and not result.failed
    assert "PERF GATE WARNING: step 'decode' is 25% slower" in format_gate(result)


def test_tiny_steps_are_not_judged_alone_but_count_in_the_total():
    result = compare_steps(_scaled(write=3.0), BASE)  # 0.2 -> 0.6: +200%, but 3% of the frame
    assert _verdict(result, "write").status == "skipped"
    assert _verdict(result, TOTAL).status == "ok"  # +0.4 over 7.2 total: +6%


def test_a_tiny_step_that_grows_large_is_judged():
    current = _scaled(write=20.0)
    current["write"]["share"] = 0.4
    assert _verdict(compare_steps(current, BASE), "write").status == "fail"


def test_many_small_slowdowns_fail_through_the_total():
    result = compare_steps(_scaled(decode=1.3, edges=1.3, render=1.3, write=1.3), BASE)
    assert _verdict(result, TOTAL).status == "warn"
    result = compare_steps(_scaled(decode=1.4, edges=1.4, render=1.4, write=1.4), BASE)
    assert _verdict(result, TOTAL).status == "fail"


def test_new_and_removed_steps_are_reported_not_judged():
    current = _scaled()
    del current["render"]
    current["score"] = {"p50_cal": 9.0, "share": 0.5}
    result = compare_steps(current, BASE)
    assert _verdict(result, "render").status == "gone"
    assert _verdict(result, "score").status == "new"
    assert result.status == "ok"


def test_custom_thresholds():
    strict = GateThresholds(warn=0.05, fail=0.10)
    assert judge_step("x", 1.0, 1.07, 1.0, strict).status == "warn"
    assert judge_step("x", 1.0, 1.11, 1.0, strict).status == "fail"


def _report(factor: float = 1.0) -> dict:
    return {
        "date": "2026-11-26T08:00:00+00:00",
        "machine": {"cpu": "test", "cores": 2},
        "input": {"sha256": "abc", "path": "clip.mp4"},
        "frames": 48,
        "repeat": 5,
        "pipeline": {"steps": ["edges", "render", "write"], "edges": "xdog", "vectorize": "c"},
        "calibration_ms": 8.0,
        "steps": {
            name: {**v, "p50_cal": v["p50_cal"] * factor, "p50_ms": 8 * v["p50_cal"]}
            for name, v in BASE.items()
        },
    }


def test_baseline_round_trip_and_gate_on_reports(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(baseline_from_report(_report())))
    baseline = load_baseline(path)
    assert gate_report(_report(1.0), baseline).status == "ok"
    slower = _report(1.5)
    slower["pipeline"] = {**slower["pipeline"], "vectorize": "bezier"}
    result = gate_report(slower, baseline)
    assert result.failed
    assert any("vectorize strategy changed" in note for note in result.notes)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "not found"),
        ("{not json", "unreadable"),
        ('{"schema": "other"}', "is not a"),
        ('{"schema": "axis-bench-baseline/1", "steps": {"edges": 3}}', "'steps' must map"),
    ],
)
def test_bad_baseline_files_raise_a_clear_error(tmp_path, content, needle):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BaselineError, match=needle):
        load_baseline(path)


def test_a_failure_must_repeat_in_the_second_measurement():
    first = compare_steps(_scaled(edges=1.5, render=1.5), BASE)
    second = compare_steps(_scaled(edges=1.5, render=1.05, decode=1.5), BASE)
    result = confirm(first, second)
    assert _verdict(result, "edges").status == "fail"  # failed both times: a real regression
    assert _verdict(result, "render").status == "ok"  # noise the first time
    assert _verdict(result, "decode").status == "ok"  # noise the second time
    assert result.failed and "second measurement" in result.notes[-1]
    assert not confirm(first, compare_steps(_scaled(render=1.2), BASE)).failed

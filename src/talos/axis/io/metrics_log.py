"""Observers that report a run: ``metrics.jsonl`` and the per-step summary table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from talos.axis.context import FrameContext
from talos.axis.types import PipelineObserver, RunInfo, RunSummary, StepEvent

METRICS_FILE = "metrics.jsonl"


class MetricsLogger(PipelineObserver):
    """Writes one JSON line per step of every frame, one per frame, and a closing summary.

    Record types (field ``type``): ``step`` (run_id, frame, step, start, duration_ms,
    counts), ``frame`` (run_id, frame, time, metrics, counts) and ``summary`` (run_id, frames,
    wall_s, fps, steps: per-step calls/p50_ms/p95_ms/total_ms/share, metrics).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: IO[str] | None = None
        self._run_id = ""

    def _write(self, record: dict[str, Any]) -> None:
        if self._handle is not None:
            self._handle.write(json.dumps(record, separators=(",", ":")) + "\n")

    def on_run_started(self, run: RunInfo) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("w", encoding="utf-8")
        self._run_id = run.run_id

    def on_step_finished(self, event: StepEvent) -> None:
        self._write(
            {
                "type": "step",
                "run_id": event.run_id,
                "frame": event.frame_index,
                "step": event.step,
                "start": round(event.start, 6),
                "duration_ms": round(event.duration_ms, 3),
                "counts": dict(event.counts),
            }
        )

    def on_frame_processed(self, ctx: FrameContext, events: Sequence[StepEvent]) -> None:
        self._write(
            {
                "type": "frame",
                "run_id": self._run_id,
                "frame": ctx.index,
                "time": round(ctx.time, 6),
                "duration_ms": round(sum(e.duration_ms for e in events), 3),
                "metrics": {k: round(v, 6) for k, v in ctx.metrics.items()},
                "counts": dict(ctx.counts),
            }
        )

    def on_run_finished(self, summary: RunSummary) -> None:
        self._write({"type": "summary", **summary_to_dict(summary)})
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def summary_to_dict(summary: RunSummary) -> dict[str, Any]:
    """The run's summary as JSON-ready figures (times in s and ms, rounded): the
    ``summary`` record of ``metrics.jsonl``, and what ``lines.json``'s ``metrics`` are made of."""
    slowest = summary.slowest_step
    return {
        "run_id": summary.run_id,
        "frames": summary.frames,
        "wall_s": round(summary.wall_s, 4),
        "fps": round(summary.fps, 3),
        "slowest_step": slowest.step if slowest else None,
        "steps": {
            s.step: {
                "calls": s.calls,
                "p50_ms": round(s.p50_ms, 3),
                "p95_ms": round(s.p95_ms, 3),
                "total_ms": round(s.total_ms, 3),
                "share": round(s.share, 4),
            }
            for s in summary.steps
        },
        "metrics": {k: round(v, 6) for k, v in summary.metrics.items()},
        "counts": summary.counts,
    }


def format_step_table(summary: RunSummary) -> str:
    """Per-step p50/p95/total/share as an aligned text table, slowest step marked."""
    slowest = summary.slowest_step
    lines = [f"{'step':<12}{'p50 ms':>10}{'p95 ms':>10}{'total s':>10}{'share':>8}"]
    for s in summary.steps:
        mark = "  <- slowest" if slowest is not None and s.step == slowest.step else ""
        lines.append(
            f"{s.step:<12}{s.p50_ms:>10.2f}{s.p95_ms:>10.2f}{s.total_ms / 1000:>10.2f}"
            f"{s.share * 100:>7.1f}%{mark}"
        )
    return "\n".join(lines)

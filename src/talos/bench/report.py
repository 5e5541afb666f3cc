"""The pipeline benchmark, reporting: the bars a report is checked against, the report as
text (``axis bench``'s output) and as Markdown (``bench.md``, for the README), and writing
``bench.json`` and ``bench.md``. The report itself comes from
:func:`talos.bench.measure.run_benchmark`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MB = 1024 * 1024

# The bars of BRIEF §5 / issue 7 that a bench report is checked against.
BAR_FPS = 10.0
BAR_MOONSHOT_FPS = 24.0
BAR_SSIM = 0.85
BAR_DELTA_KAPPA = 0.05
BAR_PEAK_RSS_MB = 1024.0


def bars(report: Mapping[str, Any]) -> dict[str, bool | None]:
    """Whether the report meets each bar, by bar; ``None`` where it lacks the figure."""

    def at_most(value: float | None, bar: float) -> bool | None:
        return None if value is None else bool(value <= bar)

    def at_least(value: float | None, bar: float) -> bool | None:
        return None if value is None else bool(value >= bar)

    return {
        f"fps >= {BAR_FPS:g}": at_least(report["fps"], BAR_FPS),
        f"fps >= {BAR_MOONSHOT_FPS:g} (moonshot)": at_least(report["fps"], BAR_MOONSHOT_FPS),
        f"ssim >= {BAR_SSIM:g}": at_least(report["ssim"], BAR_SSIM),
        f"delta_kappa <= {BAR_DELTA_KAPPA:g}": at_most(report["delta_kappa"], BAR_DELTA_KAPPA),
        f"peak_rss_mb <= {BAR_PEAK_RSS_MB:g}": at_most(report["peak_rss_mb"], BAR_PEAK_RSS_MB),
    }


def _or_na(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``, or ``n/a`` for a figure the run did not produce."""
    return "n/a" if value is None else format(value, spec)


def format_report(report: Mapping[str, Any]) -> str:
    """The report as text: the per-step table, then the headline figures."""
    lines = [
        f"{'step':<12}{'p50 ms':>9}{'p95 ms':>9}{'share':>8}{'p50 cal':>9}",
    ]
    for name, s in report["steps"].items():
        lines.append(
            f"{name:<12}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['share'] * 100:>7.1f}%"
            f"{s['p50_cal']:>9.3f}"
        )

    machine = report["machine"]
    lines += [
        f"frames {report['frames']}  wall {report['wall_s']:.2f} s  fps {report['fps']:.2f}"
        f"  (median of {report['repeat']})",
        f"peak RSS {report['peak_rss_mb']:.0f} MB (PSS {report['peak_pss_mb']:.0f} MB; main "
        f"process {report['main_peak_rss_mb']:.0f}"
        f" MB)  output {report['output_bytes'] / MB:.1f} MB"
        f" ({report['output_bytes_per_frame'] / 1024:.1f} KB/frame)",
        f"vectorizer SSIM (to its line map) {_or_na(report['ssim'], '.3f')}"
        f"  Δκ {_or_na(report['delta_kappa'], '.4f')}"
        f"  identity {_identity_line(report['identity'])}",
        f"calibration {report['calibration_ms']:.2f} ms; wall per frame "
        f"{report['wall_per_frame_cal']:.2f} cal;  {machine['cpu']}, {machine['cores']} cores",
        "bars: "
        + ", ".join(
            f"{name}: {'n/a' if ok is None else ('yes' if ok else 'NO')}"
            for name, ok in report["bars"].items()
        ),
    ]
    return "\n".join(lines)


def _identity_line(identity: Mapping[str, Any] | None) -> str:
    if not identity:
        return "n/a"
    if "error" in identity:
        return f"n/a ({identity['error']})"
    keys = ("kept_one_id_share", "id_switches", "fragmentation", "median_track_length")
    return ", ".join(f"{k} {identity[k]}" for k in keys if k in identity)


def format_markdown(report: Mapping[str, Any]) -> str:
    """The per-step table and headline figures as Markdown (for the README), with the date
    and machine they came from."""
    machine = report["machine"]
    pipeline = report["pipeline"]
    lines = [
        f"`axis bench` on {report['date'][:10]}, {machine['cpu']}, {machine['cores']} cores; "
        f"{report['frames']} frames of `{Path(report['input']['path']).name}`, "
        f"steps {', '.join(pipeline['steps'])} (edges {pipeline['edges']}, vectorize "
        f"{pipeline['vectorize']}), median of {report['repeat']} run(s).",
        "",
        "| step | p50 ms | p95 ms | share | p50 (calibration units) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, s in report["steps"].items():
        lines.append(
            f"| {name} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['share'] * 100:.1f}% "
            f"| {s['p50_cal']:.3f} |"
        )

    lines += [
        "",
        f"Wall {report['wall_s']:.2f} s, **{report['fps']:.1f} fps**; peak RSS "
        f"{report['peak_rss_mb']:.0f} MB (PSS {report['peak_pss_mb']:.0f} MB, main process "
        f"{report['main_peak_rss_mb']:.0f} MB); "
        f"output {report['output_bytes_per_frame'] / 1024:.1f} KB/frame; vectorizer SSIM "
        f"{_or_na(report['ssim'], '.3f')}, Δκ {_or_na(report['delta_kappa'], '.4f')}; "
        f"calibration {report['calibration_ms']:.2f} ms, wall per frame "
        f"{report['wall_per_frame_cal']:.2f} calibration units.",
    ]
    return "\n".join(lines) + "\n"


def write_report(report: Mapping[str, Any], output_dir: str | Path) -> Path:
    """Write ``output_dir/bench.json`` and ``bench.md`` (:func:`format_markdown`); return the
    JSON file's path."""
    path = Path(output_dir) / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    path.with_suffix(".md").write_text(format_markdown(report))
    return path

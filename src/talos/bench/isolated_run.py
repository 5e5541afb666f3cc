"""One benchmark run, isolated: the pipeline traced in a fresh child process (``spawn``), so the
peak memory is the run's own, not this process's, and no warm cache carries over between runs.

Peak RSS is sampled every 50 ms over the child and all of its descendants (the worker pool)
and summed: the memory the run needed at its worst moment, counting shared pages once per
process (an upper bound). ``peak_pss_mb`` sums PSS instead (shared pages split between the
processes sharing them: the tree's true footprint), sampled every 250 ms. The child's own
exact ``ru_maxrss`` is reported too.
"""

from __future__ import annotations

import multiprocessing
import resource
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from talos.axis.errors import AxisError
from talos.bench.calibration import CalibrationProbe
from talos.bench.report import MB
from talos.config import Settings

RSS_SAMPLE_S = 0.05
PSS_EVERY = 5  # samples


class BenchError(AxisError):
    """A benchmark run failed; the message says which run and why."""


@dataclass(frozen=True)
class RunMeasurement:
    """One pipeline run in a child process."""

    wall_s: float
    frames: int
    summary: dict[str, Any]
    peak_rss_mb: float
    peak_pss_mb: float
    main_peak_rss_mb: float
    output_bytes: int
    probe: dict[str, Any] | None = None

    @property
    def fps(self) -> float:
        """Frames per second of the run's wall time."""
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


def _child_run(
    conn: Any,
    input_path: str,
    output_dir: str,
    settings: Settings,
    serial: bool,
    profile_dir: str | None = None,
) -> None:
    """Body of the child process: trace, then send back what happened."""
    try:
        from talos.axis.api import trace_video
        from talos.axis.io.metrics_log import summary_to_dict

        observers = []
        if serial:
            import cv2

            cv2.setNumThreads(1)
            if not profile_dir:  # the probes would crowd the profile
                observers.append(CalibrationProbe())
        profiler = _start_profiler() if profile_dir else None
        start = time.perf_counter()
        result = trace_video(input_path, output_dir, settings, observers=observers)
        wall_s = time.perf_counter() - start
        if profiler is not None and profile_dir is not None:
            _write_profile(profiler, Path(profile_dir))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(
            (
                "ok",
                {
                    "wall_s": wall_s,
                    "summary": summary_to_dict(result.summary),
                    "main_peak_rss_mb": usage.ru_maxrss * 1024 / MB,
                    "probe": {
                        "ratios": observers[0].ratios(),
                        "median_ms": float(np.median(observers[0].probe_ms)),
                    }
                    if observers
                    else None,
                },
            )
        )
    except BaseException as exc:  # reported to the parent as one line
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _start_profiler() -> Any:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.002)
    profiler.start()
    return profiler


def _write_profile(profiler: Any, folder: Path) -> None:
    """``profile.html`` (interactive) and ``profile.txt`` (call tree) of the run."""
    profiler.stop()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profile.html").write_text(profiler.output_html())
    (folder / "profile.txt").write_text(profiler.output_text(unicode=True, show_all=False))


def _tree_memory(process: psutil.Process, pss: bool) -> int:
    """Sum of RSS (or, with ``pss``, of PSS: shared pages split between their users) over
    ``process`` and its descendants, bytes."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_full_info().pss if pss else member.memory_info().rss
        except (psutil.Error, AttributeError):
            continue
    return total


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_once(
    input_path: str | Path,
    output_dir: str | Path,
    settings: Settings,
    serial: bool = False,
    profile_dir: str | Path | None = None,
) -> RunMeasurement:
    """Trace ``input_path`` into ``output_dir`` (emptied first) in a fresh child process.
    ``serial`` sets OpenCV to one thread and calibrates every frame (:class:`CalibrationProbe`).
    ``profile_dir`` profiles the run's main process with pyinstrument (``profile.html``,
    ``profile.txt``); in serial mode that is every step.
    """
    output = Path(output_dir)
    if output.exists():
        shutil.rmtree(output)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_run,
        args=(
            sender,
            str(input_path),
            str(output),
            settings,
            serial,
            None if profile_dir is None else str(profile_dir),
        ),
        name="axis-bench-run",
    )
    child.start()
    sender.close()
    peak = peak_pss = 0
    try:
        watched = psutil.Process(child.pid)
        samples = 0
        while not receiver.poll(RSS_SAMPLE_S):
            peak = max(peak, _tree_memory(watched, pss=False))
            if samples % PSS_EVERY == 0:  # PSS reads smaps: slower, so less often
                peak_pss = max(peak_pss, _tree_memory(watched, pss=True))
            samples += 1
            if not child.is_alive():
                break
        try:
            status, payload = receiver.recv()
        except EOFError:
            status, payload = "error", f"the run's process died (exit code {child.exitcode})"
    finally:
        child.join()
        receiver.close()
    if status != "ok":
        raise BenchError(f"benchmark run on {input_path} failed: {payload}")
    summary = payload["summary"]
    return RunMeasurement(
        wall_s=payload["wall_s"],
        frames=int(summary["frames"]),
        summary=summary,
        peak_rss_mb=max(peak / MB, payload["main_peak_rss_mb"]),
        peak_pss_mb=peak_pss / MB,
        main_peak_rss_mb=payload["main_peak_rss_mb"],
        output_bytes=_folder_bytes(output),
        probe=payload["probe"],
    )

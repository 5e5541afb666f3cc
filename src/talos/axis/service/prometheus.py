"""Prometheus metrics, read from the job database at scrape time so they are right whichever
process (service, embedded pool, Celery worker) did the work."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector

from talos.axis.service.jobs import JobService

log = logging.getLogger(__name__)


class JobCollector(Collector):
    def __init__(self, jobs: JobService) -> None:
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self.jobs.counts()
            steps = self.jobs.step_totals()
        except Exception:  # database down: /readyz says so; metrics just go quiet
            log.warning("metrics: job database unavailable", exc_info=True)
            return
        by_status = GaugeMetricFamily("axis_jobs", "Jobs by status.", labels=["status"])
        for status, n in counts.items():
            by_status.add_metric([status], n)
        yield by_status
        durations = SummaryMetricFamily(
            "axis_step_duration_seconds",
            "Time spent in each processing step, per frame, over all finished jobs.",
            labels=["step"],
        )
        for step, frames, total_ms in steps:
            durations.add_metric([step], count_value=frames, sum_value=total_ms / 1000.0)
        yield durations


def make_registry(jobs: JobService) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(JobCollector(jobs))
    return registry

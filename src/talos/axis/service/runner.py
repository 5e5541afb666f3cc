"""Running one job in a worker: claim it, fetch its inputs, trace, upload, report.

Any executor calls :func:`run_job`. A worker renews the job's lease every
``service.heartbeat_s``; if it dies, the lease runs out after ``service.lease_s`` and the next
worker that looks claims the job again (up to ``service.max_attempts`` times).
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from talos.axis.context import FrameContext
from talos.axis.errors import InputError, StrategyError
from talos.axis.service.api_models import GenerateRequest
from talos.axis.service.callback_queue import CallbackQueue
from talos.axis.service.jobs import JobService
from talos.axis.service.leases import Leases
from talos.axis.service.runtime import Runtime
from talos.axis.service.shots import (
    CutSpec,
    check_shot,
    inspect_video,
    parse_cut_spec,
    shot_processing,
)
from talos.axis.types import PipelineObserver, RunInfo, StepEvent
from talos.config import ProcessingSettings, Settings
from talos.errors import TalosError
from talos.media import VideoInfo
from talos.store import StoreError
from talos.web.callbacks import callback_body, send_callback
from talos.web.errors import ApiError, bad_request, unavailable
from talos.web.inputs import check_url, fetch, read_small

log = logging.getLogger(__name__)
MODULE_NAME = "AXIS"  # as callbacks name the module


def worker_name() -> str:
    """A lease owner id unique to this process and call."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class PreparedInput:
    video: Path
    info: VideoInfo
    shot: CutSpec


def prepare(request: GenerateRequest, settings: Settings, scratch: Path) -> PreparedInput:
    """Check the URLs (400), fetch the inputs into ``scratch`` (``file://`` is read in place)
    and check video and shot (422)."""
    video_url = check_url(request.video_source_url, settings, "video_source_url")
    spec_url = (
        check_url(request.cut_spec_url, settings, "cut_spec_url") if request.cut_spec_url else None
    )
    shot = CutSpec()
    if spec_url is not None:
        shot = parse_cut_spec(
            read_small(spec_url, scratch / "cut_spec.json", settings, "cut_spec_url")
        )
    limit = settings.service.limits.max_input_bytes
    video = fetch(video_url, scratch / "source.video", settings, limit, "video_source_url")
    info = inspect_video(video, settings)
    check_shot(shot, info)
    return PreparedInput(video, info, shot)


def job_settings(settings: Settings, request: GenerateRequest, prepared: PreparedInput) -> Settings:
    """The settings of one job: the service's, with the shot's range and the job's options."""
    overrides: dict[str, Any] = {
        **shot_processing(prepared.shot, prepared.info),
        **request.options.processing_overrides(),
    }
    try:
        processing = ProcessingSettings.model_validate(
            {**settings.processing.model_dump(), **overrides}
        )
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise bad_request("invalid_options", f"options: {message}") from None
    update: dict[str, Any] = {"processing": processing}
    if request.options.write_png is not None:
        update["output"] = settings.output.model_copy(
            update={"write_png": request.options.write_png}
        )
    return settings.model_copy(update=update)


class LeaseLost(Exception):
    """Another worker took this job over (our lease expired); stop without touching it."""


class _Progress(PipelineObserver):
    def __init__(self, report: Callable[[int, int | None], object]) -> None:
        self.report = report  # (frames done, frames expected): recorded on the job
        self.frames_done = 0
        self.frames_total: int | None = None
        self.lost = threading.Event()

    def on_run_started(self, run: RunInfo) -> None:
        self.frames_total = run.expected_frames
        self.report(0, self.frames_total)

    def on_frame_processed(self, ctx: FrameContext, events: Sequence[StepEvent]) -> None:
        self.frames_done += 1
        if self.lost.is_set():
            raise LeaseLost


class _Heartbeat(threading.Thread):
    def __init__(
        self, leases: Leases, job_id: str, owner: str, progress: _Progress, interval_s: float
    ) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.leases, self.job_id, self.owner = leases, job_id, owner
        self.progress, self.interval_s = progress, interval_s
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval_s):
            try:
                progress = self.progress
                if not self.leases.heartbeat(
                    self.job_id, self.owner, progress.frames_done, progress.frames_total
                ):
                    self.progress.lost.set()
                    return
            except Exception:  # a database hiccup: try again next beat
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=True)


def _as_api_error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InputError):
        return ApiError(422, "video_unreadable", str(exc))
    if isinstance(exc, StrategyError):
        return unavailable("model_unavailable", str(exc))
    if isinstance(exc, StoreError):
        return unavailable("store_unavailable", str(exc))
    if isinstance(exc, TalosError):  # AxisError and the shared parts' failures
        return ApiError(500, "processing_failed", str(exc))
    return ApiError(500, "internal_error", f"{type(exc).__name__}: {exc}")


def run_job(rt: Runtime, job_id: str, owner: str | None = None) -> str | None:
    """Claim and run ``job_id``; its final status, or None when another worker has it."""
    from talos.axis.api import trace_video

    owner = owner or worker_name()
    leases = Leases(rt)
    if not leases.claim(job_id, owner):
        return None
    job = JobService(rt).find(job_id)
    assert job is not None
    if job.attempts > rt.settings.service.max_attempts:
        error = ApiError(
            500, "worker_lost", f"job given up after {job.attempts - 1} interrupted attempts"
        )
        leases.fail(job_id, owner, error)
        deliver_callback(rt, job_id, owner)
        return "failed"
    log.info("job %s: attempt %d by %s", job_id, job.attempts, owner)
    request = GenerateRequest.model_validate(job.request)
    progress = _Progress(lambda done, total: leases.heartbeat(job_id, owner, done, total))
    heartbeat = _Heartbeat(leases, job_id, owner, progress, rt.settings.service.heartbeat_s)
    heartbeat.start()
    output_url: str | None = None
    try:
        rt.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"axis-{job_id}-", dir=rt.work_dir) as tmp:
            scratch = Path(tmp)
            prepared = prepare(request, rt.settings, scratch)
            settings = job_settings(rt.settings, request, prepared)
            shot = prepared.shot.model_dump(mode="json", exclude_none=True)
            result = trace_video(
                prepared.video, scratch / "out", settings, [progress], shot, run_id=job_id
            )
            rt.store.upload_dir(scratch / "out", f"{job_id}/axis")
            output_url = rt.store.url_for(f"{job_id}/axis/lines.json")
        summary = result.summary
        steps = [(s.step, s.calls, s.total_ms) for s in summary.steps]
        if not leases.complete(job_id, owner, output_url, summary.frames, summary.wall_s, steps):
            return None
        status = "completed"
    except LeaseLost:
        log.warning("job %s: lease lost to another worker; stopping", job_id)
        return None
    except Exception as exc:
        error = _as_api_error(exc)
        if error.status >= 500 and error.code == "internal_error":
            log.exception("job %s failed unexpectedly", job_id)
        else:
            log.warning("job %s failed: %s %s", job_id, error.code, error.message)
        if not leases.fail(job_id, owner, error):
            return None
        status = "failed"
    finally:
        heartbeat.done.set()
    deliver_callback(rt, job_id, owner)
    return status


def deliver_callback(rt: Runtime, job_id: str, owner: str) -> None:
    """Send the finished job's callback (built from the database), unless another process
    already has; record the outcome on the job."""
    job = JobService(rt).find(job_id)
    if job is None:
        return
    queue = CallbackQueue(rt)
    if not job.callback_url:
        queue.record(job_id, "none", 0, None)
        return
    if not queue.claim(job_id, owner):
        return
    body = callback_body(
        job_id, job.status, job.output_url, job.error_message, job.error_code,
        module_name=MODULE_NAME,
    )  # fmt: skip
    outcome = send_callback(job.callback_url, body, rt.settings, source="axis")
    queue.record(job_id, outcome.status, outcome.attempts, outcome.error)


def resend_lost_callbacks(rt: Runtime, owner: str) -> int:
    """Deliver the callbacks of finished jobs whose worker died before sending them."""
    sent = 0
    for job_id in CallbackQueue(rt).pending():
        log.info("job %s: sending the callback its worker did not", job_id)
        deliver_callback(rt, job_id, owner)
        sent += 1
    return sent

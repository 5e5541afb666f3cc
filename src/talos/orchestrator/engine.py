"""The Orchestrator's state machine over its database.

A stage moves ``pending → ready → dispatching → waiting → completed``; a failed attempt goes
to ``retry_wait`` (transient, attempts left) or ``failed`` (the job fails and a dead-letter
entry is written). A background thread (:meth:`Orchestrator.run_forever`) calls
:meth:`Orchestrator.tick`: it dispatches ``ready``/due ``retry_wait`` stages and turns
``waiting`` stages whose callback is overdue into transient timeouts. Because every state and
deadline is in the database, a restarted Orchestrator simply carries on: a stage that was
``dispatching`` or ``waiting`` when it died times out and is retried unless its callback
arrives first.

A callback can be lost for good: the module's retries run out while the Orchestrator is down
or unreachable. So while a stage waits, the loop also asks the module how its job stands
(``GET /jobs/{id}``, for modules in :data:`~.flows.STATUS_PATH`), first after
``status_poll_s`` and then with the wait doubling up to ``status_poll_cap_s``. The schedule is
kept in memory only: a restarted Orchestrator asks at once about every stage in flight, since
whatever it missed while down is there to read, instead of waiting ``stage_timeout_s``.

State changes run under one lock (one Orchestrator process per database); HTTP calls to the
modules run outside it, in a small thread pool.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from talos.calllog import record_call
from talos.config import Settings
from talos.orchestrator.dlq import dead_letter, dead_letters, find_dead_letter, reopen
from talos.orchestrator.errors import CallbackConflict, JobNotFound
from talos.orchestrator.flows import STAGE_MODULE, STATUS_PATH, StageCall, build_call, plan
from talos.orchestrator.models import AttemptRow, JobRow, StageRow
from talos.orchestrator.retry import Failure, RetryPolicy, classify_exception, classify_status
from talos.orchestrator.views import dead_letter_view, job_view

log = logging.getLogger(__name__)

ACTIVE_JOB = ("pending", "running")
IN_FLIGHT = ("dispatching", "waiting")


class Orchestrator:
    """Jobs, stages, retries and the dead-letter queue over one database."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.cfg = settings.orchestrator
        self.sessions = sessions
        self.policy = RetryPolicy(self.cfg)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="orch-dispatch")
        headers = (
            {"X-API-Key": settings.api_keys[0].get_secret_value()} if settings.api_keys else {}
        )
        self._http = httpx.Client(timeout=self.cfg.request_timeout_s, headers=headers)
        self._wake_event = threading.Event()
        # Stage id → (when to ask its module next, answers so far); absent = ask now. A time
        # of +inf marks a question being asked, so one stage never has two at once. A stage
        # with a status path does not time out before its module was asked once.
        self._polls: dict[int, tuple[float, int]] = {}

    # -- sessions ---------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._lock, self.sessions() as session, session.begin():
            yield session

    # -- jobs -------------------------------------------------------------------------------

    def create_job(self, kind: str, request: dict[str, Any], job_id: str | None = None) -> str:
        """Store a new job with its stages (the first one ready) and return its id."""
        job_id = job_id or uuid.uuid4().hex[:16]
        now = time.time()
        with self._session() as session:
            job = JobRow(
                job_id=job_id, kind=kind, status="pending", current_module=None,
                request=request, outputs={}, error=None, created_at=now, updated_at=now,
            )  # fmt: skip
            for position, stage in enumerate(plan(kind, request)):
                job.stages.append(
                    StageRow(
                        position=position,
                        module=stage,
                        attempts=0,
                        status="ready" if position == 0 else "pending",
                        next_attempt_at=now if position == 0 else None,
                    )  # fmt: skip
                )
            job.current_module = job.stages[0].module
            session.add(job)
        self.wake()
        return job_id

    def job_exists(self, job_id: str) -> bool:
        with self._session() as session:
            return session.get(JobRow, job_id) is not None

    def get_job(self, job_id: str) -> dict[str, Any]:
        with self._session() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                raise JobNotFound(job_id)
            return job_view(job)

    def list_jobs(
        self, status: str | None = None, kind: str | None = None, module: str | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[dict[str, Any]]:  # fmt: skip
        with self._session() as session:
            query = select(JobRow).order_by(JobRow.created_at.desc())
            if status:
                query = query.where(JobRow.status == status)
            if kind:
                query = query.where(JobRow.kind == kind)
            if module:
                query = query.where(JobRow.current_module == module)
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            return [job_view(job) for job in rows]

    def lines_url_of(self, job_id: str) -> str | None:
        """The lines.json URL an earlier job produced (or was given), for edits."""
        with self._session() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                raise JobNotFound(job_id)
            return job.outputs.get("axis") or job.request.get("lines_data_url")

    # -- callbacks --------------------------------------------------------------------------

    def handle_callback(
        self, job_id: str, module_name: str, status: str, output_url: str | None,
        error_message: str | None, transient: bool = False, http_status: int | None = None,
    ) -> str:  # fmt: skip
        """Apply a module's report; return what happened (``advanced``, ``duplicate``,
        ``retrying``, ``dead-lettered``, ``ignored``). Unknown job → :class:`JobNotFound`;
        a module the job does not run, or a stage never dispatched → :class:`CallbackConflict`.
        """
        module = module_name.lower()
        now = time.time()
        with self._session() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                raise JobNotFound(job_id)
            stages = [
                s
                for s in job.stages
                if STAGE_MODULE[s.module] == module and s.module != "axis_edit"
            ]
            if not stages:
                raise CallbackConflict(f"job {job_id} has no {module_name} stage")
            stage = stages[0]
            if stage.status == "completed":
                return "duplicate"
            if stage.status in ("pending", "ready") or stage.attempts == 0:
                raise CallbackConflict(f"the {module} stage of job {job_id} was never started")
            if stage.status == "failed":
                raise CallbackConflict(f"the {module} stage of job {job_id} already failed")
            attempt = stage.attempt_log[-1] if stage.attempt_log else None
            if status == "completed":
                if attempt is not None and attempt.outcome in ("running", "accepted"):
                    attempt.outcome, attempt.finished_at = "completed", now
                self._complete_stage(session, job, stage, output_url, now)
                return "advanced"
            if stage.status == "retry_wait":
                return "ignored"  # a retry is already scheduled for an earlier failure
            failure = Failure(
                f"{module} reported failure: {error_message or 'no reason given'}",
                transient, http_status,
            )  # fmt: skip
            return self._fail_attempt(session, job, stage, failure, now)

    # -- the loop ---------------------------------------------------------------------------

    def start(self) -> None:
        """Run :meth:`tick` in a background thread until :meth:`stop`."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_forever, name="orch-loop", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def wake(self) -> None:
        self._wake_event.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the loop must outlive a bad row or a database hiccup
                log.exception("orchestrator tick failed")
            self._wake_event.wait(self.cfg.poll_interval_s)
            self._wake_event.clear()

    def tick(self) -> int:
        """One pass: time out overdue stages, dispatch due ones. Returns stages dispatched."""
        now = time.time()
        due: list[tuple[int, int, str, str, StageCall]] = []
        with self._session() as session:
            overdue = session.scalars(
                select(StageRow).where(StageRow.status.in_(IN_FLIGHT), StageRow.deadline_at <= now)
            ).all()
            for stage in overdue:
                if stage.module in STATUS_PATH and self._polls.get(stage.id, (0.0, 0))[1] == 0:
                    # Never asked since this process started (it was down, say): ask the
                    # module first; the answer may well be "done" (the poll below).
                    continue
                failure = Failure(
                    f"no callback from {STAGE_MODULE[stage.module]} within "
                    f"{self.cfg.stage_timeout_s:g} s",
                    True, None,
                )  # fmt: skip
                self._fail_attempt(session, stage.job, stage, failure, now, outcome="timeout")
            ready = session.scalars(
                select(StageRow).where(
                    StageRow.status.in_(("ready", "retry_wait")), StageRow.next_attempt_at <= now
                )
            ).all()
            for stage in ready:
                job = stage.job
                if job.status not in ACTIVE_JOB:
                    continue
                try:
                    call = build_call(stage.module, job.job_id, job.request, job.outputs,
                                      self.settings)  # fmt: skip
                except (KeyError, ValueError) as exc:
                    stage.attempts += 1
                    failure = Failure(f"cannot build the {stage.module} request: {exc}", False)
                    self._fail_attempt(session, job, stage, failure, now)
                    continue
                stage.attempts += 1  # the budget; attempt numbers run on across replays
                number = len(stage.attempt_log) + 1
                stage.status = "dispatching"
                stage.request_body = call.body
                stage.started_at = stage.started_at or now
                stage.deadline_at = now + self.cfg.request_timeout_s + self.cfg.stage_timeout_s
                stage.attempt_log.append(
                    AttemptRow(number=number, started_at=now, outcome="running")
                )
                job.status, job.current_module, job.updated_at = "running", stage.module, now
                due.append((stage.id, number, job.job_id, STAGE_MODULE[stage.module], call))
        for stage_id, number, job_id, module, call in due:
            self._polls[stage_id] = (now + self.cfg.status_poll_s, 0)
            self._pool.submit(self._dispatch, stage_id, number, job_id, module, call)
        self._poll_due(now)
        return len(due)

    def _poll_due(self, now: float) -> None:
        """Ask the modules about in-flight stages whose status poll is due (see the module
        docstring); forget the schedule of stages no longer in flight."""
        asks: list[tuple[int, int, str, str, str]] = []
        with self._session() as session:
            rows = session.execute(
                select(StageRow.id, StageRow.module, StageRow.job_id).where(
                    StageRow.status.in_(IN_FLIGHT), StageRow.module.in_(tuple(STATUS_PATH))
                )
            ).all()
            in_flight = {row.id for row in rows}
            for stage_id in set(self._polls) - in_flight:
                del self._polls[stage_id]
            for row in rows:
                when, answers = self._polls.get(row.id, (now, 0))
                if when > now:
                    continue
                stage = session.get(StageRow, row.id)
                if stage is None or not stage.attempt_log:
                    continue
                self._polls[row.id] = (float("inf"), answers)
                number = stage.attempt_log[-1].number
                asks.append((row.id, number, row.job_id, STAGE_MODULE[row.module], row.module))
        for stage_id, number, job_id, module, name in asks:
            self._pool.submit(self._poll, stage_id, number, job_id, module, name)

    def _poll(self, stage_id: int, number: int, job_id: str, module: str, name: str) -> None:
        """One status poll; reschedule the next one (doubling wait, capped) if the stage is
        still in flight afterwards."""
        try:
            self._reconcile(stage_id, number, job_id, module, name, note="status poll")
        finally:
            _, answers = self._polls.get(stage_id, (0.0, 0))
            wait = min(self.cfg.status_poll_cap_s, self.cfg.status_poll_s * 2 ** (answers + 1))
            self._polls[stage_id] = (time.time() + wait, answers + 1)
            self.wake()

    def _dispatch(
        self, stage_id: int, number: int, job_id: str, module: str, call: StageCall
    ) -> None:
        status: int | None = None
        failure: Failure | None = None
        answer: Any = None
        try:
            response = self._http.request(call.method, call.url, json=call.body)
            status = response.status_code
            if status >= 300:
                failure = classify_status(status, _error_message(response))
            else:
                answer = _json_or_none(response)
        except httpx.HTTPError as exc:
            failure = classify_exception(exc)
        except Exception as exc:  # any other failure is recorded, not raised
            failure = classify_exception(exc)
        record_call(
            self.settings.tracing.call_log, "orchestrator", module, call.method, call.path,
            status, job_id, note=f"attempt {number}",
        )  # fmt: skip
        now = time.time()
        with self._session() as session:
            stage = session.get(StageRow, stage_id)
            if (
                stage is None
                or stage.status != "dispatching"
                or not stage.attempt_log
                or stage.attempt_log[-1].number != number
            ):
                return  # a callback or timeout got there first
            attempt = stage.attempt_log[-1]
            attempt.http_status = status
            if failure is not None:
                self._fail_attempt(session, stage.job, stage, failure, now)
                return
            if call.callback:
                attempt.outcome = "accepted"
                stage.status = "waiting"
                stage.deadline_at = now + self.cfg.stage_timeout_s
                stage_name = stage.module
            else:
                stage_name = None
                attempt.outcome, attempt.finished_at = "completed", now
                output = (answer or {}).get("output_url") if isinstance(answer, dict) else None
                self._complete_stage(session, stage.job, stage, output, now, answer)
        if stage_name in STATUS_PATH and number > 1:
            self._reconcile(stage_id, number, job_id, module, stage_name)
        self.wake()

    def _reconcile(
        self, stage_id: int, number: int, job_id: str, module: str, name: str,
        note: str | None = None,
    ) -> None:  # fmt: skip
        """Ask the module how the job stands and finish the stage if the job has ended.

        Called after a retry was accepted (a module that keeps jobs by id, AXIS, does not run
        a repeated job again, nor call back again, so a job it already finished, its callback
        lost, is completed from its status here) and by the status polls of waiting stages.
        Anything but a finished job (still running, unknown, no answer) changes nothing.
        """
        base = {"axis": self.settings.services.axis_url}[module]
        path = STATUS_PATH[name].format(job_id=job_id)
        status: int | None = None
        try:
            response = self._http.get(f"{base}{path}")
            status = response.status_code
            report = _json_or_none(response) if status == 200 else None
        except httpx.HTTPError:
            report = None
        record_call(
            self.settings.tracing.call_log, "orchestrator", module, "GET", path, status, job_id,
            note=note or f"status after attempt {number}",
        )  # fmt: skip
        if not isinstance(report, dict) or report.get("status") not in ("completed", "failed"):
            return  # still queued/running (its callback will come) or unknown: keep waiting
        now = time.time()
        with self._session() as session:
            stage = session.get(StageRow, stage_id)
            if (
                stage is None
                or stage.status not in IN_FLIGHT
                or not stage.attempt_log
                or stage.attempt_log[-1].number != number
            ):
                return  # a callback, a timeout or another answer got there first
            if report["status"] == "completed":
                log.info("job %s: %s finished, learnt from its status (%s)", job_id, module,
                         note or "after a retry")  # fmt: skip
                stage.attempt_log[-1].outcome = "completed"
                stage.attempt_log[-1].finished_at = now
                self._complete_stage(session, stage.job, stage, report.get("output_url"), now)
            else:
                error = report.get("error") or {}
                message = error.get("message") if isinstance(error, dict) else str(error)
                failure = Failure(f"{module} job failed: {message}", False, None)
                self._fail_attempt(session, stage.job, stage, failure, now)

    # -- transitions ------------------------------------------------------------------------

    def _complete_stage(
        self, session: Session, job: JobRow, stage: StageRow, output_url: str | None,
        now: float, answer: Any = None,
    ) -> None:  # fmt: skip
        stage.status, stage.finished_at, stage.output_url = "completed", now, output_url
        stage.error, stage.deadline_at, stage.next_attempt_at = None, None, None
        outputs = dict(job.outputs)
        outputs[stage.module] = output_url
        if isinstance(answer, dict) and stage.module == "axis_edit":
            keep = ("job_id", "frame", "revision", "etag", "stroke_id")
            outputs["axis_edit"] = {k: answer.get(k) for k in keep}  # not the whole frame
        job.outputs = outputs
        job.updated_at = now
        following = [s for s in job.stages if s.position > stage.position]
        if following:
            nxt = following[0]
            nxt.status, nxt.next_attempt_at = "ready", now
            job.current_module = nxt.module
            self.wake()
        else:
            job.status, job.current_module, job.error = "completed", None, None
            outputs["final_url"] = output_url
            job.outputs = dict(outputs)

    def _fail_attempt(
        self, session: Session, job: JobRow, stage: StageRow, failure: Failure, now: float,
        outcome: str | None = None,
    ) -> str:  # fmt: skip
        if stage.attempt_log:
            attempt = stage.attempt_log[-1]
            if attempt.finished_at is None:
                attempt.finished_at = now
                attempt.outcome = outcome or ("transient" if failure.transient else "permanent")
                attempt.http_status = failure.http_status or attempt.http_status
                attempt.error = failure.reason
        stage.error, stage.deadline_at = failure.reason, None
        job.updated_at = now
        if self.policy.should_retry(failure, stage.attempts):
            stage.status = "retry_wait"
            stage.next_attempt_at = now + self.policy.wait_s(stage.attempts)
            log.info("job %s: %s attempt %d failed (%s); retrying", job.job_id, stage.module,
                     stage.attempts, failure.reason)  # fmt: skip
            return "retrying"
        stage.status, stage.finished_at, stage.next_attempt_at = "failed", now, None
        job.status, job.error = "failed", f"{stage.module}: {failure.reason}"
        session.add(dead_letter(job, stage, failure, now))
        log.warning("job %s dead-lettered at %s: %s", job.job_id, stage.module, failure.reason)
        return "dead-lettered"

    # -- dead-letter queue ------------------------------------------------------------------

    def list_dead_letters(self, include_replayed: bool = True) -> list[dict[str, Any]]:
        with self._session() as session:
            return [dead_letter_view(r) for r in dead_letters(session, include_replayed)]

    def get_dead_letter(self, entry_id: int) -> dict[str, Any]:
        with self._session() as session:
            return dead_letter_view(find_dead_letter(session, entry_id))

    def replay(self, entry_id: int) -> dict[str, Any]:
        """Re-run a dead-lettered job from its failed stage (see :func:`.dlq.reopen`)."""
        with self._session() as session:
            view = dead_letter_view(reopen(session, entry_id, time.time()))
        self.wake()
        return view


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_message(response: httpx.Response) -> str:
    """The one-line message of a module's error body, or the reason phrase."""
    body = _json_or_none(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or response.reason_phrase)
    return response.reason_phrase or "error"

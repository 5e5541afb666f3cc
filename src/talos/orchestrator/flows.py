"""Which stages a job runs, and the exact HTTP request of each stage.

=========  ===================================  =========================================
kind       stages                               when
=========  ===================================  =========================================
generate   prism → axis → chroma                prompt + video_source_url (use case 1);
                                                prism is skipped when cut_spec_url is given
recolor    chroma                               lines_data_url + a new style (use case 2)
edit       axis_edit → chroma (one frame)       edit of one stroke of an earlier job (3)
=========  ===================================  =========================================

Every stage but ``axis_edit`` is asynchronous: the module answers 202 and later POSTs
``/callbacks/job-completed``. ``axis_edit`` is AXIS's synchronous edit API (200 = done).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from talos.config import Settings
from talos.web.callbacks import job_key, orchestrator_callback_url, with_key

# Stage name → the module that runs it (and sends its callback).
STAGE_MODULE = {"prism": "prism", "axis": "axis", "axis_edit": "axis", "chroma": "chroma"}
# Stages whose module keeps jobs by id and answers a repeated POST of the same job with
# "already exists" instead of running it again: a retry asks this status path instead.
STATUS_PATH = {"axis": "/jobs/{job_id}"}


@dataclass(frozen=True)
class StageCall:
    """One stage's request: ``method url`` with JSON ``body``; ``callback`` says whether the
    stage ends with a module callback (202) or with the answer itself (200)."""

    method: str
    url: str
    path: str
    body: dict[str, Any]
    callback: bool = True


def plan(kind: str, request: dict[str, Any]) -> list[str]:
    """The stage names of a job of ``kind``, in order."""
    if kind == "generate":
        return (["prism"] if not request.get("cut_spec_url") else []) + ["axis", "chroma"]
    if kind == "recolor":
        return ["chroma"]
    if kind == "edit":
        return ["axis_edit", "chroma"]
    raise ValueError(f"unknown job kind {kind!r}")


def callback_url(settings: Settings, job_id: str) -> str:
    """Where modules report this job: ``callbacks.orchestrator_url`` (or the Orchestrator's
    own host/port), carrying the job's signing key as ``talos_key`` (see
    :mod:`talos.web.callbacks`). ``orchestrator.callback_token`` is always set while the
    Orchestrator runs (``create_app`` generates one when none is configured)."""
    base = orchestrator_callback_url(settings)
    secret = settings.orchestrator.callback_token
    if secret is None:
        return base
    return with_key(base, job_key(secret.get_secret_value(), job_id))


def build_call(
    stage: str, job_id: str, request: dict[str, Any], outputs: dict[str, Any], settings: Settings
) -> StageCall:
    """The request of ``stage`` for this job, from its request and earlier stages' outputs."""
    services = settings.services
    back = callback_url(settings, job_id)
    if stage == "prism":
        body = {
            "job_id": job_id,
            "prompt": request["prompt"],
            "style": request.get("style"),
            "video_source_url": request.get("video_source_url"),
            "callback_url": back,
        }
        return StageCall("POST", f"{services.prism_url}/direct", "/direct", body)
    if stage == "axis":
        body = {
            "job_id": job_id,
            "cut_spec_url": outputs.get("prism") or request.get("cut_spec_url"),
            "video_source_url": request["video_source_url"],
            "callback_url": back,
        }
        if request.get("options"):
            body["options"] = request["options"]
        return StageCall("POST", f"{services.axis_url}/generate", "/generate", body)
    if stage == "chroma":
        body = {
            "job_id": job_id,
            "lines_data_url": outputs.get("axis") or request["lines_data_url"],
            "style": request.get("style"),
            "style_profile_url": request.get("style_profile_url"),
            "callback_url": back,
        }
        edit = request.get("edit")
        if edit is not None:
            body["frames"] = [edit["frame"]]
        return StageCall("POST", f"{services.chroma_url}/colorize", "/colorize", body)
    if stage == "axis_edit":
        edit = request["edit"]
        path = (
            f"/jobs/{quote(edit['base_job_id'])}/frames/{int(edit['frame'])}"
            f"/strokes/{int(edit['stroke_id'])}"
        )
        patch = {k: edit[k] for k in ("delta_curvature", "delta_pressure", "translate",
                                      "control_points") if edit.get(k) is not None}  # fmt: skip
        return StageCall("PATCH", f"{services.axis_url}{path}", path, patch, callback=False)
    raise ValueError(f"unknown stage {stage!r}")

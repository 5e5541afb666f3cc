"""Settings of the AXIS HTTP service and its workers: the server, input limits and sources,
job-finished callbacks, the data store, the job database and the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from talos.config.base import PosFloat, Section


class ServiceLimits(Section):
    """What a POST /generate input, or a stroke edit, may be before it is refused with 422."""

    max_input_bytes: Annotated[int, Field(ge=1)] = Field(
        2 * 1024**3, description="Largest accepted source video, bytes."
    )
    max_width: Annotated[int, Field(ge=1)] = Field(7680, description="Widest accepted video, px.")
    max_height: Annotated[int, Field(ge=1)] = Field(4320, description="Tallest video, px.")
    max_duration_s: PosFloat = Field(600.0, description="Longest accepted video, seconds.")
    max_frames: Annotated[int, Field(ge=1)] = Field(20000, description="Most frames per job.")
    # Edits: a stroke's cost to store, re-render and ship grows with its control points; a
    # frame the tracer writes has a few thousand in all, a hand-drawn stroke a few hundred.
    max_stroke_points: Annotated[int, Field(ge=4)] = Field(
        10_000, description="Most Bézier control points a request gives for one stroke."
    )
    max_frame_points: Annotated[int, Field(ge=4)] = Field(
        200_000, description="Most control points in one frame after an edit, all strokes."
    )
    edit_margin: Annotated[float, Field(ge=0, le=100)] = Field(
        1.0,
        description="How far outside the frame an edited stroke may reach, in frame sizes "
        "(1.0: x in [-width, 2 width], y likewise).",
    )


class ServiceSettings(Section):
    """The AXIS HTTP service and its job workers."""

    host: str = Field("127.0.0.1", description="Address `axis serve` binds to.")
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    limits: ServiceLimits = ServiceLimits()
    lease_s: PosFloat = Field(
        60.0, description="A running job whose worker sent no heartbeat this long is re-run."
    )
    heartbeat_s: PosFloat = Field(5.0, description="How often a worker renews its job's lease.")
    poll_s: PosFloat = Field(0.5, description="How often idle embedded workers look for jobs.")
    max_attempts: Annotated[int, Field(ge=1)] = Field(
        3, description="Runs of one job (after worker crashes) before it is marked failed."
    )
    work_dir: Path | None = Field(
        None, description="Scratch folder for inputs and traces; null = the system temp folder."
    )

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> ServiceSettings:
        if self.heartbeat_s >= self.lease_s:
            raise ValueError(
                f"heartbeat_s ({self.heartbeat_s}) must be shorter than lease_s ({self.lease_s})"
            )
        return self


Scheme = Literal["file", "s3", "http", "https"]
SCHEMES: tuple[Scheme, ...] = ("file", "s3", "http", "https")


class InputSettings(Section):
    """Where job inputs (video, cut spec) may be fetched from."""

    allowed_schemes: list[Scheme] = Field(
        default_factory=lambda: list(SCHEMES),
        description="URL schemes accepted for inputs.",
    )
    allowed_roots: list[Path] = Field(
        default_factory=lambda: [Path("./data/inputs"), Path("./data/store")],
        description="file:// inputs must lie under one of these folders (symlinks resolved).",
    )
    allow_private_addresses: bool = Field(
        False, description="Allow http(s) inputs on loopback/private/link-local addresses."
    )
    trusted_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts ('name' or 'name:port') whose http(s) inputs may be on private "
        "addresses (an internal media server); every other host must resolve to public ones.",
    )
    timeout_s: PosFloat = Field(30.0, description="Connect/read timeout of input downloads.")


class CallbackSettings(Section):
    """Job-finished notifications (POST {job_id, module_name, status, ...})."""

    orchestrator_url: str | None = Field(
        None, description="Callback URL used when a job names none; null = no callback."
    )
    trusted_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts ('name' or 'name:port') a callback_url may name although they "
        "resolve to private or loopback addresses (internal Orchestrators). The Orchestrator's "
        "own callback address (orchestrator_url, else orchestrator.host:port) is always trusted.",
    )
    attempts: Annotated[int, Field(ge=1)] = Field(5, description="Tries before giving up.")
    backoff_s: PosFloat = Field(0.5, description="First retry delay; doubles each try.")
    backoff_max_s: PosFloat = Field(30.0, description="Longest retry delay.")
    timeout_s: PosFloat = Field(10.0, description="Timeout of one callback request.")


class StoreSettings(Section):
    url: str = Field("file://./data/store", description="Shared data store root (file://, s3://).")
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    endpoint_url: str | None = None


class DatabaseSettings(Section):
    url: SecretStr = Field(
        SecretStr("sqlite:///./data/axis.db"),
        description="SQLAlchemy URL of the job database (may carry a password).",
    )


class QueueSettings(Section):
    backend: Literal["embedded", "celery"] = "embedded"
    broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    workers: Annotated[int, Field(ge=1)] = 2
    max_pending: Annotated[int, Field(ge=1)] = 100


class HttpSettings(Section):
    """What every module's HTTP API accepts, before any route sees the request."""

    max_body_bytes: Annotated[int, Field(ge=1024)] = Field(
        1024**2,
        description="Largest request body, bytes; a larger one is refused with 413 before it "
        "is read (Content-Length) or as soon as it streams past the limit.",
    )

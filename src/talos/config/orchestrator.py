"""Settings of the other TALOS modules: the Orchestrator, where it reaches the modules, and the
reference director (PRISM) and colorist (CHROMA)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr

from talos.config.base import NonNegFloat, PosFloat, Section


class OrchestratorSettings(Section):
    """The TALOS Orchestrator: its server, its job database, and the per-stage retry policy."""

    host: str = Field("127.0.0.1", description="Address the Orchestrator listens on.")
    port: Annotated[int, Field(ge=1, le=65535)] = 8100
    database_url: SecretStr = Field(
        SecretStr("sqlite:///./data/orchestrator.db"),
        description="SQLAlchemy URL of the Orchestrator's own job/DLQ database.",
    )
    retry_attempts: Annotated[int, Field(ge=1)] = Field(
        3, description="Attempts per stage (first try included) before the job dead-letters."
    )
    backoff_base_s: PosFloat = Field(1.0, description="Exponential backoff: first wait, s.")
    backoff_cap_s: PosFloat = Field(30.0, description="Exponential backoff: longest wait, s.")
    backoff_jitter_s: NonNegFloat = Field(0.5, description="Random extra wait, up to this, s.")
    stage_timeout_s: PosFloat = Field(
        900.0, description="Wait this long for a module's callback before retrying the stage."
    )
    request_timeout_s: PosFloat = Field(10.0, description="HTTP timeout of one module call, s.")
    poll_interval_s: PosFloat = Field(0.5, description="How often the stage loop looks, s.")
    status_poll_s: PosFloat = Field(
        2.0,
        description="First wait before asking a module (GET /jobs/{id}) how a stage's job "
        "stands when its callback has not come; the wait doubles after each answer that says "
        "'still running', s.",
    )
    status_poll_cap_s: PosFloat = Field(
        30.0,
        description="Longest wait between two such status polls, s (keep it at or below the "
        "modules' callbacks.backoff_max_s: a lost callback is then noticed within one cap).",
    )
    callback_token: SecretStr | None = Field(
        None,
        description="Secret that signs callbacks (each job gets a key derived from it); null = "
        "a random one per Orchestrator run (callbacks of jobs in flight across a restart are "
        "then refused, and those stages wait for stage_timeout_s). Set it in production.",
    )
    callback_max_age_s: PosFloat = Field(
        300.0, description="A signed callback older (or newer) than this is refused, s."
    )


class ServicesSettings(Section):
    """Where the Orchestrator reaches the other modules (each can run alone, on any host).

    The Orchestrator's own address, which modules call back, is ``callbacks.orchestrator_url``
    (or, when that is null, ``orchestrator.host``/``port``).
    """

    prism_url: str = "http://127.0.0.1:8101"
    axis_url: str = "http://127.0.0.1:8000"
    chroma_url: str = "http://127.0.0.1:8103"


class PrismSettings(Section):
    """The reference rule-based director and its defaults when prompt and video are silent."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8101
    fps: PosFloat = Field(24.0, description="Frame rate when neither prompt nor video says.")
    duration_s: PosFloat = Field(5.0, description="Shot length when neither says, s.")
    width: Annotated[int, Field(ge=1)] = 1920
    height: Annotated[int, Field(ge=1)] = 1080
    fov_deg: Annotated[float, Field(gt=0, lt=180)] = Field(50.0, description="Horizontal FOV.")
    default_style: str = Field("ink", description="Style profile when the prompt names none.")
    move_amount: PosFloat = Field(
        20.0, description="Camera move size: pan/tilt/orbit degrees, zoom/dolly percent."
    )
    scene_depth: PosFloat = Field(10.0, description="Distance to the scene, world units.")


class ChromaSettings(Section):
    """The reference colorist: style profiles and video encoding."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8103
    profiles_dir: Path | None = Field(
        None, description="Extra style profiles (*.json), searched before the shipped ones."
    )
    default_style: str = Field("ink", description="Profile used when a request names none.")
    codec: str = Field("libx264", description="MP4 video codec (PyAV/FFmpeg name).")
    crf: Annotated[int, Field(ge=0, le=51)] = Field(20, description="x264 quality, lower=better.")

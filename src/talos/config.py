"""The one typed, validated settings object of TALOS.

Sources, highest precedence first:

1. keyword arguments to :func:`load_settings` (or ``Settings(...)``),
2. environment variables, prefix ``AXIS_``, nested keys joined by ``__``
   (``AXIS_EDGES__LOW_THRESHOLD=40``),
3. an explicit YAML file (``axis --config FILE``),
4. ``config.yaml`` in the working directory (the repository root ships one),
5. the defaults written in this module.

A bad value stops start-up with :class:`ConfigError`, whose message is one line naming
the key and the problem.
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("config.yaml")

# The explicit --config file for the Settings being built; a context variable because
# pydantic-settings builds its sources in a classmethod that takes no per-call arguments.
_explicit_config: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "axis_explicit_config", default=None
)


class ConfigError(ValueError):
    """Settings could not be loaded; ``str(err)`` is one line naming the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


NonNegInt = Annotated[int, Field(ge=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]


class ProcessingSettings(_Section):
    """Processing resolution and frame sampling."""

    width: NonNegInt = Field(0, description="Processing width in px; 0 keeps the source width.")
    height: NonNegInt = Field(
        0, description="Processing height in px; 0 derives it from width and the aspect ratio."
    )
    every: Annotated[int, Field(ge=1)] = Field(1, description="Keep every N-th decoded frame.")
    fps: NonNegFloat = Field(0.0, description="Resample to this frame rate; 0 keeps the source.")
    start: NonNegFloat = Field(0.0, description="Start time in seconds.")
    end: NonNegFloat | None = Field(None, description="End time in seconds; null = to the end.")
    max_frames: NonNegInt = Field(0, description="Stop after N frames; 0 = no limit.")
    sequence_fps: PosFloat = Field(24.0, description="Frame rate assumed for image sequences.")
    workers: NonNegInt = Field(
        0, description="Processes for frame-parallel steps; 0 = one per CPU core, 1 = in-process."
    )
    decode_ahead: NonNegInt = Field(
        2, description="Frames decoded ahead in a background thread; 0 = decode in line."
    )

    @model_validator(mode="after")
    def _end_after_start(self) -> ProcessingSettings:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be greater than start ({self.start})")
        return self


class EdgeSettings(_Section):
    """Line-map extraction."""

    strategy: str = Field(
        "auto",
        description="Edge/line-map strategy: auto, boundaries, xdog, canny, hed, onnx.",
    )
    blur_sigma: NonNegFloat = Field(1.0, description="Gaussian pre-blur sigma in px.")
    low_threshold: NonNegFloat = Field(50.0, description="Canny hysteresis low threshold.")
    high_threshold: NonNegFloat = Field(150.0, description="Canny hysteresis high threshold.")
    xdog_sigma: PosFloat = Field(1.2, description="XDoG inner Gaussian sigma in px.")
    xdog_k: Annotated[float, Field(gt=1)] = Field(1.6, description="XDoG sigma ratio.")
    xdog_tau: NonNegFloat = Field(0.98, description="XDoG weight of the outer Gaussian.")
    xdog_epsilon: float = Field(-0.02, description="XDoG threshold on the DoG response.")
    xdog_phi: PosFloat = Field(200.0, description="XDoG soft-threshold sharpness.")
    model_path: Path | None = Field(
        None, description="ONNX line-art model (onnx; for hed, instead of the installed one)."
    )
    # boundaries: colour boundaries of footage, texture suppressed (strategies/edges.py)
    boundary_width: NonNegInt = Field(
        640, description="boundaries: working width in px (texture scale); 0 = full size."
    )
    boundary_sigma: NonNegFloat = Field(
        1.0, description="boundaries: Gaussian smoothing at the working width, px."
    )
    boundary_chroma: NonNegFloat = Field(
        4.0, description="boundaries: weight of colour (a, b) against lightness (L)."
    )
    boundary_inhibition: NonNegFloat = Field(
        2.0, description="boundaries: texture suppression, x the quieter side's mean gradient."
    )
    boundary_surround: PosFloat = Field(
        6.0, description="boundaries: surround Gaussian sigma at the working width, px."
    )
    boundary_low: NonNegFloat = Field(
        0.012, description="boundaries: hysteresis low threshold (Lab/255 per working px)."
    )
    boundary_high: NonNegFloat = Field(
        0.07, description="boundaries: hysteresis high threshold (Lab/255 per working px)."
    )

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> EdgeSettings:
        if self.high_threshold < self.low_threshold:
            raise ValueError(
                f"high_threshold ({self.high_threshold}) must be >= low_threshold "
                f"({self.low_threshold})"
            )
        if self.boundary_high < self.boundary_low:
            raise ValueError(
                f"boundary_high ({self.boundary_high}) must be >= boundary_low "
                f"({self.boundary_low})"
            )
        return self

    # Temporal hysteresis (the `hysteresis` step): how weak a line seen last frame may get.
    temporal_low: Annotated[float, Field(ge=0, le=1)] = Field(
        0.5,
        description="A line seen last frame survives down to this share of the low threshold "
        "(boundaries, canny); 0 = no temporal hysteresis.",
    )

    # Strategy hed (HED, `axis models install hed`): thresholds on the probability after NMS.
    hed_low: Annotated[float, Field(ge=0, le=1)] = Field(
        0.6, description="Strategy hed: hysteresis low threshold on the edge probability."
    )
    hed_high: Annotated[float, Field(ge=0, le=1)] = Field(
        0.8, description="Strategy hed: hysteresis high threshold on the edge probability."
    )
    hed_max_width: NonNegInt = Field(
        0,
        description="Strategy hed: run the network at most this wide (px), then upsample its "
        "probability; 0 = full size.",
    )

    @model_validator(mode="after")
    def _hed_thresholds_ordered(self) -> EdgeSettings:
        if self.hed_high < self.hed_low:
            raise ValueError(f"hed_high ({self.hed_high}) must be >= hed_low ({self.hed_low})")
        return self


class ModelsSettings(_Section):
    """Locally installed models (``axis models install NAME``)."""

    dir: Path = Field(
        Path("~/.cache/talos/models"),
        description="Folder of installed models; ~ is expanded when used.",
    )


class VectorizeSettings(_Section):
    """Line map to strokes."""

    strategy: str = Field("centerline", description="Vectorizer strategy: centerline, contours.")
    tolerance: PosFloat = Field(1.0, description="Max deviation of the fitted curve in px.")
    min_length: NonNegFloat = Field(8.0, description="Drop strokes shorter than this, px.")
    fill_holes: NonNegFloat = Field(
        3.0, description="Fill enclosed background slivers at most this wide (px) before thinning."
    )
    spur_length: NonNegFloat = Field(6.0, description="Prune side branches shorter than this, px.")
    gap: NonNegFloat = Field(
        3.0, description="Bridge facing stroke ends up to this far apart (in x and in y), px."
    )
    attach_gap: NonNegFloat = Field(
        3.0, description="Join a stroke end to a line it runs into up to this far ahead, px."
    )
    join_angle: Annotated[float, Field(ge=0, le=90)] = Field(
        45.0, description="At a junction, join two branches that turn by at most this, degrees."
    )
    corner_angle: Annotated[float, Field(gt=0, le=180)] = Field(
        60.0, description="A turn sharper than this (degrees over ~4 px) is a corner knot."
    )
    smoothing: Annotated[int, Field(ge=1, le=15)] = Field(
        5, description="Moving-average window over centerline pixels before fitting, points."
    )
    shapes: bool = Field(True, description="Detect circles and triangles as primitives.")
    circle_residual: PosFloat = Field(
        0.02, description="Circle when every point is within max(1 px, this x radius)."
    )
    triangle_residual: PosFloat = Field(
        0.01, description="Triangle when 90% of points are within max(1 px, this x perimeter)."
    )
    detail_length: NonNegFloat = Field(
        40.0, description="Strokes shorter than this (px) are style_class detail."
    )


class ModelSettings(_Section):
    """A strategy that may be backed by a learned model."""

    strategy: str = "none"
    model_path: Path | None = None


class DepthSettings(ModelSettings):
    strategy: str = Field("planar", description="Depth strategy: planar, sequence, onnx.")
    planar_depth: PosFloat = Field(10.0, description="Constant depth of the planar strategy.")
    sequence_path: Path | None = Field(
        None,
        description="Strategy sequence: a folder of per-frame depth files (16-bit PNG, .npy, "
        ".exr; sorted by name, one per decoded frame) or one .npy of shape (N, H, W).",
    )
    scale: PosFloat = Field(
        1.0, description="Multiplier from stored depth values to scene units (e.g. 0.001 for mm)."
    )
    near: PosFloat = Field(1.0, description="Strategy onnx: depth of the nearest pixel.")
    far: PosFloat = Field(100.0, description="Strategy onnx: depth of the farthest pixel.")

    @model_validator(mode="after")
    def _sequence_and_range(self) -> DepthSettings:
        if self.strategy == "sequence" and self.sequence_path is None:
            raise ValueError("depth.sequence_path: required when depth.strategy is sequence")
        if self.far <= self.near:
            raise ValueError(f"depth.far ({self.far}) must be greater than near ({self.near})")
        return self


class FlowSettings(ModelSettings):
    strategy: str = Field("dis", description="Optical flow strategy: dis, farneback, onnx.")
    max_width: NonNegInt = Field(
        480, description="Estimate flow on frames downscaled to this width; 0 = full size."
    )
    dis_preset: Literal["ultrafast", "fast", "medium"] = Field(
        "fast", description="OpenCV DIS preset."
    )


class TrackingSettings(_Section):
    """Stable stroke ids across frames (StrokeTracker) and temporal smoothing."""

    enabled: bool = Field(True, description="Assign stable ids; off = per-frame ids.")
    gate_px: PosFloat = Field(
        12.0, description="Largest mean chamfer distance, px, for a stroke to keep an id."
    )
    max_lost: NonNegInt = Field(
        5, description="Frames a lost track is kept (occlusion) before its id dies."
    )
    cut_threshold: NonNegFloat = Field(
        0.3, description="Colour-histogram distance (0..1) between frames that is a cut; 0 = off."
    )
    sample_step_px: PosFloat = Field(3.0, description="Spacing of the points compared, px.")
    claim_px: PosFloat = Field(
        4.0, description="A stroke point this near a tracked line's prediction lies on it, px."
    )
    stitch_px: NonNegFloat = Field(
        12.0, description="Widest gap, px, joined between two pieces of one tracked line."
    )
    reid_frames: NonNegInt = Field(
        48, description="Frames a line lost for good can still get its id back; 0 = never."
    )
    reid_px: PosFloat = Field(
        48.0, description="How far, px, a returning line may be from where it was predicted."
    )
    smoothing: bool = Field(True, description="Smooth control points and pressure per track.")
    smoothing_window: Annotated[int, Field(ge=1)] = Field(
        3, description="Frames in the smoothing window (1 = no smoothing)."
    )
    smoothing_max_px: PosFloat = Field(
        2.0, description="Offsets larger than this, px, are motion, not jitter: left unsmoothed."
    )
    layer_motion_px: PosFloat = Field(
        0.15,
        description="Foreground step: motion beyond the camera's, px/frame, that is foreground.",
    )


class CameraSettings(_Section):
    """Camera used when the shot spec gives no intrinsics."""

    fov_deg: Annotated[float, Field(gt=0, lt=180)] = Field(
        50.0, description="Horizontal field of view, degrees."
    )


class PipelineSettings(_Section):
    steps: list[str] = Field(
        default_factory=lambda: [
            "edges",
            "vectorize",
            "score",
            "flow",
            "hysteresis",
            "depth",
            "track",
            "smooth",
            "lift",
            "foreground",
            "layers",
            "render",
            "write",
        ],
        description="Processing steps after decode, by registry name, in order.",
    )


class OutputSettings(_Section):
    write_svg: bool = True
    write_png: bool = False
    stroke_width: PosFloat = Field(2.0, description="Nominal stroke width in px.")


class StoreSettings(_Section):
    url: str = Field("file://./data/store", description="Shared data store root (file://, s3://).")
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    endpoint_url: str | None = None


class DatabaseSettings(_Section):
    url: SecretStr = Field(
        SecretStr("sqlite:///./data/axis.db"),
        description="SQLAlchemy URL of the job database (may carry a password).",
    )


class QueueSettings(_Section):
    backend: Literal["embedded", "celery"] = "embedded"
    broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    workers: Annotated[int, Field(ge=1)] = 2
    max_pending: Annotated[int, Field(ge=1)] = 100


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = Field(False, description="One JSON object per log line.")


class TracingSettings(_Section):
    call_log: Path | None = Field(
        None, description="Append every inter-module HTTP call here (JSON lines); null = off."
    )


class OrchestratorSettings(_Section):
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
    callback_token: SecretStr | None = Field(
        None, description="Shared secret modules send as Bearer token on callbacks; null = off."
    )


class ServicesSettings(_Section):
    """Where the Orchestrator reaches the other modules (each can run alone, on any host).

    The Orchestrator's own address, which modules call back, is ``callbacks.orchestrator_url``
    (or, when that is null, ``orchestrator.host``/``port``).
    """

    prism_url: str = "http://127.0.0.1:8101"
    axis_url: str = "http://127.0.0.1:8000"
    chroma_url: str = "http://127.0.0.1:8103"


class PrismSettings(_Section):
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


class ChromaSettings(_Section):
    """The reference colorist: style profiles and video encoding."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8103
    profiles_dir: Path | None = Field(
        None, description="Extra style profiles (*.json), searched before the shipped ones."
    )
    default_style: str = Field("ink", description="Profile used when a request names none.")
    codec: str = Field("libx264", description="MP4 video codec (PyAV/FFmpeg name).")
    crf: Annotated[int, Field(ge=0, le=51)] = Field(20, description="x264 quality, lower=better.")


class ServiceLimits(_Section):
    """What a POST /generate input may be before it is refused with 422."""

    max_input_bytes: Annotated[int, Field(ge=1)] = Field(
        2 * 1024**3, description="Largest accepted source video, bytes."
    )
    max_width: Annotated[int, Field(ge=1)] = Field(7680, description="Widest accepted video, px.")
    max_height: Annotated[int, Field(ge=1)] = Field(4320, description="Tallest video, px.")
    max_duration_s: PosFloat = Field(600.0, description="Longest accepted video, seconds.")
    max_frames: Annotated[int, Field(ge=1)] = Field(20000, description="Most frames per job.")


class ServiceSettings(_Section):
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


class InputSettings(_Section):
    """Where job inputs (video, cut spec) may be fetched from."""

    allowed_schemes: list[Literal["file", "s3", "http", "https"]] = Field(
        default_factory=lambda: ["file", "s3", "http", "https"],
        description="URL schemes accepted for inputs.",
    )
    allowed_roots: list[Path] = Field(
        default_factory=lambda: [Path("./data/inputs"), Path("./data/store")],
        description="file:// inputs must lie under one of these folders (symlinks resolved).",
    )
    allow_private_addresses: bool = Field(
        False, description="Allow http(s) inputs on loopback/private/link-local addresses."
    )
    timeout_s: PosFloat = Field(30.0, description="Connect/read timeout of input downloads.")


class CallbackSettings(_Section):
    """Job-finished notifications (POST {job_id, module_name, status, ...})."""

    orchestrator_url: str | None = Field(
        None, description="Callback URL used when a job names none; null = no callback."
    )
    attempts: Annotated[int, Field(ge=1)] = Field(5, description="Tries before giving up.")
    backoff_s: PosFloat = Field(0.5, description="First retry delay; doubles each try.")
    backoff_max_s: PosFloat = Field(30.0, description="Longest retry delay.")
    timeout_s: PosFloat = Field(10.0, description="Timeout of one callback request.")


def _split_csv(value: Any) -> Any:
    """Accept ``a,b`` and JSON lists alike for list-valued environment variables."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return yaml.safe_load(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All of TALOS's configuration. See ``config.yaml`` for a commented copy of the defaults."""

    model_config = SettingsConfigDict(
        env_prefix="AXIS_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        case_sensitive=False,
    )

    processing: ProcessingSettings = ProcessingSettings()
    edges: EdgeSettings = EdgeSettings()
    models: ModelsSettings = ModelsSettings()
    vectorize: VectorizeSettings = VectorizeSettings()
    depth: DepthSettings = DepthSettings()
    flow: FlowSettings = FlowSettings()
    tracking: TrackingSettings = TrackingSettings()
    camera: CameraSettings = CameraSettings()
    pipeline: PipelineSettings = PipelineSettings()
    output: OutputSettings = OutputSettings()
    store: StoreSettings = StoreSettings()
    database: DatabaseSettings = DatabaseSettings()
    queue: QueueSettings = QueueSettings()
    logging: LoggingSettings = LoggingSettings()
    tracing: TracingSettings = TracingSettings()
    service: ServiceSettings = ServiceSettings()
    inputs: InputSettings = InputSettings()
    callbacks: CallbackSettings = CallbackSettings()
    orchestrator: OrchestratorSettings = OrchestratorSettings()
    services: ServicesSettings = ServicesSettings()
    prism: PrismSettings = PrismSettings()
    chroma: ChromaSettings = ChromaSettings()
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="Accepted X-API-Key values; empty = no auth."
    )

    _split_api_keys = field_validator("api_keys", mode="before")(_split_csv)

    @model_validator(mode="after")
    def _selected_models_exist(self) -> Settings:
        for name in ("edges", "depth", "flow"):
            section = getattr(self, name)
            if section.strategy != "onnx":
                continue
            path = section.model_path
            if path is None:
                raise ValueError(f"{name}.model_path: required when {name}.strategy is onnx")
            if not Path(path).is_file():
                raise ValueError(f"{name}.model_path: model file not found: {path}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        explicit = _explicit_config.get()
        if explicit is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=explicit))
        if DEFAULT_CONFIG_FILE.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=DEFAULT_CONFIG_FILE))
        return tuple(sources)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:
        return message  # whole-settings checks name their own key
    key = ".".join(str(part) for part in first["loc"])
    value = first.get("input")
    shown = "" if isinstance(value, dict | list) or value is None else f" (got {value!r})"
    return f"{key}: {message}{shown}"


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build :class:`Settings` from every source, or raise :class:`ConfigError`.

    ``config_file`` is the explicit ``--config`` YAML file; ``overrides`` win over everything.
    """
    path = Path(config_file) if config_file is not None else None
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            content = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"config file {path} is not valid YAML: {exc}".splitlines()[0]
            ) from None
        if content is not None and not isinstance(content, dict):
            raise ConfigError(f"config file {path}: top level must be a mapping of sections")
    token = _explicit_config.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    finally:
        _explicit_config.reset(token)

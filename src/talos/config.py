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

    strategy: str = Field("xdog", description="Edge/line-map strategy: canny, xdog, onnx.")
    blur_sigma: NonNegFloat = Field(1.0, description="Gaussian pre-blur sigma in px.")
    low_threshold: NonNegFloat = Field(50.0, description="Canny hysteresis low threshold.")
    high_threshold: NonNegFloat = Field(150.0, description="Canny hysteresis high threshold.")
    xdog_sigma: PosFloat = Field(1.2, description="XDoG inner Gaussian sigma in px.")
    xdog_k: Annotated[float, Field(gt=1)] = Field(1.6, description="XDoG sigma ratio.")
    xdog_tau: NonNegFloat = Field(0.98, description="XDoG weight of the outer Gaussian.")
    xdog_epsilon: float = Field(-0.02, description="XDoG threshold on the DoG response.")
    xdog_phi: PosFloat = Field(200.0, description="XDoG soft-threshold sharpness.")
    model_path: Path | None = Field(None, description="ONNX line-art model (strategy onnx).")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> EdgeSettings:
        if self.high_threshold < self.low_threshold:
            raise ValueError(
                f"high_threshold ({self.high_threshold}) must be >= low_threshold "
                f"({self.low_threshold})"
            )
        return self


class VectorizeSettings(_Section):
    """Line map to strokes."""

    strategy: str = Field("contours", description="Vectorizer strategy.")
    tolerance: PosFloat = Field(1.0, description="Max deviation of the fitted curve in px.")
    min_length: NonNegFloat = Field(8.0, description="Drop strokes shorter than this, px.")


class ModelSettings(_Section):
    """A strategy that may be backed by a learned model."""

    strategy: str = "none"
    model_path: Path | None = None


class DepthSettings(ModelSettings):
    strategy: str = Field("planar", description="Depth strategy: planar, onnx, ...")
    planar_depth: PosFloat = Field(10.0, description="Constant depth of the planar strategy.")


class FlowSettings(ModelSettings):
    strategy: str = Field("dis", description="Optical flow strategy: dis, farneback, onnx.")


class PipelineSettings(_Section):
    steps: list[str] = Field(
        default_factory=lambda: ["edges", "vectorize", "render", "write"],
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
    vectorize: VectorizeSettings = VectorizeSettings()
    depth: DepthSettings = DepthSettings()
    flow: FlowSettings = FlowSettings()
    pipeline: PipelineSettings = PipelineSettings()
    output: OutputSettings = OutputSettings()
    store: StoreSettings = StoreSettings()
    database: DatabaseSettings = DatabaseSettings()
    queue: QueueSettings = QueueSettings()
    logging: LoggingSettings = LoggingSettings()
    tracing: TracingSettings = TracingSettings()
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

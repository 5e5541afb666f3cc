"""The one typed, validated settings object of TALOS.

Sources, highest precedence first:

1. keyword arguments to :func:`load_settings` (or ``Settings(...)``),
2. environment variables, prefix ``AXIS_``, nested keys joined by ``__``
   (``AXIS_EDGES__LOW_THRESHOLD=40``),
3. an explicit YAML file (``axis --config FILE``),
4. ``config.yaml`` in the working directory (the repository root ships one),
5. the defaults written in the section modules.

Files (3 and 4) are read by :func:`load_settings` only, which the ``axis`` command and the
services call at start-up. A bare ``Settings()`` in library code is the code defaults plus
the environment: what a library call does must not depend on the folder it runs in.

The sections live with the subsystem they configure: :mod:`talos.config.engine`,
:mod:`talos.config.service`, :mod:`talos.config.orchestrator` and
:mod:`talos.config.observability`; every section class is importable from here.

A bad value stops start-up with :class:`ConfigError`, whose message is one line naming
the key and the problem.
"""

from __future__ import annotations

import contextvars
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from talos.config.engine import (
    CameraSettings,
    DepthSettings,
    EdgeSettings,
    FlowSettings,
    ModelSettings,
    ModelsSettings,
    OutputSettings,
    PipelineSettings,
    ProcessingSettings,
    TrackingSettings,
    VectorizeSettings,
)
from talos.config.observability import LoggingSettings, TracingSettings
from talos.config.orchestrator import (
    ChromaSettings,
    OrchestratorSettings,
    PrismSettings,
    ServicesSettings,
)
from talos.config.service import (
    CallbackSettings,
    DatabaseSettings,
    HttpSettings,
    InputSettings,
    QueueSettings,
    ServiceLimits,
    ServiceSettings,
    StoreSettings,
)

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "CallbackSettings",
    "CameraSettings",
    "ChromaSettings",
    "ConfigError",
    "DatabaseSettings",
    "DepthSettings",
    "EdgeSettings",
    "FlowSettings",
    "HttpSettings",
    "InputSettings",
    "LoggingSettings",
    "ModelSettings",
    "ModelsSettings",
    "OrchestratorSettings",
    "OutputSettings",
    "PipelineSettings",
    "PrismSettings",
    "ProcessingSettings",
    "QueueSettings",
    "ServiceLimits",
    "ServiceSettings",
    "ServicesSettings",
    "Settings",
    "StoreSettings",
    "TracingSettings",
    "TrackingSettings",
    "VectorizeSettings",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("config.yaml")

# The YAML files of the Settings being built by load_settings, highest precedence first; a
# context variable because pydantic-settings builds its sources in a classmethod that takes no
# per-call arguments. Empty outside load_settings, so Settings() reads no file.
_yaml_files: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "axis_yaml_files", default=()
)


class ConfigError(ValueError):
    """Settings could not be loaded; ``str(err)`` is one line naming the key and the problem."""


def _split_csv(value: Any) -> Any:
    """Accept ``a,b`` and JSON lists alike for list-valued environment variables."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return yaml.safe_load(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All of TALOS's configuration. See ``config.yaml`` for a commented copy of the defaults.

    ``Settings(...)`` reads keyword arguments, the environment and the code defaults; only
    :func:`load_settings` adds the YAML files.
    """

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
    http: HttpSettings = HttpSettings()
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
        files = [YamlConfigSettingsSource(settings_cls, yaml_file=f) for f in _yaml_files.get()]
        return (init_settings, env_settings, *files)


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

    ``config_file`` is the explicit ``--config`` YAML file; ``config.yaml`` in the working
    directory is read below it when present; ``overrides`` win over everything. This is how
    the CLI and the services load their settings.
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
    files = [] if path is None else [path]
    if DEFAULT_CONFIG_FILE.is_file():
        files.append(DEFAULT_CONFIG_FILE)
    token = _yaml_files.set(tuple(files))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except SettingsError as exc:
        raise ConfigError(_describe_unparsed(exc)) from None
    finally:
        _yaml_files.reset(token)


def _describe_unparsed(exc: SettingsError) -> str:
    """One line for an environment value pydantic-settings could not parse: a list or mapping
    setting must be JSON there, and its error names only the section, so name the variables of
    that section whose values are not JSON."""
    match = re.search(r'field "([^"]+)"', str(exc))
    section = match.group(1) if match else ""
    prefix = f"{Settings.model_config.get('env_prefix', '')}{section}__".upper()

    def is_json(value: str) -> bool:
        try:
            json.loads(value)
        except ValueError:
            return False
        return True

    keys = sorted(
        name[len(prefix) :].lower().replace("__", ".")
        for name, value in os.environ.items()
        if name.upper().startswith(prefix) and not is_json(value)
    )
    named = ", ".join(f"{section}.{key}" for key in keys) or section
    hint = "lists and mappings are JSON there, e.g. '[\"a\"]'"
    return f"{named}: cannot read the environment value ({hint})"

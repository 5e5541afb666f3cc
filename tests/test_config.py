from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.processes import REPO_ROOT, assert_clean_failure, run_axis

from talos.config import ConfigError, Settings, load_settings


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_repository_config_yaml_is_valid_and_matches_code_defaults(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    from_file = load_settings()
    monkeypatch.chdir(REPO_ROOT / "tests")  # no config.yaml here
    assert from_file.model_dump() == Settings().model_dump()


def test_precedence_init_env_file_default_yaml(workdir: Path, monkeypatch):
    (workdir / "config.yaml").write_text(
        "edges:\n  low_threshold: 11\n  high_threshold: 200\n"
        "processing:\n  every: 3\n  max_frames: 7\n"
    )
    given = workdir / "given.yaml"
    given.write_text("edges:\n  low_threshold: 22\nprocessing:\n  every: 4\n")
    monkeypatch.setenv("AXIS_EDGES__LOW_THRESHOLD", "33")

    settings = load_settings(given, edges={"low_threshold": 44})
    assert settings.edges.low_threshold == 44  # init args win
    settings = load_settings(given)
    assert settings.edges.low_threshold == 33  # env beats the given file
    assert settings.processing.every == 4  # given file beats config.yaml
    assert settings.processing.max_frames == 7  # config.yaml beats code defaults
    assert settings.edges.high_threshold == 200  # sections merge, not replace
    assert settings.edges.xdog_k == Settings.model_fields["edges"].default.xdog_k


def test_env_nested_and_api_keys_are_secret(workdir: Path, monkeypatch):
    monkeypatch.setenv("AXIS_API_KEYS", "alpha,beta")
    monkeypatch.setenv("AXIS_DATABASE__URL", "postgresql+psycopg://u:hunter2@db/x")
    settings = load_settings()
    assert [k.get_secret_value() for k in settings.api_keys] == ["alpha", "beta"]
    assert "hunter2" not in repr(settings) and "alpha" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())
    monkeypatch.setenv("AXIS_API_KEYS", '["gamma"]')
    assert [k.get_secret_value() for k in load_settings().api_keys] == ["gamma"]


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"AXIS_EDGES__LOW_THRESHOLD": "abc"}, "edges.low_threshold"),
        ({"AXIS_EDGES__LOW_THRESHOLD": "-1"}, "edges.low_threshold"),
        ({"AXIS_EDGES__NO_SUCH_KEY": "1"}, "edges.no_such_key"),
        ({"AXIS_PROCESSING__EVERY": "0"}, "processing.every"),
        ({"AXIS_QUEUE__BACKEND": "kafka"}, "queue.backend"),
        ({"AXIS_FLOW__STRATEGY": "onnx"}, "flow.model_path"),
        # the request limits and egress settings of issue 17
        ({"AXIS_HTTP__MAX_BODY_BYTES": "10"}, "http.max_body_bytes"),
        ({"AXIS_SERVICE__LIMITS__MAX_STROKE_POINTS": "0"}, "service.limits.max_stroke_points"),
        ({"AXIS_SERVICE__LIMITS__EDIT_MARGIN": "-1"}, "service.limits.edit_margin"),
        ({"AXIS_CALLBACKS__TRUSTED_HOSTS": "orch:8100"}, "callbacks.trusted_hosts"),
        ({"AXIS_ORCHESTRATOR__STATUS_POLL_S": "0"}, "orchestrator.status_poll_s"),
        ({"AXIS_ORCHESTRATOR__CALLBACK_MAX_AGE_S": "-5"}, "orchestrator.callback_max_age_s"),
        # the shape hold
        ({"AXIS_TRACKING__HOLD_PX": "-0.5"}, "tracking.hold_px"),
        ({"AXIS_TRACKING__HOLD_END_PX": "far"}, "tracking.hold_end_px"),
        ({"AXIS_EDGES__XDOG_TONE_LINES": "sometimes"}, "edges.xdog_tone_lines"),
        ({"AXIS_EDGES__XDOG_HOLLOW_LINES": "maybe"}, "edges.xdog_hollow_lines"),
        ({"AXIS_EDGES__BOUNDARY_CREASES": "often"}, "edges.boundary_creases"),
        ({"AXIS_EDGES__BOUNDARY_CREASE_HIGH": "steep"}, "edges.boundary_crease_high"),
        ({"AXIS_EDGES__BOUNDARY_SCALE": "half"}, "edges.boundary_scale"),
        ({"AXIS_EDGES__BOUNDARY_CONTOUR": "-0.01"}, "edges.boundary_contour"),
        (
            {"AXIS_DEPTH__STRATEGY": "onnx", "AXIS_DEPTH__MODEL_PATH": "/nonexistent/depth.onnx"},
            "depth.model_path: model file not found",
        ),
    ],
)
def test_bad_env_values_name_the_key(workdir: Path, monkeypatch, env, needle):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("edges:\n  low_threshold: -5\n", "edges.low_threshold"),
        ("edges:\n  low_threshold: ten\n", "edges.low_threshold"),
        ("nonsense_section:\n  a: 1\n", "nonsense_section"),
        ("edges:\n  colour: red\n", "edges.colour"),
        ("edges:\n  low_threshold: 90\n  high_threshold: 10\n", "high_threshold"),
        ("processing:\n  start: 5\n  end: 2\n", "processing"),
        ("edges: [1, 2\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_bad_config_file_names_the_key(workdir: Path, content: str, needle: str):
    path = workdir / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_config_file(workdir: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(workdir / "absent.yaml")


def test_selected_model_present_is_accepted(workdir: Path):
    model = workdir / "edges.onnx"
    model.write_bytes(b"\x08\x01")
    settings = load_settings(edges={"strategy": "onnx", "model_path": str(model)})
    assert settings.edges.model_path == model


@pytest.mark.e2e
def test_cli_bad_config_is_one_line(tmp_path: Path, sample_clip: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("edges:\n  low_threshold: -3\n")
    result = run_axis("trace", str(sample_clip), "-o", str(tmp_path / "o"), "--config", str(bad))
    assert_clean_failure(result, "edges.low_threshold")
    assert result.returncode == 2

    result = run_axis(
        "trace",
        str(sample_clip),
        "-o",
        str(tmp_path / "o"),
        env={"AXIS_EDGES__STRATEGY": "sobelxyz"},
    )
    assert_clean_failure(result, "unknown edge strategy 'sobelxyz'")


def test_bare_settings_read_no_config_file(workdir: Path, monkeypatch):
    """config.yaml is read by load_settings (the CLI, the services), never by a library call
    that builds Settings(): that is the code defaults plus the environment."""
    (workdir / "config.yaml").write_text("edges:\n  low_threshold: 11\n")
    assert load_settings().edges.low_threshold == 11
    default = Settings.model_fields["edges"].default.low_threshold
    assert Settings().edges.low_threshold == default
    monkeypatch.setenv("AXIS_EDGES__LOW_THRESHOLD", "33")
    assert Settings().edges.low_threshold == 33

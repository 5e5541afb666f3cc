"""``axis serve`` and ``axis worker`` fail with one clear line on bad usage."""

from __future__ import annotations

import pytest
from tests.helpers.processes import assert_clean_failure, run_axis

from talos.cli.serve import SERVICES, load_factory


def test_services_table_names_factories() -> None:
    assert load_factory("axis").__name__ == "create_app"
    assert all(":" in target for target in SERVICES.values())


@pytest.mark.e2e
def test_unknown_service_and_bad_port() -> None:
    assert_clean_failure(run_axis("serve", "nosuch"), "unknown service 'nosuch'")
    assert_clean_failure(run_axis("serve", "axis", "--port", "70000"), "--port")


@pytest.mark.e2e
def test_worker_with_unreachable_database(tmp_path) -> None:
    result = run_axis(
        "worker", env={"AXIS_DATABASE__URL": "postgresql+psycopg://postgres:pw@127.0.0.1:9/x"}
    )
    assert_clean_failure(result, "cannot migrate the job database")
    assert "pw@" not in result.stderr


@pytest.mark.e2e
def test_bad_service_settings_are_one_line_config_errors() -> None:
    result = run_axis("serve", env={"AXIS_SERVICE__HEARTBEAT_S": "100"})
    assert_clean_failure(result, "heartbeat_s")
    result = run_axis("worker", env={"AXIS_QUEUE__BACKEND": "rabbit"})
    assert_clean_failure(result, "queue.backend")
    result = run_axis("serve", env={"AXIS_INPUTS__ALLOWED_SCHEMES": '["gopher"]'})
    assert_clean_failure(result, "inputs.allowed_schemes")

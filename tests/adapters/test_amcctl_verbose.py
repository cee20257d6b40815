"""`amcctl --verbose` shows the HTTP layer's lines (issue 21 point 4): a
retry after a 503 and a throttle wait, each naming the AMC operation, and a
call retrying against a dead endpoint that is no longer silent; without
--verbose none of it is printed, and never a secret."""

import pytest

from conftest import no_secrets, run_amcctl
from test_amcctl_sandbox import sandbox_admin, unreachable_config


@pytest.fixture(scope="module")
def logged_in(sandbox):
    result = sandbox("auth", "login")
    assert result.code == 0, result
    return sandbox


@pytest.fixture
def fault(logged_in):
    rules = []

    def add(rule):
        rules.append(sandbox_admin(logged_in, "POST", "faults", rule)["id"])

    yield add
    for rule in rules:
        sandbox_admin(logged_in, "DELETE", f"faults/{rule}")


def test_verbose_shows_a_retry_and_a_throttle_wait_with_the_operation(logged_in, fault):
    fault({"kind": "error_status", "status": 503, "operation": "listWorkflows", "count": 1})
    # Rules match in order: the first request gets the 503, the second the 429.
    fault({"kind": "rate_limit", "operation": "listWorkflows", "count": 1, "retry_after": 1})
    result = logged_in("--verbose", "workflow", "list")
    assert result.code == 0, result
    retry = [line for line in result.err.splitlines() if line.startswith("libamc info: list_workflows: GET ")]
    assert len(retry) == 2, result
    assert "/workflows answered HTTP 503; retry 1 of " in retry[0], result
    assert "/workflows answered HTTP 429 (throttled); waiting 1000 ms (as Retry-After asks)" in retry[1], result
    no_secrets(result, logged_in)


def test_without_verbose_the_retries_are_quiet(logged_in, fault):
    fault({"kind": "error_status", "status": 503, "operation": "listWorkflows", "count": 1})
    result = logged_in("workflow", "list")
    assert result.code == 0, result
    assert "retry" not in result.err, result


def test_a_call_retrying_against_a_dead_endpoint_is_not_silent(logged_in, tmp_path):
    config, url, env = unreachable_config(logged_in, tmp_path, retry={"max_attempts": 3, "base_delay_ms": 50})
    result = run_amcctl("--verbose", "--config", config, "workflow", "list", env=env)
    assert result.code == 8, result
    lines = [line for line in result.err.splitlines() if line.startswith("libamc info: ")]
    retries = [line for line in lines if "could not connect" in line and "; retry " in line]
    assert [line.split("; retry ")[1].split(" in ")[0] for line in retries] == ["1 of 2", "2 of 2"], result
    assert url in retries[0], result
    assert any("not retried again" in line for line in lines), result
    no_secrets(result, logged_in)

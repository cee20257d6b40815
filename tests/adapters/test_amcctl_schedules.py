"""amcctl's schedule commands against a real amc-sandbox over HTTPS
(issue 24 point 1): create (from options or a --definition file), get, list,
update (an option changes only its field), delete, --json, the workflow
delete that a schedule still runs refused naming the schedule, and the
usage errors that need no library."""

import json

import pytest

from conftest import no_secrets


@pytest.fixture(scope="module")
def logged_in(sandbox, tmp_path_factory):
    result = sandbox("auth", "login")
    assert result.code == 0, result
    query = tmp_path_factory.mktemp("sql") / "query.sql"
    query.write_text("SELECT 1 -- sandbox: duration=1s\n")
    result = sandbox("workflow", "sync", "--file", query, "--id", "wf_cli_sched")
    assert result.code == 0, result
    return sandbox


def test_create_get_list_update_delete(logged_in, tmp_path):
    result = logged_in("schedule", "create", "cli_daily", "--workflow-id", "wf_cli_sched", "--period", "Daily",
                       "--hour", "6")
    assert result.code == 0, result
    assert result.out == "created schedule cli_daily: runs wf_cli_sched Daily at 06:00 UTC\n", result

    result = logged_in("--json", "schedule", "get", "cli_daily")
    assert result.code == 0, result
    schedule = json.loads(result.out)
    assert schedule == {"scheduleId": "cli_daily", "workflowId": "wf_cli_sched", "aggregationPeriod": "Daily",
                        "aggregationHourUtc": 6, "scheduleEnabled": True}

    # An option changes its own field; the rest is AMC's copy, sent back whole.
    result = logged_in("schedule", "update", "cli_daily", "--hour", "7", "--disabled")
    assert result.code == 0, result
    assert result.out == "updated schedule cli_daily: runs wf_cli_sched Daily at 07:00 UTC (disabled)\n", result
    definition = tmp_path / "weekly.json"
    definition.write_text(json.dumps({"aggregationPeriod": "Weekly", "aggregationStartDay": "Sunday"}))
    result = logged_in("--json", "schedule", "update", "--schedule-id", "cli_daily", "--definition", definition,
                       "--enabled")
    assert result.code == 0, result
    assert json.loads(result.out) == {"scheduleId": "cli_daily", "workflowId": "wf_cli_sched",
                                      "aggregationPeriod": "Weekly", "aggregationStartDay": "Sunday",
                                      "aggregationHourUtc": 7, "scheduleEnabled": True}

    # Created from a definition alone.
    definition.write_text(json.dumps({"scheduleId": "cli_from_file", "workflowId": "wf_cli_sched",
                                      "aggregationPeriod": "Daily", "aggregationHourUtc": 23}))
    result = logged_in("schedule", "create", "--definition", definition)
    assert result.code == 0 and "cli_from_file: runs wf_cli_sched Daily at 23:00 UTC" in result.out, result

    result = logged_in("schedule", "list")
    assert result.code == 0, result
    assert result.out.splitlines() == [
        "schedule cli_daily: runs wf_cli_sched Weekly on Sunday at 07:00 UTC",
        "schedule cli_from_file: runs wf_cli_sched Daily at 23:00 UTC",
    ], result
    result = logged_in("--json=scheduleId", "schedule", "list")
    assert json.loads(result.out) == {"schedules": [{"scheduleId": "cli_daily"}, {"scheduleId": "cli_from_file"}]}

    # The workflow they run cannot go before them.
    result = logged_in("workflow", "delete", "wf_cli_sched")
    assert result.code != 0, result
    assert "AMC_E_CONFLICT" in result.err and "cli_daily" in result.err and "cli_from_file" in result.err, result
    assert "schedule delete" in result.err, result
    no_secrets(result, logged_in)

    for schedule_id in ("cli_daily", "cli_from_file"):
        result = logged_in("schedule", "delete", schedule_id)
        assert result.code == 0 and result.out == f"deleted schedule {schedule_id}\n", result
    result = logged_in("schedule", "get", "cli_daily")
    assert result.code == 5 and result.err.startswith("amcctl: AMC_E_NOT_FOUND: "), result
    result = logged_in("schedule", "list")
    assert result.code == 0 and result.out == "(no schedules)\n", result


def test_usage_errors(amcctl):
    for args, expected in [
        (["schedule", "create", "s1", "--period", "Daily"], "--workflow-id"),
        (["schedule", "create", "s1", "--workflow-id", "wf", "--period", "Monthly"], "Daily or Weekly"),
        (["schedule", "create", "s1", "--workflow-id", "wf", "--period", "Daily", "--hour", "24"], "0 to 23"),
        (["schedule", "get"], "schedule id"),
        (["schedule", "list", "--hour", "3"], "--hour is not an option of 'schedule list'"),
    ]:
        result = amcctl(*args)
        assert result.code == 2 and expected in result.err, (args, result)

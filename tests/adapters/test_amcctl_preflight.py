"""amcctl for people writing AMC SQL, against the bundled amc-sandbox
(issue 24 points 2-4): `tables [--filter]` and `columns TABLE` (human tables
and --json, every page), `workflow check FILE` (the pre-flight check: an
unknown table named with the closest name, AMC's compile error with its
line, no execution created) and `quota` (today's ad-hoc runs, from AMC's
own list)."""

import json

import pytest

from conftest import no_secrets
from test_amcctl_sandbox import sandbox_admin


@pytest.fixture(scope="module")
def logged_in(sandbox):
    result = sandbox("auth", "login")
    assert result.code == 0, result
    return sandbox


def logged_operations(sandbox):
    return [entry["operation"] for entry in sandbox_admin(sandbox, "GET", "requests?limit=1000")["requests"]]


def test_tables_lists_every_page_as_a_table_and_filters(logged_in):
    sandbox_admin(logged_in, "PUT", "settings", {"data_sources_page_size": 3})
    try:
        result = logged_in("tables")
        assert result.code == 0, result
        lines = result.out.splitlines()
        assert lines[0].split() == ["TABLE", "COLUMNS", "DESCRIPTION"]
        rows = {line.split()[0]: line for line in lines[1:]}
        assert len(rows) == 10, result.out
        assert rows["sandbox_wide_events"].split()[1] == "500"  # a list item holds at most 500
        # The columns line up: every row's second cell starts where the header's does.
        start = lines[0].index("COLUMNS")
        assert all(line[start - 2:start] == "  " and line[start] != " " for line in lines[1:]), result.out

        filtered = logged_in("--json", "tables", "--filter", "DSP_")
        assert filtered.code == 0, filtered
        ids = [source["dataSourceId"] for source in json.loads(filtered.out)["dataSources"]]
        assert ids == ["dsp_impressions", "dsp_clicks", "dsp_views", "dsp_impressions_by_user_segments"]
    finally:
        sandbox_admin(logged_in, "PUT", "settings", {"data_sources_page_size": 100})
    no_secrets(result, logged_in)


def test_columns_of_a_table_every_page(logged_in):
    result = logged_in("columns", "dsp_clicks")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0] == "dsp_clicks: 5 columns"
    assert lines[1].split() == ["COLUMN", "TYPE", "DESCRIPTION"]
    assert lines[-1].split()[:2] == ["clicks", "METRIC"]

    wide = logged_in("--json", "columns", "sandbox_wide_events")
    assert wide.code == 0, wide
    columns = json.loads(wide.out)["columns"]
    assert len(columns) == 620 and columns[-1]["name"] == "metric_618"

    missing = logged_in("columns", "dsp_nowhere")
    assert missing.code == 5, missing
    usage = logged_in("columns")
    assert usage.code == 2 and "columns needs a table name" in usage.err, usage


def test_workflow_check_names_the_unknown_table_and_creates_no_execution(logged_in, tmp_path):
    sql = tmp_path / "typo.sql"
    sql.write_text("-- daily reach\nSELECT campaign, COUNT(DISTINCT user_id)\nFROM dsp_impresions\nGROUP BY 1\n")
    result = logged_in("workflow", "check", sql)
    assert result.code == 2, result
    assert result.err.startswith("amcctl: AMC_E_INVALID_ARGUMENT: "), result
    assert "table 'dsp_impresions' (line 3)" in result.err, result
    assert "did you mean 'dsp_impressions'?" in result.err, result
    assert "AMC could not compile the SQL at line 3" in result.err, result

    report = logged_in("--json", "workflow", "check", sql)
    assert report.code == 2, report
    preflight = json.loads(report.out)
    assert preflight["unknown_tables"] == [{"table": "dsp_impresions", "line": 3, "closest": "dsp_impressions"}]
    assert preflight["compile_error"]["line"] == 3

    operations = logged_operations(logged_in)
    assert "createWorkflowExecution" not in operations, operations
    assert operations.count("createWorkflowExecution (dryRun)") == 2, operations

    sql.write_text("SELECT campaign\nFROM dsp_impressions\nWHERE (impressions > 0\n")
    broken = logged_in("workflow", "check", sql)
    assert broken.code == 2 and "AMC could not compile the SQL at line 3" in broken.err, broken

    sql.write_text("SELECT campaign FROM dsp_impressions JOIN dsp_clicks USING (campaign_id)\n")
    good = logged_in("workflow", "check", sql)
    assert good.code == 0, good
    assert good.out.startswith("OK: AMC compiled the SQL in a dry run"), good
    assert "dsp_impressions, dsp_clicks" in good.out, good
    no_secrets(good, logged_in)


def test_quota_counts_todays_adhoc_runs(logged_in, tmp_path):
    before = logged_in("--json", "quota")
    assert before.code == 0, before
    used = json.loads(before.out)["adhoc_executions_today"]
    sql = tmp_path / "adhoc.sql"
    sql.write_text("-- sandbox: duration=1s\nSELECT 1\n")
    for _ in range(2):
        run = logged_in("run", "--sql", sql, "--no-wait")
        assert run.code == 0, run
    after = logged_in("quota")
    assert after.code == 0, after
    assert f": {used + 2} of 30 ad-hoc runs used today" in after.out, after
    assert f"{28 - used} left; resets at " in after.out and "T00:00:00Z" in after.out, after

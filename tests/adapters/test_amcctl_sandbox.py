"""amcctl end to end against the bundled amc-sandbox over HTTPS: the
consent-flow login, discovery, workflow sync (with a --definition file:
inputParameters, outputColumns, aggregation-threshold fields)/get/list/delete,
run (submit, wait with progress, download of every part with a progress line
per part, first rows; explicit window, time zone, parameters, dry run, poll
interval, each checked in what the sandbox recorded), status, cancel, results,
idempotent re-submission, and the exit codes of failures (2, 3, 4, 5, 6, 7, 8,
130).

These tests need the library's client and AMC entry points
(amc_client_new ... amc_results_download). While the library lacks one, the
commands fail with exit 9 and "lacks amc_..." and these tests fail for that
reason only."""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse

import pytest

from conftest import AMCCTL, EXAMPLES, clean_env, fernet_key, no_secrets, run_amcctl

ADVERTISER = "ENTITY1SANDBOX0001"  # the sandbox's default account


@pytest.fixture(scope="module")
def logged_in(sandbox):
    result = sandbox("auth", "login")
    assert result.code == 0, result
    assert "credential sandbox: active" in result.out
    return sandbox


def sql_file(tmp_path, name, markers):
    path = tmp_path / name
    path.write_text(f"-- sandbox: {markers}\nSELECT campaign, SUM(impressions) AS impressions\n"
                    "FROM dsp_impressions GROUP BY campaign\n")
    return path


def test_auth_login_status_refresh(logged_in):
    for args in (["auth", "status"], ["auth", "refresh"], ["--json", "auth", "status"]):
        result = logged_in(*args)
        assert result.code == 0, result
        no_secrets(result, logged_in)
    status = json.loads(logged_in("--json", "auth", "status").out)
    assert status["credential_id"] == "sandbox" and status["state"] == "active"


def test_login_with_an_explicit_code_that_is_wrong_needs_auth(sandbox):
    result = sandbox("--credential", "other", "auth", "login", "--code", "ANnot-a-real-code")
    assert result.code == 3, result
    assert result.err.startswith("amcctl: AMC_E_AUTH_REQUIRED: ") or "AMC_E_" in result.err


def test_unknown_credential(sandbox):
    result = sandbox("--credential", "nobody", "workflow", "list")
    assert result.code in (3, 5), result


def test_discovery(logged_in):
    result = logged_in("--json", "accounts")
    assert result.code == 0, result
    accounts = json.loads(result.out)["accounts"]
    assert any(account["accountId"] == ADVERTISER for account in accounts)
    result = logged_in("accounts")
    assert result.code == 0 and ADVERTISER in result.out, result
    result = logged_in("--json", "instances")
    assert result.code == 0, result
    assert json.loads(result.out)["instances"], result


def test_workflow_sync_get_list_delete(logged_in, tmp_path):
    query = sql_file(tmp_path, "Weekly Reach.sql", "duration=1s")
    result = logged_in("workflow", "sync", "--file", query)
    assert result.code == 0, result
    match = re.match(r"created workflow (\S+)", result.out)
    assert match, result
    workflow_id = match.group(1)
    assert workflow_id.startswith("wf_weekly_reach")
    # Same definition again: unchanged; the id is derived deterministically.
    result = logged_in("--json", "workflow", "sync", "--file", query)
    assert result.code == 0, result
    assert json.loads(result.out)["action"] == "unchanged"
    query.write_text(query.read_text() + "-- changed\n")
    result = logged_in("workflow", "sync", "--file", query, "--id", workflow_id)
    assert result.code == 0 and result.out.startswith("updated workflow"), result

    result = logged_in("workflow", "get", workflow_id)
    assert result.code == 0 and "-- changed" in result.out, result
    result = logged_in("workflow", "list")
    assert result.code == 0 and workflow_id in result.out, result
    result = logged_in("workflow", "delete", workflow_id)
    assert result.code == 0, result
    result = logged_in("workflow", "get", workflow_id)
    assert result.code == 5, result
    assert result.err.startswith("amcctl: AMC_E_NOT_FOUND: "), result


def test_run_the_example_workflow_end_to_end(logged_in, tmp_path):
    result = logged_in("workflow", "sync", "--file", EXAMPLES / "daily_campaign_summary.sql",
                       "--id", "wf_daily_campaign_summary")
    assert result.code == 0, result
    out = tmp_path / "results"
    result = logged_in("run", "--workflow-id", "wf_daily_campaign_summary", "--window", "MOST_RECENT_WEEK",
                       "--execution-id", "exec_e2e00001", "--out", out, "--progress", "--head", "3")
    assert result.code == 0, result
    no_secrets(result, logged_in)
    assert "submitted exec_e2e00001" in result.err
    assert re.search(r"exec_e2e00001  (PENDING|RUNNING|PUBLISHING|SUCCEEDED)\s+elapsed \d+:\d\d  next poll in",
                     result.err), result
    assert "downloaded 3 part(s), 180 rows" in result.out, result
    assert "first rows of" in result.out
    files = sorted(p.name for p in out.iterdir())
    assert files == ["part-1.csv", "part-2.csv", "part-3.csv"], files
    # Header plus three rows of the first part.
    table = result.out.split("first rows of", 1)[1].strip().splitlines()[1:]
    assert len(table) == 4, result

    # The same execution id again re-attaches: no second AMC run.
    again = logged_in("--json", "run", "--workflow-id", "wf_daily_campaign_summary", "--window",
                      "MOST_RECENT_WEEK", "--execution-id", "exec_e2e00001", "--out", tmp_path / "again")
    assert again.code == 0, again
    manifest = json.loads(again.out)
    assert manifest["total_rows"] == 180 and len(manifest["files"]) == 3

    # status and results by our id and by AMC's.
    result = logged_in("status", "exec_e2e00001")
    assert result.code == 0 and "SUCCEEDED" in result.out, result
    amc_id = manifest["amc_execution_id"]
    result = logged_in("--json", "status", amc_id)
    assert result.code == 0 and json.loads(result.out)["status"] == "SUCCEEDED", result
    result = logged_in("results", amc_id, "--out", tmp_path / "results-again", "--head", "0")
    assert result.code == 0 and "downloaded 3 part(s)" in result.out, result


def test_ad_hoc_sql_failure_exits_six_with_the_reason(logged_in, tmp_path):
    query = sql_file(tmp_path, "broken.sql", 'fail "column impressions_x does not exist" duration=1s')
    result = logged_in("run", "--sql", query, "--out", tmp_path / "out")
    assert result.code == 6, result
    assert result.err.startswith("amcctl: AMC_E_EXECUTION_FAILED: ") or "AMC_E_EXECUTION_FAILED" in result.err
    assert "impressions_x does not exist" in result.err


def test_timeout_then_cancel(logged_in, tmp_path):
    query = sql_file(tmp_path, "slow.sql", "duration=100h")
    result = logged_in("--timeout", "2", "run", "--sql", query, "--out", tmp_path / "out")
    assert result.code == 7, result
    assert "AMC_E_TIMEOUT" in result.err
    amc_id = re.search(r"AMC execution ([0-9a-f-]{36})", result.err).group(1)
    result = logged_in("cancel", amc_id)
    assert result.code == 0, result
    result = logged_in("--json", "status", amc_id)
    assert json.loads(result.out)["status"] == "CANCELLED", result
    # Cancelling a finished execution is a conflict.
    result = logged_in("cancel", amc_id)
    assert result.code == 1 and "AMC_E_CONFLICT" in result.err, result


def test_numeric_profile_id_as_advertiser_exits_two(logged_in):
    result = logged_in("--advertiser", "12345", "workflow", "list")
    assert result.code == 2, result
    assert result.err.startswith("amcctl: AMC_E_INVALID_ARGUMENT: "), result
    assert "accounts" in result.err  # points at account discovery


def test_unknown_execution_exits_five(logged_in):
    result = logged_in("status", "00000000-0000-0000-0000-000000000000")
    assert result.code == 5, result
    result = logged_in("status", "exec_00000000")
    assert result.code == 5, result


def test_invalid_workflow_id_exits_two(logged_in, tmp_path):
    query = sql_file(tmp_path, "q.sql", "duration=1s")
    result = logged_in("workflow", "sync", "--file", query, "--id", "wf with spaces")
    assert result.code == 2, result


def test_sandbox_is_stopped_unless_kept(tmp_path):
    directory = tmp_path / "own"
    directory.mkdir(mode=0o700)
    result = run_amcctl("--sandbox", "--sandbox-dir", directory, "auth", "login")
    assert result.code == 0, result
    summary = json.loads((directory / "sandbox.json").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(summary["pid"], 0)
    result = run_amcctl("--sandbox", "--sandbox-dir", directory, "--keep-sandbox", "auth", "status")
    assert result.code in (3, 5), result  # a new sandbox: the old grant is gone
    summary = json.loads((directory / "sandbox.json").read_text())
    os.kill(summary["pid"], 0)  # still running
    result = run_amcctl("--sandbox-dir", directory, "sandbox", "stop")
    assert result.code == 0 and "stopped" in result.out, result


def sandbox_config_file(sandbox, tmp_path, credential):
    """A plain config file for the sandbox (no --sandbox), with amcctl's
    "defaults" section; the secrets come from environment variables."""
    summary = sandbox.summary
    config = {
        "endpoints": {"amc": summary["url"], "lwa_token": summary["token_url"], "lwa_consent": summary["consent_url"]},
        "lwa": {"client_id": summary["client_id"], "client_secret_env": "TEST_LWA_SECRET"},
        "tls": {"ca_file": summary["ca_file"]},
        "store": {"path": str(tmp_path / "credentials.json"), "fernet_keys_env": "TEST_FERNET_KEYS"},
        "defaults": {"credential_id": credential, "instance_id": summary["instance_id"],
                     "advertiser_id": summary["advertiser_id"], "marketplace_id": summary["marketplace_id"],
                     "redirect_uri": "https://app.example/amc/callback"},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = clean_env(TEST_LWA_SECRET=(sandbox.directory / "client_secret").read_text().strip(),
                    TEST_FERNET_KEYS=fernet_key())
    return path, env


def follow_consent(url, ca_file):
    """What a browser does on the sandbox's auto-approving consent page."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port,
                                             context=ssl.create_default_context(cafile=ca_file))
    connection.request("GET", parts.path + "?" + parts.query)
    response = connection.getresponse()
    assert response.status == 302
    return response.getheader("Location")


def interactive_login(config, env, tamper=None):
    process = subprocess.Popen([str(AMCCTL), "--config", str(config), "auth", "login"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    url = None
    while url is None:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        if line.strip().startswith("https://"):
            url = line.strip()
    location = follow_consent(url, json.loads(config.read_text())["tls"]["ca_file"])
    assert location.startswith("https://app.example/amc/callback?code=")
    if tamper:
        location = tamper(location)
    out, err = process.communicate(location + "\n", timeout=60)
    return process.returncode, out, err


def test_interactive_login_with_a_config_file_and_defaults(sandbox, tmp_path):
    config, env = sandbox_config_file(sandbox, tmp_path, "interactive")
    code, out, err = interactive_login(config, env)
    assert code == 0, (out, err)
    assert "credential interactive: active" in out
    assert env["TEST_LWA_SECRET"] not in out + err
    # The defaults name the instance, so no --instance is needed.
    result = run_amcctl("--config", config, "workflow", "list", env=env)
    assert result.code == 0, result
    result = run_amcctl("--config", config, "--advertiser", "12345", "workflow", "list", env=env)
    assert result.code == 2, result


def test_interactive_login_refuses_a_foreign_state(sandbox, tmp_path):
    config, env = sandbox_config_file(sandbox, tmp_path, "tampered")
    code, out, err = interactive_login(config, env, tamper=lambda url: re.sub(r"state=[^&]*", "state=forged", url))
    assert code == 3, (out, err)
    assert "state does not match" in err


def test_interrupt_stops_the_wait_not_the_execution(logged_in, tmp_path):
    query = sql_file(tmp_path, "long.sql", "duration=100h")
    process = subprocess.Popen([str(AMCCTL), "--sandbox", "--sandbox-dir", str(logged_in.directory), "run", "--sql",
                                str(query)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=clean_env())
    line = process.stderr.readline()
    assert "submitted" in line, line
    amc_id = re.search(r"AMC execution ([0-9a-f-]{36})", line).group(1)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    assert f"amcctl cancel {amc_id}" in err
    result = logged_in("--json", "status", amc_id)
    assert json.loads(result.out)["status"] in ("PENDING", "RUNNING"), result
    assert logged_in("cancel", amc_id).code == 0


def test_sandbox_login_without_curl_imports_the_seeded_grant(tmp_path):
    directory = tmp_path / "nocurl"
    directory.mkdir(mode=0o700)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = run_amcctl("--sandbox", "--sandbox-dir", directory, "auth", "login", env=clean_env(PATH=str(empty)))
    assert result.code == 0, result
    assert "importing the sandbox's seeded grant" in result.err
    assert "credential sandbox: active" in result.out and "access token:  yes" in result.out
    refresh_token = (directory / "refresh_token").read_text().strip() if (directory / "refresh_token").exists() else ""
    assert not refresh_token or refresh_token not in result.out + result.err


# --- workflow sync with a definition (inputParameters, outputColumns, aggregation thresholds) ---

REACH_DEFINITION = {
    "workflowId": "wf_reach_by_campaign",
    "inputParameters": [{"name": "campaign", "dataType": "STRING", "columnType": "DIMENSION",
                         "defaultValue": "ACME", "description": "campaign to report"}],
    "outputColumns": [{"name": "campaign", "dataType": "STRING", "columnType": "DIMENSION"},
                      {"name": "spend", "dataType": "DECIMAL", "columnType": "METRIC",
                       "dataTypePrecision": 12, "dataTypeScale": 2}],
    "filteredMetricsDiscriminatorColumn": "filtered",
    "distinctUserCountColumn": "du_count",
    "filteredReasonColumn": "filtered_reason",
    "privacyFilteringBehavior": "REMOVE_VALUES",
}

DEFINITION_FIELDS = ("inputParameters", "outputColumns", "filteredMetricsDiscriminatorColumn",
                     "distinctUserCountColumn", "filteredReasonColumn", "privacyFilteringBehavior")


def test_workflow_sync_with_a_definition_file(logged_in, tmp_path):
    query = tmp_path / "reach.sql"
    query.write_text("-- sandbox: duration=1s\nSELECT CUSTOM_PARAMETER('campaign') AS campaign, SUM(spend) AS spend\n"
                     "FROM dsp_impressions GROUP BY 1\n")
    definition = tmp_path / "reach.json"
    definition.write_text(json.dumps(REACH_DEFINITION))
    # The id comes from the definition's workflowId, the SQL from --file.
    result = logged_in("workflow", "sync", "--file", query, "--definition", definition)
    assert result.code == 0, result
    assert result.out.startswith("created workflow wf_reach_by_campaign"), result

    result = logged_in("--json", "workflow", "get", "wf_reach_by_campaign")
    assert result.code == 0, result
    stored = json.loads(result.out)
    for field in DEFINITION_FIELDS:
        assert stored[field] == REACH_DEFINITION[field], (field, stored)
    assert stored["sqlQuery"] == query.read_text()

    # The same definition again: nothing to do.
    result = logged_in("--json", "workflow", "sync", "--file", query, "--definition", definition)
    assert result.code == 0, result
    assert json.loads(result.out)["action"] == "unchanged", result

    # A change in an aggregation-threshold field alone is an update.
    changed = dict(REACH_DEFINITION, distinctUserCountColumn="users")
    definition.write_text(json.dumps(changed))
    result = logged_in("--json", "workflow", "sync", "--file", query, "--definition", definition)
    assert result.code == 0, result
    assert json.loads(result.out)["action"] == "updated", result
    stored = json.loads(logged_in("--json", "workflow", "get", "wf_reach_by_campaign").out)
    assert stored["distinctUserCountColumn"] == "users"
    assert stored["outputColumns"] == REACH_DEFINITION["outputColumns"]

    # The fields reach the run: the parameter's default satisfies
    # CUSTOM_PARAMETER('campaign') and the result has the output columns.
    out = tmp_path / "out"
    result = logged_in("run", "--workflow-id", "wf_reach_by_campaign", "--out", out, "--head", "1")
    assert result.code == 0, result
    assert (out / "part-1.csv").read_text().splitlines()[0] == "campaign,spend"
    assert logged_in("workflow", "delete", "wf_reach_by_campaign").code == 0


def test_workflow_sync_command_line_wins_over_the_definition(logged_in, tmp_path):
    definition = tmp_path / "Nightly Spend.json"
    definition.write_text(json.dumps({"sqlQuery": "SELECT 1 -- sandbox: duration=1s",
                                      "outputColumns": REACH_DEFINITION["outputColumns"]}))
    # No workflowId anywhere: derived from the definition's file name.
    result = logged_in("--json", "workflow", "sync", "--definition", definition)
    assert result.code == 0, result
    synced = json.loads(result.out)
    assert synced["action"] == "created"
    assert synced["workflow"]["workflowId"].startswith("wf_nightly_spend")
    assert synced["workflow"]["sqlQuery"] == "SELECT 1 -- sandbox: duration=1s"

    # --id and --file replace the definition's workflowId and sqlQuery.
    definition.write_text(json.dumps(dict(REACH_DEFINITION, sqlQuery="SELECT 'from the definition'")))
    query = tmp_path / "q.sql"
    query.write_text("SELECT 'from the file'")
    result = logged_in("--json", "workflow", "sync", "--definition", definition, "--file", query,
                       "--id", "wf_cli_wins")
    assert result.code == 0, result
    stored = json.loads(logged_in("--json", "workflow", "get", "wf_cli_wins").out)
    assert stored["sqlQuery"] == "SELECT 'from the file'"
    assert stored["inputParameters"] == REACH_DEFINITION["inputParameters"]
    assert logged_in("workflow", "get", "wf_reach_by_campaign").code == 5
    for workflow_id in ("wf_cli_wins", synced["workflow"]["workflowId"]):
        assert logged_in("workflow", "delete", workflow_id).code == 0


def test_workflow_sync_refuses_a_bad_definition(logged_in, tmp_path):
    definition = tmp_path / "bad.json"
    cases = [("{not json", "must hold one JSON object"),
             ("[1, 2]", "must hold one JSON object"),
             (json.dumps({"workflowId": 7, "sqlQuery": "SELECT 1"}), '"workflowId" in'),
             (json.dumps({"outputColumns": []}), 'has no "sqlQuery"')]
    for text, message in cases:
        definition.write_text(text)
        result = logged_in("workflow", "sync", "--definition", definition)
        assert result.code == 2, (text, result)
        assert message in result.err, (text, result)
    result = logged_in("workflow", "sync", "--definition", tmp_path / "missing.json")
    assert result.code == 2 and "cannot read" in result.err, result


# --- run options reach AMC ---

def test_run_with_an_explicit_window_time_zone_and_parameters(logged_in, tmp_path):
    query = tmp_path / "params.sql"
    query.write_text("-- sandbox: duration=1s\nSELECT CUSTOM_PARAMETER('campaign'), CUSTOM_PARAMETER('filter'),\n"
                     "CUSTOM_PARAMETER('note') FROM dsp_impressions\n")
    result = logged_in("run", "--sql", query, "--window", "EXPLICIT", "--start", "2026-01-01T00:00:00",
                       "--end", "2026-01-08T00:00:00", "--time-zone", "America/New_York",
                       "--param", "campaign=ACME", "--param", "filter=a=b", "--param", 'note=say "hi"',
                       "--execution-id", "exec_window01", "--out", tmp_path / "out", "--head", "0")
    assert result.code == 0, result
    execution = json.loads(logged_in("--json", "status", "exec_window01").out)
    assert execution["timeWindowStartOriginal"] == "2026-01-01T00:00:00"
    assert execution["timeWindowEndOriginal"] == "2026-01-08T00:00:00"
    assert execution["timeWindowTimeZoneOriginal"] == "America/New_York"
    assert execution["parameterValues"] == {"campaign": "ACME", "filter": "a=b", "note": 'say "hi"'}

    # --start/--end alone imply EXPLICIT; a parameter left out is AMC's 422.
    result = logged_in("--json", "run", "--sql", query, "--start", "2026-02-01T00:00:00",
                       "--end", "2026-02-02T00:00:00", "--param", "campaign=ACME", "--param", "filter=x",
                       "--out", tmp_path / "out2")
    assert result.code == 2, result
    assert result.err.startswith("amcctl: AMC_E_INVALID_ARGUMENT: "), result
    assert "CUSTOM_PARAMETER('note')" in result.err, result


def test_run_dry_run_validates_and_downloads_nothing(logged_in, tmp_path):
    query = sql_file(tmp_path, "dry.sql", "duration=1s")
    out = tmp_path / "out"
    result = logged_in("--json", "run", "--sql", query, "--dry-run", "--start", "2026-03-01T00:00:00",
                       "--end", "2026-03-02T00:00:00", "--execution-id", "exec_dryrun01", "--out", out)
    assert result.code == 0, result
    execution = json.loads(result.out)  # the final execution, not a manifest
    assert execution["status"] == "SUCCEEDED"
    assert execution["outputChannels"][0]["status"] == "UNAVAILABLE"  # the sandbox's mark of a dry run
    assert "outputS3URI" not in execution and "files" not in execution
    assert execution["timeWindowStartOriginal"] == "2026-03-01T00:00:00"
    assert not out.exists()
    result = logged_in("run", "--sql", query, "--dry-run", "--out", out)
    assert result.code == 0, result
    assert re.search(r"dry run [0-9a-f-]{36} SUCCEEDED: .*no results to download", result.out), result


def test_run_poll_interval_reaches_the_wait(logged_in, tmp_path):
    # PENDING for 2 s (at the sandbox's time scale 100), polled every 0.3 s
    # then 0.6 s; the sandbox default would be 1.0 s.
    query = sql_file(tmp_path, "polled.sql", "pending=200s duration=1s")
    result = logged_in("run", "--sql", query, "--poll-ms", "300", "--max-poll-ms", "600", "--progress",
                       "--out", tmp_path / "out", "--head", "0")
    assert result.code == 0, result
    intervals = re.findall(r"next poll in (\d+\.\d)s", result.err)
    assert intervals and intervals[0] == "0.3", result
    assert set(intervals) <= {"0.3", "0.6"} and "0.6" in intervals, result


# --- download progress ---

def test_download_progress_names_every_part(logged_in, tmp_path):
    query = sql_file(tmp_path, "parts.sql", "duration=1s parts=3 rows=10")
    result = logged_in("run", "--sql", query, "--execution-id", "exec_parts001", "--progress",
                       "--out", tmp_path / "run", "--head", "0")
    assert result.code == 0, result
    for part in (1, 2, 3):
        assert re.search(rf"exec_parts001  downloading part {part}/3  \d+ of \d+ bytes  elapsed \d+:\d\d",
                         result.err), result
    assert "downloaded 3 part(s), 10 rows" in result.out
    result = logged_in("results", "exec_parts001", "--progress", "--out", tmp_path / "again", "--head", "0")
    assert result.code == 0, result
    assert all(f"downloading part {part}/3" in result.err for part in (1, 2, 3)), result
    # Without --progress (stderr is not a terminal here) there is no progress line.
    result = logged_in("results", "exec_parts001", "--out", tmp_path / "quiet", "--head", "0")
    assert result.code == 0 and "downloading part" not in result.err, result


# --- exit codes 4 and 8 ---

def test_forbidden_advertiser_exits_four(logged_in):
    result = logged_in("--advertiser", "ENTITY1NOTOURS0001", "workflow", "list")
    assert result.code == 4, result
    assert result.err.startswith("amcctl: AMC_E_FORBIDDEN: "), result
    assert "ENTITY1NOTOURS0001" in result.err
    no_secrets(result, logged_in)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_config(sandbox, tmp_path, **changes):
    """A config file with the sandbox's own credential store and client, but
    every endpoint on a closed local port (`changes` added at the top
    level); returns its path, the URL and the environment it needs."""
    summary = sandbox.summary
    url = f"https://127.0.0.1:{closed_port()}"
    config = tmp_path / "unreachable.json"
    config.write_text(json.dumps({
        "endpoints": {"amc": url, "lwa_token": url + "/auth/o2/token", "lwa_consent": url + "/ap/oa"},
        "lwa": {"client_id": summary["client_id"], "client_secret_env": "TEST_LWA_SECRET"},
        "tls": {"ca_file": summary["ca_file"]},
        "store": {"path": str(sandbox.directory / "credentials.json"), "fernet_keys_env": "TEST_FERNET_KEYS"},
        "defaults": {"credential_id": "sandbox", "instance_id": summary["instance_id"],
                     "advertiser_id": summary["advertiser_id"], "marketplace_id": summary["marketplace_id"]},
        **changes,
    }))
    env = clean_env(TEST_LWA_SECRET=(sandbox.directory / "client_secret").read_text().strip(),
                    TEST_FERNET_KEYS=(sandbox.directory / "fernet.key").read_text().strip())
    return config, url, env


def test_unreachable_endpoint_exits_eight_and_says_what_to_do(logged_in, tmp_path):
    """The sandbox's own credential store and client, but every endpoint on a
    closed local port."""
    config, url, env = unreachable_config(logged_in, tmp_path)
    result = run_amcctl("--config", config, "workflow", "list", env=env)
    assert result.code == 8, result
    assert result.err.startswith("amcctl: AMC_E_NETWORK: "), result
    assert url.removeprefix("https://") in result.err
    assert "reachable" in result.err and "run the command again" in result.err, result
    no_secrets(result, logged_in)


# --- deadlines: a wait's timeout holds even when every status read is throttled ---

def sandbox_admin(sandbox, method, path, body=None):
    """One call of the sandbox's admin API (/_sandbox/…) over its HTTPS port."""
    parts = urllib.parse.urlsplit(sandbox.summary["url"])
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30,
                                             context=ssl.create_default_context(cafile=sandbox.summary["ca_file"]))
    payload = json.dumps(body) if body is not None else None
    connection.request(method, "/_sandbox/" + path, body=payload,
                       headers={"Content-Type": "application/json"} if payload else {})
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    assert 200 <= response.status < 300, (response.status, text)
    return json.loads(text) if text else {}


@pytest.mark.parametrize("retry_after", [1, None], ids=["with-retry-after", "without-retry-after"])
def test_a_wait_with_every_status_read_throttled_ends_at_its_timeout(logged_in, tmp_path, retry_after):
    """Issue 11: `run … --timeout 8` with every getWorkflowExecution answered
    429 took 51.7 s (Retry-After: 1) and 128 s (none), because the call's
    timeout never reached the HTTP requests. It must end with AMC_E_TIMEOUT
    (exit 7) within 10 s, and say the 8000 ms it was given."""
    query = sql_file(tmp_path, "throttled.sql", "duration=100h")
    rule = sandbox_admin(logged_in, "POST", "faults",
                         {"kind": "rate_limit", "operation": "getWorkflowExecution", "count": -1,
                          "retry_after": retry_after})
    try:
        started = time.monotonic()
        result = logged_in("run", "--sql", query, "--timeout", "8", "--out", tmp_path / "out", timeout=60)
        elapsed = time.monotonic() - started
    finally:
        sandbox_admin(logged_in, "DELETE", f"faults/{rule['id']}")
    assert result.code == 7, result
    assert result.err.startswith("amcctl: AMC_E_TIMEOUT: ") or "AMC_E_TIMEOUT" in result.err, result
    assert "8000 ms" in result.err, result
    assert "throttling" in result.err, result
    assert elapsed < 10.0, f"took {elapsed:.1f} s\n{result}"
    # The execution keeps running in AMC: cancel it so it holds no slot.
    amc_id = re.search(r"AMC execution ([0-9a-f-]{36})", result.err)
    if amc_id:
        assert logged_in("cancel", amc_id.group(1)).code == 0

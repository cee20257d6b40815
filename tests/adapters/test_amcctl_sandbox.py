"""amcctl end to end against the bundled amc-sandbox over HTTPS: the
consent-flow login, discovery, workflow sync/get/list/delete, run (submit,
wait with progress, download of every part, first rows), status, cancel,
results, idempotent re-submission, and the exit codes of failures.

These tests need the library's client and AMC entry points
(amc_client_new ... amc_results_download). While the library lacks one, the
commands fail with exit 9 and "lacks amc_..." and these tests fail for that
reason only."""

import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import time
import urllib.parse

import pytest

from conftest import AMCCTL, EXAMPLES, clean_env, fernet_key, run_amcctl

ADVERTISER = "ENTITY1SANDBOX0001"  # the sandbox's default account


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """One sandbox for the module, started by `amcctl sandbox start`; every
    call reuses it through --sandbox-dir, then `sandbox stop`."""
    directory = tmp_path_factory.mktemp("amcctl-sandbox")
    os.chmod(directory, 0o700)
    result = run_amcctl("--sandbox-dir", directory, "sandbox", "start")
    assert result.code == 0, result
    summary = json.loads((directory / "sandbox.json").read_text())
    assert summary["url"].startswith("https://127.0.0.1:")

    def amcctl(*args, **kwargs):
        return run_amcctl("--sandbox", "--sandbox-dir", directory, *args, **kwargs)

    amcctl.directory = directory
    amcctl.summary = summary
    yield amcctl
    run_amcctl("--sandbox-dir", directory, "sandbox", "stop")


@pytest.fixture(scope="module")
def logged_in(sandbox):
    result = sandbox("auth", "login")
    assert result.code == 0, result
    assert "credential sandbox: active" in result.out
    return sandbox


def no_secrets(result, sandbox):
    secret = (sandbox.directory / "client_secret").read_text().strip()
    key = (sandbox.directory / "fernet.key").read_text().strip()
    text = result.out + result.err
    assert secret not in text and key not in text
    assert "Atzr|" not in text and "Atza|" not in text


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

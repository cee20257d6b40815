"""amcctl as a daily tool (issue 22): the default config file and named
profiles, `configure`, Fernet keys from a key file, `auth logout`, the
exit codes of `auth status`, `executions list`, `run --no-wait`, `--json`
field selection, a non-UTF-8 SQL file named by line and column, a cancelled
run's results refused without a folder, and the result preview read in the
result's own CSV format. Against a real amc-sandbox over HTTPS, and a file
store filled through the library's C ABI (ctypes) with keys made here."""

import json
import os
import stat
import time

import pytest

from conftest import clean_env, fernet_key, no_secrets, run_amcctl, store_put_credential


def put_credential(store_path, key, credential_id, state="active"):
    store_put_credential({"path": str(store_path), "fernet_keys": key},
                         {"credential_id": credential_id, "client_id": "amzn1.application-oa2-client.test",
                          "refresh_token": "Atzr|test-refresh-token-not-real", "state": state})


def key_file(tmp_path, *keys, mode=0o600):
    path = tmp_path / "fernet.keys"
    path.write_text("\n".join(keys) + "\n")
    os.chmod(path, mode)
    return path


# ---------------------------------------------------------------------------
# Config file, profiles, configure, key files (no server needed)
# ---------------------------------------------------------------------------

def test_configure_writes_a_private_profile_used_by_default(tmp_path):
    home = tmp_path / "xdg"
    store_path = tmp_path / "credentials.json"
    key = fernet_key()
    keys = key_file(tmp_path, key)
    put_credential(store_path, key, "alice")
    env = clean_env(XDG_CONFIG_HOME=str(home))
    result = run_amcctl("--profile", "work", "--credential", "alice", "--fernet-key-file", keys, "configure",
                        "--region", "eu", "--store-path", store_path, env=env)
    assert result.code == 0, result
    config_path = home / "amcctl" / "config.json"
    assert f"wrote profile 'work' to {config_path}" in result.out
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_path.parent.stat().st_mode) == 0o700
    config = json.loads(config_path.read_text())
    assert config["default_profile"] == "work"
    work = config["profiles"]["work"]
    assert work["region"] == "eu" and work["store"] == {"path": str(store_path)}
    assert work["lwa"] == {"client_id_env": "AMC_CLIENT_ID", "client_secret_env": "AMC_CLIENT_SECRET"}
    assert work["defaults"] == {"credential_id": "alice", "fernet_key_file": str(keys)}
    assert key not in config_path.read_text()

    # No --config: the default file, its default profile, the key file it names.
    result = run_amcctl("--json", "store", "list", env=env)
    assert result.code == 0, result
    assert [c["credential_id"] for c in json.loads(result.out)["credentials"]] == ["alice"]
    assert key not in result.out + result.err

    # A second profile; chosen by --profile or AMCCTL_PROFILE.
    other_store = tmp_path / "other.json"
    put_credential(other_store, key, "bob")
    result = run_amcctl("--profile", "other", "--fernet-key-file", keys, "--json", "configure", "--store-path",
                        other_store, env=env)
    assert result.code == 0, result
    assert json.loads(result.out) == {"config_file": str(config_path), "profile": "other"}
    assert json.loads(config_path.read_text())["default_profile"] == "work"
    result = run_amcctl("--profile", "other", "store", "list", env=env)
    assert result.code == 0 and "bob\t" in result.out and "alice" not in result.out, result
    result = run_amcctl("store", "list", env=clean_env(XDG_CONFIG_HOME=str(home), AMCCTL_PROFILE="other"))
    assert result.code == 0 and "bob\t" in result.out, result

    # An unknown profile: exit 9, naming the profiles there are.
    result = run_amcctl("--profile", "wrok", "store", "list", env=env)
    assert result.code == 9, result
    assert "has no profile 'wrok'" in result.err and "work" in result.err and "other" in result.err


def test_home_config_is_the_fallback_without_xdg(tmp_path):
    env = clean_env(HOME=str(tmp_path))
    del env["XDG_CONFIG_HOME"]
    result = run_amcctl("configure", env=env)
    assert result.code == 0, result
    assert (tmp_path / ".config" / "amcctl" / "config.json").exists()
    assert "profile 'default'" in result.out


def test_configure_keeps_a_single_config_as_profile_default(tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({"region": "fe", "defaults": {"credential_id": "old"}}))
    result = run_amcctl("--config", config_path, "--profile", "new", "configure", "--region", "na")
    assert result.code == 0, result
    config = json.loads(config_path.read_text())
    assert config["profiles"]["default"] == {"region": "fe", "defaults": {"credential_id": "old"}}
    assert config["profiles"]["new"]["region"] == "na" and config["default_profile"] == "default"
    # --profile on a file without profiles says so.
    single = tmp_path / "single.json"
    single.write_text("{}")
    result = run_amcctl("--config", single, "--profile", "x", "store", "list")
    assert result.code == 9 and "has no \"profiles\"" in result.err, result


def test_fernet_keys_from_a_key_file_must_be_private(tmp_path):
    store_path = tmp_path / "credentials.json"
    old, new = fernet_key(), fernet_key()
    put_credential(store_path, old, "alice")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"store": {"path": str(store_path)}}))
    keys = key_file(tmp_path, old, mode=0o644)
    result = run_amcctl("--config", config, "--fernet-key-file", keys, "store", "list")
    assert result.code == 9, result
    assert "chmod 600" in result.err and old not in result.err
    os.chmod(keys, 0o600)
    # Several keys (one a line): the first encrypts, all decrypt.
    keys.write_text(f"{new}\n{old}\n")
    result = run_amcctl("--config", config, "store", "rotate-keys",
                        env=clean_env(AMC_FERNET_KEY_FILE=str(keys)))
    assert result.code == 0 and "re-encrypted 1 of 1" in result.out, result
    keys.write_text(new)
    result = run_amcctl("--config", config, "--fernet-key-file", keys, "store", "list")
    assert result.code == 0 and "alice\tactive" in result.out, result
    # Keys in the config and a key file: one source only.
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"store": {"path": str(store_path), "fernet_keys": new}}))
    result = run_amcctl("--config", both, "--fernet-key-file", keys, "store", "list")
    assert result.code == 9 and "keep one" in result.err, result


def test_logout_and_auth_status_exit_codes(tmp_path):
    store_path = tmp_path / "credentials.json"
    key = fernet_key()
    put_credential(store_path, key, "alice")
    put_credential(store_path, key, "stale", state="needs-reauth")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"lwa": {"client_id": "amzn1.application-oa2-client.test",
                                          "client_secret_env": "AMC_TEST_CLIENT_SECRET"},
                                  "store": {"path": str(store_path), "fernet_keys": key}}))
    env = clean_env(AMC_TEST_CLIENT_SECRET="not-a-real-secret")

    result = run_amcctl("--config", config, "--credential", "alice", "auth", "status", env=env)
    assert result.code == 0 and "credential alice: active" in result.out, result
    # A credential that needs a new login: non-zero (3), with what to do.
    result = run_amcctl("--config", config, "--credential", "stale", "auth", "status", env=env)
    assert result.code == 3, result
    assert "credential stale: needs-reauth" in result.out and "amcctl auth login" in result.err
    result = run_amcctl("--config", config, "--credential", "stale", "--json=state", "auth", "status", env=env)
    assert result.code == 3 and json.loads(result.out) == {"state": "needs-reauth"}, result

    result = run_amcctl("--config", config, "--credential", "alice", "auth", "logout", env=env)
    assert result.code == 0 and "logged out: credential alice" in result.out, result
    # Not logged in: the authentication code (3), not "not found" (5).
    result = run_amcctl("--config", config, "--credential", "alice", "auth", "status", env=env)
    assert result.code == 3 and "not logged in" in result.err, result
    result = run_amcctl("--config", config, "--credential", "alice", "--json", "auth", "logout", env=env)
    assert result.code == 3 and "not logged in" in result.err, result
    result = run_amcctl("--config", config, "--credential", "stale", "--json", "auth", "logout", env=env)
    assert result.code == 0 and json.loads(result.out) == {"credential_id": "stale", "logged_out": True}, result
    assert "Atzr|" not in store_path.read_text()


# ---------------------------------------------------------------------------
# Against the sandbox
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def logged_in(sandbox):
    result = sandbox("auth", "login")
    assert result.code == 0, result
    return sandbox


def sql_file(tmp_path, name="query.sql", markers="duration=600"):
    path = tmp_path / name
    path.write_text(f"-- sandbox: {markers}\nSELECT campaign, SUM(impressions) AS impressions\n"
                    "FROM dsp_impressions GROUP BY campaign\n")
    return path


def test_not_logged_in_is_the_authentication_code(logged_in):
    for args in (["workflow", "list"], ["auth", "status"], ["executions", "list"]):
        result = logged_in("--credential", "nobody", *args)
        assert result.code == 3, (args, result)
        assert "not logged in" in result.err


def test_run_no_wait_then_status_list_cancel_and_refused_results(logged_in, tmp_path):
    query = sql_file(tmp_path)
    result = logged_in("run", "--sql", query, "--execution-id", "exec_daily_nowait", "--no-wait")
    assert result.code == 0, result
    execution_id, amc_id = result.out.split()
    assert execution_id == "exec_daily_nowait" and len(amc_id) == 36
    assert "amcctl status exec_daily_nowait" in result.err

    # The same again with --json and a field selection: the same execution.
    result = logged_in("--json", "execution_id,amc_execution_id,reattached", "run", "--sql", query,
                       "--execution-id", "exec_daily_nowait", "--no-wait")
    assert result.code == 0, result
    assert json.loads(result.out) == {"execution_id": "exec_daily_nowait", "amc_execution_id": amc_id,
                                      "reattached": True}

    result = logged_in("--json=status,workflowExecutionId", "status", "exec_daily_nowait")
    assert result.code == 0, result
    status = json.loads(result.out)
    assert set(status) == {"status", "workflowExecutionId"} and status["workflowExecutionId"] == amc_id

    result = logged_in("--json=workflowExecutionId,status", "executions", "list")
    assert result.code == 0, result
    listed = json.loads(result.out)["executions"]
    assert amc_id in [e["workflowExecutionId"] for e in listed]
    assert all(set(e) == {"workflowExecutionId", "status"} for e in listed)
    result = logged_in("executions", "list")
    assert result.code == 0 and amc_id in result.out, result
    result = logged_in("--json=nosuchfield", "executions", "list")
    assert result.code == 2 and "no field 'nosuchfield'" in result.err and "workflowExecutionId" in result.err

    # Still running: no results yet, and no folder.
    out = tmp_path / "early"
    result = logged_in("results", "exec_daily_nowait", "--out", out)
    assert result.code == 1 and "once it has SUCCEEDED" in result.err, result
    assert not out.exists()

    result = logged_in("cancel", "exec_daily_nowait")
    assert result.code == 0, result
    out = tmp_path / "nested" / "cancelled"
    result = logged_in("results", "exec_daily_nowait", "--out", out)
    assert result.code == 6, result
    assert "was cancelled" in result.err and "SUCCEEDED" not in result.err
    assert not out.exists() and not out.parent.exists()
    # Cancelled executions are listed only when asked.
    listed = json.loads(logged_in("--json", "executions", "list").out)["executions"]
    assert amc_id not in [e["workflowExecutionId"] for e in listed]
    listed = json.loads(logged_in("--json", "executions", "list", "--include-cancelled").out)["executions"]
    assert amc_id in [e["workflowExecutionId"] for e in listed]


def test_executions_list_filters_and_limit(logged_in, tmp_path):
    query = sql_file(tmp_path, markers="duration=1")
    sync = logged_in("workflow", "sync", "--file", query, "--id", "wf_daily_list")
    assert sync.code == 0, sync
    for key in ("exec_daily_list_1", "exec_daily_list_2"):
        result = logged_in("run", "--workflow-id", "wf_daily_list", "--execution-id", key, "--no-wait")
        assert result.code == 0, result
        time.sleep(1.1)  # createTime has whole seconds: the two sort apart
    result = logged_in("--json", "executions", "list", "--workflow-id", "wf_daily_list", "--page-size", "1")
    assert result.code == 0, result
    listed = json.loads(result.out)["executions"]
    assert len(listed) == 2 and all(e["workflowId"] == "wf_daily_list" for e in listed)
    result = logged_in("--json", "executions", "list", "--workflow-id", "wf_daily_list", "--limit", "1")
    assert result.code == 0 and len(json.loads(result.out)["executions"]) == 1, result
    newest_first = [e["createTime"] for e in listed]
    assert newest_first == sorted(newest_first, reverse=True), newest_first
    result = logged_in("--json", "executions", "list", "--workflow-id", "wf_daily_list", "--ascending")
    ascending = json.loads(result.out)["executions"]
    assert {e["workflowExecutionId"] for e in ascending} == {e["workflowExecutionId"] for e in listed}
    assert [e["createTime"] for e in ascending] == sorted(newest_first), ascending
    assert len(set(newest_first)) == 2 and ascending[0]["createTime"] < ascending[1]["createTime"]
    result = logged_in("--json", "executions", "list", "--since", "2099-01-01T00:00:00")
    assert result.code == 0 and json.loads(result.out)["executions"] == [], result
    result = logged_in("executions", "list", "--since", "2020-01-01T00:00:00", "--until", "2020-01-02T00:00:00")
    assert result.code == 0 and result.out == "(no executions)\n", result
    result = logged_in("executions", "list", "--page-size", "5000")
    assert result.code == 2, result


def test_a_sql_file_that_is_not_utf8_is_named_by_line_and_column(logged_in, tmp_path):
    query = tmp_path / "latin1.sql"
    query.write_bytes("-- sandbox: duration=1\nSELECT 'caf\u00e9' AS x\n".encode("latin-1"))
    before = json.loads(logged_in("--json", "executions", "list", "--include-cancelled").out)["executions"]
    result = logged_in("run", "--sql", query)
    assert result.code == 2, result
    assert f"{query}: line 2, column 12 is not UTF-8" in result.err
    assert "byte" not in result.err and "request" not in result.err
    after = json.loads(logged_in("--json", "executions", "list", "--include-cancelled").out)["executions"]
    assert len(after) == len(before)
    result = logged_in("workflow", "sync", "--file", query, "--id", "wf_latin1")
    assert result.code == 2 and "line 2, column 12 is not UTF-8" in result.err, result


def test_preview_reads_the_results_csv_format(logged_in, tmp_path):
    query = sql_file(tmp_path, "pipes.sql", markers="duration=1")
    definition = tmp_path / "pipes.json"
    definition.write_text(json.dumps({"workflowId": "wf_daily_pipes", "outputFormat": {
        "separatorCharacter": "|", "quoteCharacter": "'", "escapeCharacter": "\\"}}))
    result = logged_in("workflow", "sync", "--file", query, "--definition", definition)
    assert result.code == 0, result
    out = tmp_path / "pipes"
    result = logged_in("run", "--workflow-id", "wf_daily_pipes", "--out", out, "--head", "2")
    assert result.code == 0, result
    first = sorted(out.glob("*.csv"))[0]
    raw_header = first.read_text().splitlines()[0]
    assert "|" in raw_header, raw_header
    preview = result.out.split("first rows of")[1].splitlines()[1:]
    assert len(preview) == 3, result.out
    # Columns split on '|': the header's cells, unquoted, side by side.
    header_cells = [cell.strip("'") for cell in raw_header.split("|")]
    assert preview[0].split() == header_cells, (preview, raw_header)
    assert "|" not in "\n".join(preview)
    no_secrets(result, logged_in)


def test_json_everywhere(logged_in, tmp_path):
    query = sql_file(tmp_path, markers="duration=1")
    result = logged_in("--json=action", "workflow", "sync", "--file", query, "--id", "wf_daily_json")
    assert result.code == 0 and json.loads(result.out) == {"action": "created"}, result
    result = logged_in("--json", "workflow", "delete", "wf_daily_json")
    assert result.code == 0 and isinstance(json.loads(result.out), dict), result
    result = run_amcctl("--sandbox-dir", logged_in.directory, "--json=url", "sandbox", "start")
    assert result.code == 0 and list(json.loads(result.out)) == ["url"], result


def test_a_token_file_with_a_nul_byte_is_refused_not_cut_short(logged_in, tmp_path):
    token_file = tmp_path / "refresh_token"
    token_file.write_bytes(b"Atzr|first-part\x00rest\n")
    os.chmod(token_file, 0o600)
    result = logged_in("--credential", "nul_token", "auth", "import", "--refresh-token-file", token_file)
    assert result.code == 2, result
    assert "line 1, column 16 is a NUL byte" in result.err and "Atzr|" not in result.out + result.err
    assert logged_in("--credential", "nul_token", "auth", "status").code == 3


def test_json_files_are_named_with_the_line_and_column_of_a_mistake(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{\n  "region": "na",\n  "store": {"path": "x"\n}\n')
    result = run_amcctl("--config", config, "store", "list")
    assert result.code == 9, result
    assert f"the config file {config} is not a JSON object" in result.err and "line 5" in result.err, result
    query = tmp_path / "q.sql"
    query.write_text("SELECT 1\n")
    definition = tmp_path / "wf.json"
    definition.write_text('{\n  "workflowId": "wf_x",\n  "outputColumns": [,]\n}\n')
    client = tmp_path / "client.json"
    client.write_text(json.dumps({"lwa": {"client_id_env": "AMC_TEST_ID", "client_secret_env": "AMC_TEST_SECRET"},
                                  "store": {"kind": "memory", "fernet_keys": fernet_key()}}))
    result = run_amcctl("--config", client, "workflow", "sync", "--file", query, "--definition", definition,
                        env=clean_env(AMC_TEST_ID="amzn1.application-oa2-client.test", AMC_TEST_SECRET="not-real"))
    assert result.code == 2, result
    assert f"{definition} must hold one JSON object" in result.err and "line 3, column 21" in result.err, result

"""Issue 25 points 4 and 7 in real Airflow 3.3 (dag.test() against
amc-sandbox): what a task's log says (the download, AMC throttling every
status read until the deadline), and connection
mistakes failing at once in Airflow's words."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import Any

from conftest import Sandbox, connection_json
from test_dags import clean_sandbox, creates, no_secrets, task

# The same autouse fixture as the example DAGs' tests: no faults, an empty request log.
__all__ = ["clean_sandbox"]


def test_task_log_says_what_was_downloaded_and_what_throttling_did(
    run_dag: Callable[..., dict[str, Any]], sandbox: Sandbox, airflow_env: dict[str, str]
) -> None:
    # Every status read of the second instance is throttled (Retry-After 1 s),
    # until cleared; the first instance's are not.
    sandbox.admin(
        "POST",
        "faults",
        {"faults": [{"kind": "rate_limit", "method": "GET", "path": "*/amcairflow02/*", "retry_after": 1}]},
    )
    # In a process of its own, as a task process is: libamc's client is made
    # after Airflow configured logging, so its INFO lines are produced. (Not
    # at DEBUG: Airflow 3.3's own supervisor then logs every MaskSecret
    # request with the value it masks, the client secret among them.)
    summary = run_dag(
        airflow_env, "amc_task_log", logical_date="2026-05-01T00:00:00+00:00", separate_process=True
    )
    output = summary["output"]
    assert summary["tasks"], output[-6000:]
    lines = output.splitlines()

    # The download: files, rows, bytes and the directory, in one line.
    downloaded = task(summary, "download")
    assert downloaded["state"] == "success", output[-6000:]
    manifest = downloaded["xcom"]["manifest"]
    # Each run's parts go to a folder of its own under download_dir.
    directory = (
        pathlib.Path(airflow_env["AIRFLOW_VAR_AMC_RESULTS_DIR"])
        / "amc_task_log"
        / downloaded["xcom"]["amc_execution_id"]
    )
    expected = (
        f"Downloaded the results of AMC execution {downloaded['xcom']['amc_execution_id']}: 2 files, "
        f"40 rows, {manifest['total_bytes']} bytes, into {directory}"
    )
    assert [line for line in lines if expected in line], output[-6000:]

    # Deferred: the trigger writes what AMC's throttling did into the task's
    # log while it waits (once per poll interval at most), and the deadline's
    # message says every request was throttled.
    deferred = task(summary, "deferred_throttled")
    assert deferred["state"] == "failed", output[-6000:]
    waiting = [line for line in lines if "libamc waits as AMC's Retry-After asks" in line]
    assert waiting and "AMC throttled (HTTP 429) all " in waiting[0], output[-6000:]
    deadline = [line for line in lines if "had not finished by the trigger's deadline" in line]
    assert deadline and any("AMC throttled (HTTP 429) all " in line for line in deadline), output[-6000:]

    # In the worker: libamc's own WARNING at the first throttled read, and
    # the timeout says every status read was throttled.
    in_worker = task(summary, "in_worker_throttled")
    assert in_worker["state"] == "failed", output[-6000:]
    assert "AMC is throttling the status reads of execution" in output, output[-6000:]
    assert "AMC was throttling the status reads: every one throttled" in output, output[-6000:]

    assert len(creates(sandbox)) == 3
    no_secrets(output, sandbox, airflow_env)


def test_connection_mistakes_fail_at_once_in_airflows_words(
    run_dag: Callable[..., dict[str, Any]],
    sandbox: Sandbox,
    airflow_env: dict[str, str],
    tmp_path: pathlib.Path,
) -> None:
    def connection(refresh_token: str | None, **changes: Any) -> str:
        value = json.loads(connection_json(sandbox, refresh_token or "", tmp_path / "store.json"))
        if refresh_token is None:
            del value["extra"]["refresh_token"]
            value["extra"]["store_path"] = str(tmp_path / "empty-store.json")
        value.update(changes)
        return json.dumps(value)

    revoked = sandbox.new_grant()
    sandbox.admin("POST", "grants/revoke", {"refresh_token": revoked})
    connections = {
        "AIRFLOW_CONN_AMC_NO_REFRESH_TOKEN": connection(None),
        "AIRFLOW_CONN_AMC_NO_SECRET": connection(sandbox.new_grant(), password=""),
        "AIRFLOW_CONN_AMC_WRONG_SECRET": connection(sandbox.new_grant(), password="not-the-client-secret"),
        "AIRFLOW_CONN_AMC_REVOKED_GRANT": connection(revoked),
    }
    summary = run_dag(
        airflow_env,
        "amc_connection_mistakes",
        logical_date="2026-05-02T00:00:00+00:00",
        extra_env=connections,
    )
    output = summary["output"]
    # Every task failed on its first try although it had a retry: none can fix a connection.
    for entry in summary["tasks"]:
        assert entry["state"] == "failed" and entry["try_number"] == 1, (entry, output[-6000:])
    assert len(summary["tasks"]) == 5
    expected = [
        # Checked before libamc is called.
        "Airflow connection 'amc_no_refresh_token' (type amc) has no refresh token: set its extra field "
        "refresh_token ('Refresh token' in the connection form)",
        "Airflow connection 'amc_no_secret' (type amc) has no LwA client secret: set its password "
        "('LwA client secret' in the connection form)",
        # LwA's answers, in the connection's terms.
        "Login with Amazon rejected the LwA client of Airflow connection 'amc_wrong_secret' (type amc) "
        "(invalid_client): check the connection's login ('LwA client id' in the connection form) and "
        "password ('LwA client secret' in the connection form)",
        "Login with Amazon no longer accepts the refresh token of Airflow connection 'amc_revoked_grant' "
        "(type amc) (invalid_grant)",
    ]
    for text in expected:
        assert text in output, (text, output[-8000:])
    # libamc's own advice (its tools, its configuration) is not what a DAG author reads.
    for libamc_words in ("amcctl auth login", "add it first", "in the configuration"):
        assert libamc_words not in output, (libamc_words, output[-8000:])
    # Nothing reached AMC: the missing fields were found first, LwA refused the rest.
    assert creates(sandbox) == []
    assert "not-the-client-secret" not in output and revoked not in output
    no_secrets(output, sandbox, airflow_env)

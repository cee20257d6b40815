"""Access tokens shared through an Airflow Variable (libamc's host store
callbacks): two task processes, each with its own native client, make one
token refresh between them, and the Variable holds only sealed tokens."""

from __future__ import annotations

import json
import pathlib
import threading
from collections.abc import Callable
from typing import Any

from conftest import Sandbox, connection_json


def test_two_processes_share_one_access_token_through_a_variable(
    run_dag: Callable[..., dict[str, Any]],
    sandbox: Sandbox,
    airflow_env: dict[str, str],
    tmp_path: pathlib.Path,
) -> None:
    connection = json.loads(connection_json(sandbox, sandbox.new_grant(), tmp_path / "unused.json"))
    connection["extra"].pop("store_path")
    connection["extra"]["token_sharing"] = "variable"
    connection["extra"]["token_variable"] = "amc_store_shared_test"
    env = {**airflow_env, "AIRFLOW_CONN_AMC_SHARED": json.dumps(connection)}
    sandbox.admin("DELETE", "requests")
    results: dict[str, dict[str, Any]] = {}

    def run(date: str) -> None:
        results[date] = run_dag(env, "amc_shared_token", logical_date=date, separate_process=True)

    dates = ["2026-05-01T00:00:00+00:00", "2026-05-02T00:00:00+00:00"]
    runs = [threading.Thread(target=run, args=(date,)) for date in dates]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=300)
    for date in dates:
        assert results[date]["state"] == "success", results[date]["output"][-6000:]
    refreshes = [entry for entry in sandbox.requests("lwaToken") if entry["status"] < 300]
    assert len(refreshes) == 1, refreshes
    lists = sandbox.requests("listWorkflows")
    assert len([entry for entry in lists if entry["status"] == 200]) == 2, lists
    for date in dates:
        assert "Atza|" not in results[date]["output"] and "Atzr|" not in results[date]["output"]
    # The store's document is in the Variable (Airflow encrypts it with its
    # Fernet key; inside, libamc's tokens are sealed again); no lease is left.
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session
    from cryptography.fernet import Fernet

    with create_session() as session:
        rows = {
            row.key: row
            for row in session.query(Variable).filter(Variable.key.like("amc_store_shared_test%"))
        }
        assert sorted(rows) == ["amc_store_shared_test"], sorted(rows)
        stored = rows["amc_store_shared_test"]._val
    document = Fernet(env["AIRFLOW__CORE__FERNET_KEY"].encode()).decrypt(stored.encode()).decode()
    assert "amc_shared" in document and "Atza|" not in document and "Atzr|" not in document

"""Test DAG: one AMC call through a connection whose store lives in an
Airflow Variable (token_sharing "variable"), so that task processes share
one access token."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from libamc_airflow.hooks.amc import AmcHook

with DAG(
    dag_id="amc_shared_token",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 0},
    tags=["amc", "test"],
):

    @task
    def list_workflows() -> int:
        hook = AmcHook("amc_shared")
        return len(hook.get_conn().workflow_list(hook.request()).get("workflows", []))

    list_workflows()

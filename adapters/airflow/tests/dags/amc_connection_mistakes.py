"""Test DAG (issue 25 point 7): each task uses a connection with one
mistake (its id says which; the test sets them), and each has a retry to
spare that it must not use: no try can fix a connection."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from libamc_airflow.operators.amc import AmcRunWorkflowOperator, AmcSyncWorkflowOperator

SQL = "-- sandbox: duration=1m\nSELECT 1"

with DAG(
    dag_id="amc_connection_mistakes",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=0)},
    tags=["amc", "test"],
):
    for conn_id in ("amc_no_refresh_token", "amc_no_secret", "amc_wrong_secret", "amc_revoked_grant"):
        AmcRunWorkflowOperator(
            task_id=f"run_{conn_id}", amc_conn_id=conn_id, sql=SQL, deferrable=False, poll_interval=1.0
        )
    AmcSyncWorkflowOperator(
        task_id="sync_amc_wrong_secret",
        amc_conn_id="amc_wrong_secret",
        workflow_name="connection_mistakes",
        sql="SELECT 1",
    )

"""Test DAG: a deferrable AMC task whose execution_timeout (10 s) is far
shorter than its wait_timeout and its run (120 s at time scale 600): the
trigger's deadline must be the execution_timeout's."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from libamc_airflow.operators.amc import AmcRunWorkflowOperator

with DAG(
    dag_id="amc_execution_timeout",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 0},
    tags=["amc", "test"],
):
    AmcRunWorkflowOperator(
        task_id="run",
        sql="-- sandbox: duration=1200m\nSELECT 1",
        deferrable=True,
        poll_interval=2.0,
        wait_timeout=timedelta(hours=1),
        execution_timeout=timedelta(seconds=10),
    )

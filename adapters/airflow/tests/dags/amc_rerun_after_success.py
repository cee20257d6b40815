"""Test DAG: a task that starts a new AMC run when it is cleared after its
run succeeded (rerun_after_success=True)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from libamc_airflow.operators.amc import AmcRunWorkflowOperator

with DAG(
    dag_id="amc_rerun_after_success", schedule=None, start_date=datetime(2026, 1, 1), catchup=False
) as dag:
    AmcRunWorkflowOperator(
        task_id="rerun",
        sql="-- sandbox: duration=1m\nSELECT COUNT(*) AS impressions FROM dsp_impressions",
        time_window_type="MOST_RECENT_DAY",
        deferrable=False,
        poll_interval=2,
        rerun_after_success=True,
    )

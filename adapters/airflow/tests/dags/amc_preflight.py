"""Test DAG: SQL that names a table the instance does not have ("dsp_impresions").
With the pre-flight check (the default) the task fails before any run is
started; with preflight=False the run is submitted (the sandbox compiles only
dry runs, so it then runs)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from libamc_airflow.operators.amc import AmcRunWorkflowOperator

SQL = "-- sandbox: duration=1m\nSELECT campaign, SUM(impressions)\nFROM dsp_impresions\nGROUP BY 1"

with DAG(dag_id="amc_preflight", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    AmcRunWorkflowOperator(task_id="checked", sql=SQL, deferrable=False, poll_interval=1)
    AmcRunWorkflowOperator(task_id="unchecked", sql=SQL, deferrable=False, poll_interval=1, preflight=False)

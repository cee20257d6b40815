"""Example: keep a saved AMC workflow in sync with a .sql file, run it every
day over the day's data (in the instance's time zone, lagged for AMC's data
latency), deferred to the triggerer, download the result files, and check
the execution with a sensor.

Needs an ``amc`` connection named ``amc_default``; the result files go under
the Airflow Variable ``amc_results_dir`` (default /tmp/amc-results).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable

from libamc_airflow.operators.amc import AmcRunWorkflowOperator, AmcSyncWorkflowOperator
from libamc_airflow.sensors.amc import AmcExecutionSensor

with DAG(
    dag_id="example_amc",
    # Each run covers the day before it (a data interval, not a point in time).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amc"],
    doc_md=__doc__,
) as dag:
    sync = AmcSyncWorkflowOperator(
        task_id="sync_workflow",
        workflow_name="campaign_summary",
        sql="sql/campaign_summary.sql",
    )
    run = AmcRunWorkflowOperator(
        task_id="run_workflow",
        workflow_id="{{ ti.xcom_pull(task_ids='sync_workflow')['workflow_id'] }}",
        time_window_from_data_interval=True,
        time_zone="America/New_York",
        data_latency=timedelta(hours=14),
        download_dir="{{ var.value.get('amc_results_dir', '/tmp/amc-results') }}/{{ dag.dag_id }}/"
        "{{ run_id }}",
        deferrable=True,
        poll_interval=5,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )
    check = AmcExecutionSensor(
        task_id="check_execution",
        amc_execution_id="{{ ti.xcom_pull(task_ids='run_workflow')['amc_execution_id'] }}",
        mode="reschedule",
        poke_interval=5,
    )
    sync >> run >> check

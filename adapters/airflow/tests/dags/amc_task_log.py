"""Test DAG (issue 25 point 4): what a task's log says about a download and
about AMC throttling every status read until the wait's deadline, waiting
deferred (in the triggerer) and in the worker. The throttled tasks run on
the sandbox's second instance, which the test throttles (a fault on its
paths), so the download on the first one is not. Their pre-flight check
is off: it reads the throttled instance's data sources before any run, and
these tasks are about what throttled status reads leave in the log."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from libamc_airflow.operators.amc import AmcRunWorkflowOperator

THROTTLED = {"instance_id": "amcairflow02"}
# 20 h at the tests' time scale 600: 2 minutes, far past the deadlines.
LONG_RUN = "-- sandbox: duration=20h\nSELECT 1"

with DAG(
    dag_id="amc_task_log",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 0},
    tags=["amc", "test"],
):
    AmcRunWorkflowOperator(
        task_id="download",
        sql="-- sandbox: duration=1m parts=2 rows=40\nSELECT campaign_id, impressions FROM dsp_impressions",
        download_dir="{{ var.value.amc_results_dir }}/{{ dag.dag_id }}",
        deferrable=False,
        poll_interval=1.0,
    )
    AmcRunWorkflowOperator(
        task_id="deferred_throttled",
        sql=LONG_RUN,
        instance=THROTTLED,
        preflight=False,
        deferrable=True,
        poll_interval=2.0,
        wait_timeout=timedelta(seconds=7),
    )
    AmcRunWorkflowOperator(
        task_id="in_worker_throttled",
        sql=LONG_RUN,
        instance=THROTTLED,
        preflight=False,
        deferrable=False,
        poll_interval=1.0,
        wait_timeout=timedelta(seconds=5),
    )

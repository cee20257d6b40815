"""Example: an ad-hoc AMC query (not saved as a workflow), given as a DAG
parameter, run twice: once deferred to the triggerer and once waiting in
the worker (``deferrable=False``), with a templated explicit time window and
query parameters.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param

from libamc_airflow.operators.amc import AmcRunWorkflowOperator

QUERY = """-- sandbox: duration=1m
SELECT campaign_id, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE advertiser = CUSTOM_PARAMETER('advertiser')
GROUP BY 1"""

with DAG(
    dag_id="example_amc_adhoc",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"sql": Param(QUERY, type="string"), "advertiser": Param("acme", type="string")},
    tags=["example", "amc"],
    doc_md=__doc__,
) as dag:
    common: dict[str, Any] = {
        "sql": "{{ params.sql }}",
        "parameters": {"advertiser": "{{ params.advertiser }}"},
        "time_window_start": "{{ macros.ds_add(ds, -7) }}T00:00:00",
        "time_window_end": "{{ ds }}T00:00:00",
        "time_zone": "Europe/London",
        "poll_interval": 5,
        "retries": 1,
        "retry_delay": timedelta(seconds=1),
    }
    AmcRunWorkflowOperator(task_id="run_deferred", deferrable=True, **common)
    AmcRunWorkflowOperator(task_id="run_in_worker", deferrable=False, **common)

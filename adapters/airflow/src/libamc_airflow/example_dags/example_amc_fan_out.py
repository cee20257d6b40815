"""Example: run one query on every AMC instance of the connection's account,
as a mapped task: one task instance, one AMC run and one result folder per
instance.

- ``list_instances`` asks AMC which instances the account has
  (``AmcHook.list_instances``, a typed method) and returns each one's
  ``override``: the operators' ``instance`` argument, ``{"instance_id",
  "advertiser_id", "marketplace_id"}``.
- ``run_on_instance`` is mapped over them. Every run downloads into a folder
  of its own, ``<download_dir>/<AMC execution id>``, so the instances'
  part-N.csv never meet, and each task instance's XCom manifest lists its
  own files.
- ``report`` reads every manifest: one entry per instance.

Try it on the sandbox with two instances: ``amc-sandbox --tls --config
two-instances`` (docs/airflow.md, "Fan-out over instances"). AMC runs at
most 10 executions per instance at once: give each instance's tasks a pool
(docs/airflow-deployment.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.operators.amc import AmcRunWorkflowOperator

with DAG(
    dag_id="example_amc_fan_out",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amc"],
    doc_md=__doc__,
) as dag:

    @task
    def list_instances() -> list[dict[str, str]]:
        """Every instance of the connection's account, as ``instance`` overrides."""
        return [instance.override for instance in AmcHook().list_instances()]

    runs = AmcRunWorkflowOperator.partial(
        task_id="run_on_instance",
        sql="-- sandbox: duration=1m parts=2 rows=20\n"
        "SELECT campaign_id, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY 1",
        time_window_type="MOST_RECENT_WEEK",
        download_dir="{{ var.value.get('amc_results_dir', '/tmp/amc-results') }}/{{ dag.dag_id }}/"
        "{{ run_id }}",
        deferrable=True,
        poll_interval=5,
    ).expand(instance=list_instances())

    @task
    def report(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Per instance: its result folder and rows (from each run's manifest)."""
        return {
            str(result["instance_id"]): {
                "directory": result["manifest"]["directory"],
                "rows": result["manifest"]["total_rows"],
            }
            for result in results
        }

    # At run time Airflow passes every mapped value (a lazy sequence) for the XComArg.
    report(runs.output)  # type: ignore[arg-type]

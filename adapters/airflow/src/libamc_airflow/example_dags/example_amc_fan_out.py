"""Example: run one query on every AMC instance of the advertiser, as a
mapped task (one task instance, and one AMC run, per instance)."""

from __future__ import annotations

from datetime import datetime

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
        """Every instance the connection's advertiser has."""
        hook = AmcHook()
        connection = hook.connection
        listing = hook.get_conn().instances_list(
            {
                "credential_id": hook.credential_id,
                "advertiser_id": hook.field(connection, "advertiser_id"),
                "marketplace_id": hook.field(connection, "marketplace_id"),
            }
        )
        return [{"instance_id": instance["instanceId"]} for instance in listing["instances"]]

    AmcRunWorkflowOperator.partial(
        task_id="run_on_instance",
        sql="-- sandbox: duration=1m\nSELECT COUNT(*) AS impressions FROM dsp_impressions",
        time_window_type="MOST_RECENT_WEEK",
        deferrable=True,
        poll_interval=5,
    ).expand(instance=list_instances())

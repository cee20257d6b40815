"""Example: react when AMC's own schedule has produced data. AMC runs the saved
workflow ``daily_campaign_report`` on a schedule of its own (made in AMC,
not by Airflow); an ``AssetWatcher`` with ``AmcWorkflowRunTrigger`` turns
each of those runs that SUCCEEDS into an event of the asset
``amc_daily_campaign_report``, and this DAG, scheduled on the asset, then
downloads that run's result files, over the time window AMC chose.

Runs the provider starts (``AmcRunWorkflowOperator``) are not AMC's
scheduled runs and fire nothing. The DAG must be unpaused for its watcher to
run in the triggerer. Needs an ``amc`` connection named ``amc_default``; the
files go under the Airflow Variable ``amc_results_dir`` (default
/tmp/amc-results).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetWatcher, Variable, task

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.triggers.workflow import AmcWorkflowRunTrigger

WORKFLOW_ID = "daily_campaign_report"

report_runs = Asset(
    name="amc_daily_campaign_report",
    watchers=[
        AssetWatcher(
            name="amc_daily_campaign_report_runs",
            trigger=AmcWorkflowRunTrigger(
                amc_conn_id="amc_default",
                workflow_id=WORKFLOW_ID,
                # A new scheduled run is seen within about 5 minutes.
                poll_interval=300,
            ),
        )
    ],
)

with DAG(
    dag_id="example_amc_scheduled_runs",
    schedule=[report_runs],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amc"],
    doc_md=__doc__,
) as dag:

    @task
    def download_scheduled_run(*, triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """Downloads the results of each AMC run that triggered this DAG run."""
        hook = AmcHook()
        directory = Variable.get("amc_results_dir", default="/tmp/amc-results")
        manifests = []
        for event in (triggering_asset_events or {}).get(report_runs, []):
            run = event.extra["payload"]
            print(
                f"AMC run {run['amc_execution_id']} of {run['workflow_id']} read "
                f"{run['time_window_start']} to {run['time_window_end']}"
            )
            manifest = hook.get_conn().results_download(
                hook.request(
                    amc_execution_id=run["amc_execution_id"],
                    directory=f"{directory}/{WORKFLOW_ID}/{run['amc_execution_id']}",
                )
            )
            manifests.append({"amc_execution_id": run["amc_execution_id"], "files": len(manifest["files"])})
        return manifests

    download_scheduled_run()

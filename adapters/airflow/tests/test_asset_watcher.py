"""AmcWorkflowRunTrigger, the event trigger of an AssetWatcher, in real
Airflow 3.3 against amc-sandbox: its serialization (what Airflow keys an
asset's watcher by), and the example DAG's watcher end to end: Airflow's DAG
processing stores the trigger for the unpaused DAG, Airflow's own
TriggerRunner runs it, a run that the sandbox starts as AMC's scheduler
would fires it when it SUCCEEDS (a run the provider starts does not), the
triggerer's event handling (Trigger.submit_event) records the asset event
with the run's ids and time window in the metadata database and queues the
downstream DAG, and the scheduler's own step creates that DAG's run."""

from __future__ import annotations

import asyncio
import json
import pathlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.serde import deserialize, serialize
from airflow.triggers.base import BaseEventTrigger

from conftest import ADVERTISER, INSTANCES, MARKETPLACE, Sandbox, connection_json, fernet_key
from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.triggers.workflow import AmcWorkflowRunTrigger

DAG_ID = "example_amc_scheduled_runs"
ASSET = "amc_daily_campaign_report"
WORKFLOW_ID = "daily_campaign_report"
INSTANCE = {"instance_id": INSTANCES[0], "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}


@pytest.fixture
def amc_default(sandbox: Sandbox, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The example DAG's connection, amc_default, on a fresh grant (from the
    environment, read-only as the triggerer sees it)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_AMC_DEFAULT",
        connection_json(sandbox, sandbox.new_grant(), tmp_path / "amc" / "store.json"),
    )
    monkeypatch.setenv("AMC_FERNET_KEYS", fernet_key())
    yield "amc_default"


def test_serialization_round_trip_is_json_safe_and_keys_the_watcher() -> None:
    trigger = AmcWorkflowRunTrigger(
        amc_conn_id="amc_default", workflow_id=WORKFLOW_ID, instance=INSTANCE, since="2026-11-28T15:26:01Z"
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "libamc_airflow.triggers.workflow.AmcWorkflowRunTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert "token" not in json.dumps(kwargs).lower()
    again = import_string(classpath)(**deserialize(serialize(kwargs)))
    assert isinstance(again, BaseEventTrigger)
    assert again.serialize() == (classpath, kwargs)
    # Airflow keys an asset's watcher by this hash: the same settings, the
    # same trigger; another workflow, another one.
    assert BaseEventTrigger.hash(classpath, kwargs) == BaseEventTrigger.hash(*again.serialize())
    other = AmcWorkflowRunTrigger(amc_conn_id="amc_default", workflow_id="another_report")
    assert BaseEventTrigger.hash(classpath, kwargs) != BaseEventTrigger.hash(*other.serialize())


def watcher_trigger_of_the_example_dag() -> tuple[int, AmcWorkflowRunTrigger]:
    """Unpauses the example DAG and lets Airflow's DAG processing store its
    asset's watcher (it stores none for a paused DAG); the trigger row's id
    and the trigger made from it as the triggerer makes it."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.models.asset import AssetModel
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import select, update

    import libamc_airflow

    bundle = next(iter(DagBundlesManager().get_all_dag_bundles()))
    bundle.initialize()
    example = pathlib.Path(libamc_airflow.__file__).parent / "example_dags" / f"{DAG_ID}.py"
    linked = pathlib.Path(bundle.path) / "examples" / example.name
    bag = BundleDagBag(linked, bundle_path=pathlib.Path(bundle.path), bundle_name=bundle.name)
    assert not bag.import_errors, bag.import_errors
    with create_session() as session:
        sync_bag_to_db(bag, bundle.name, None, session=session)
        session.execute(update(DagModel).where(DagModel.dag_id == DAG_ID).values(is_paused=False))
    with create_session() as session:
        sync_bag_to_db(bag, bundle.name, None, session=session)
    with create_session() as session:
        asset = session.scalars(select(AssetModel).where(AssetModel.name == ASSET)).one()
        assert [watcher.name for watcher in asset.watchers] == ["amc_daily_campaign_report_runs"]
        row = asset.triggers[0]
        trigger = import_string(row.classpath)(**row.kwargs)
        return int(row.id), trigger


async def first_event_through_the_triggerer(
    trigger_id: int, trigger: AmcWorkflowRunTrigger, start_runs: Any
) -> Any:
    """Runs the trigger with Airflow's TriggerRunner.run_trigger until it
    fires once; `start_runs()` (in a thread) once its watch is on."""
    from airflow.jobs import triggerer_job_runner as runner_module

    runner = runner_module.TriggerRunner()
    runner.triggers[trigger_id] = {"task": None, "name": "amc watcher", "events": 0, "is_watcher": True}
    task = asyncio.ensure_future(runner.run_trigger(trigger_id, trigger, None))
    while trigger._watch_id is None:
        assert not task.done(), task.exception()
        await asyncio.sleep(0.05)
    await asyncio.get_running_loop().run_in_executor(None, start_runs)
    deadline = time.monotonic() + 120
    while not runner.events and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert trigger._watch_id is None  # cleanup() unwatched
    assert runner.events, "the trigger fired nothing"
    return runner.events.popleft()


def test_a_sandbox_scheduled_run_fires_an_asset_event_and_queues_the_downstream_dag(
    sandbox: Sandbox, amc_default: str
) -> None:
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from sqlalchemy import select

    client = AmcHook.client_for(AmcHook.get_connection(amc_default))
    base = {"credential_id": amc_default, "instance": INSTANCE}
    client.workflow_sync(
        {
            **base,
            "workflow": {
                "workflowId": WORKFLOW_ID,
                "sqlQuery": "-- sandbox: pending=60s duration=60s\nSELECT 1",
            },
        }
    )
    trigger_id, trigger = watcher_trigger_of_the_example_dag()
    assert (trigger.workflow_id, trigger.execution_category) == (WORKFLOW_ID, "SCHEDULED")
    trigger.poll_interval, trigger.first_poll_interval = 0.5, 0.1  # the example reads every 5 minutes
    time.sleep(1.1)  # createTime has whole seconds: the runs below come after the watch starts
    started: dict[str, Any] = {}

    def start_runs() -> None:
        # First a run the provider starts (not AMC's own), which must not
        # fire, then one that AMC's scheduler starts.
        started["ours"] = client.execution_submit({**base, "request": {"workflowId": WORKFLOW_ID}})
        started["scheduled"] = sandbox.admin(
            "POST",
            "executions/scheduled",
            {"workflow_id": WORKFLOW_ID, "instance_id": INSTANCE["instance_id"]},
        )["execution"]

    entry = asyncio.run(first_event_through_the_triggerer(trigger_id, trigger, start_runs))
    scheduled = started["scheduled"]
    payload = entry.event.payload
    assert payload["amc_execution_id"] == scheduled["workflowExecutionId"]
    assert payload["amc_execution_id"] != started["ours"]["amc_execution_id"]
    assert payload["execution_category"] == "SCHEDULED" and payload["execution"]["status"] == "SUCCEEDED"
    assert (payload["time_window_start"], payload["time_window_end"]) == (
        scheduled["timeWindowStart"],
        scheduled["timeWindowEnd"],
    )

    # What the triggerer does with an event (TriggererJobRunner.on_trigger_event).
    Trigger.submit_event(trigger_id=entry.trigger_id, event=entry.event)
    with create_session() as session:
        asset = session.scalars(select(AssetModel).where(AssetModel.name == ASSET)).one()
        events = session.scalars(select(AssetEvent).where(AssetEvent.asset_id == asset.id)).all()
        assert [event.extra["payload"]["amc_execution_id"] for event in events] == [
            scheduled["workflowExecutionId"]
        ]
        assert events[0].extra["from_trigger"] is True
        queued = session.scalars(select(AssetDagRunQueue).where(AssetDagRunQueue.asset_id == asset.id)).all()
        assert [item.target_dag_id for item in queued] == [DAG_ID]

    # The scheduler's step for asset-triggered DAGs makes the downstream
    # run, with the asset event it consumes.
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun

    scheduler = SchedulerJobRunner(job=Job())
    with create_session() as session:
        dag_model = session.get(DagModel, DAG_ID)
        scheduler._create_dag_runs_asset_triggered(dag_models=[dag_model], session=session)
    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == DAG_ID)).one()
        assert str(run.run_type) == "asset_triggered"
        assert [event.extra["payload"]["amc_execution_id"] for event in run.consumed_asset_events] == [
            scheduled["workflowExecutionId"]
        ]

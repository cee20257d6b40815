"""AmcWorkflowRunTrigger: Airflow's event-driven scheduling on the runs that
AMC starts on its own.

An ``AssetWatcher`` runs this trigger in the triggerer for as long as the
asset's DAG is active. It watches one saved AMC workflow on libamc's native
poller (``Poller.watch_workflow``: the poller lists the workflow's new runs,
in the same list calls as its other reads of the instance) and fires an
event each time a run of that workflow that AMC started on its own schedule
SUCCEEDS. Airflow turns each event into an asset event, so the DAGs
scheduled on the asset run on data that AMC produced on its schedule.

It stays thin: one watch on the process's shared poller (the one
AmcExecutionTrigger uses, made lazily per connection and poll settings),
its callback handed to the event loop with ``loop.call_soon_threadsafe``;
everything that may block (the connection, the client, amc_watch,
amc_unwatch) runs in the loop's executor.

- ``serialize()`` carries the connection id, the workflow id, the instance,
  the category, ``since`` and the poll settings (JSON-safe, never a token):
  Airflow keys an asset's watcher trigger by them.
- Runs from before the trigger started are not reported (amc_watch's
  rule), unless ``since`` names an earlier time.
- ``cleanup()`` unwatches (Airflow calls it when the trigger stops or moves
  to another triggerer).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent
from libamc.binding import status_name
from libamc.exceptions import exception_for
from libamc.executions import SUCCEEDED, summary
from libamc.poller import Poller

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.triggers.execution import connection_of, poller_config, shared_poller

CLASSPATH = "libamc_airflow.triggers.workflow.AmcWorkflowRunTrigger"

# The executionCategory of a run that AMC started on a schedule (amc-sandbox
# marks such runs so); runs that a client created, the provider's included,
# are AD_HOC (amc-api.md).
SCHEDULED = "SCHEDULED"


def run_event(*, workflow_id: str, instance_id: str, execution: dict[str, Any]) -> dict[str, Any]:
    """The asset event's payload for one SUCCEEDED run: the ids, AMC's
    createTime and the time window the run read (UTC), and its summary."""
    return {
        "status": "success",
        "workflow_id": workflow_id,
        "instance_id": instance_id,
        "amc_execution_id": execution.get("workflowExecutionId"),
        "execution_category": execution.get("executionCategory"),
        "create_time": execution.get("createTime"),
        "time_window_start": execution.get("timeWindowStart"),
        "time_window_end": execution.get("timeWindowEnd"),
        "execution": summary(execution),
    }


class AmcWorkflowRunTrigger(BaseEventTrigger):
    """Fires ``{"status": "success", "workflow_id", "instance_id",
    "amc_execution_id", "execution_category", "create_time",
    "time_window_start", "time_window_end", "execution": {summary}}`` once
    for every run of the workflow whose executionCategory is
    ``execution_category`` when it SUCCEEDS (runs that fail, are cancelled
    or rejected fire nothing). For ``Asset(watchers=[AssetWatcher(...)])``;
    the payload reaches the asset event's ``extra["payload"]``.

    :param amc_conn_id: the ``amc`` connection.
    :param workflow_id: AMC's workflowId of the saved workflow.
    :param instance: ``instance_id``, ``advertiser_id``, ``marketplace_id``
        (default: the connection's).
    :param execution_category: the executionCategory of the runs to fire
        for; default ``"SCHEDULED"``, the runs AMC starts on a schedule,
        not the runs a client (this provider) created. None: every run.
    :param since: UTC time (``"2026-11-28T15:26:01Z"``): runs created from
        then on count, also those that finished before the trigger started;
        None: only runs created after it started.
    :param poll_interval: longest time between reads while nothing
        happens, in seconds (a new run is seen within about this).
    :param first_poll_interval: time between reads after a change, in
        seconds (default ``min(5, poll_interval)``).
    """

    def __init__(
        self,
        *,
        amc_conn_id: str,
        workflow_id: str,
        instance: dict[str, str] | None = None,
        execution_category: str | None = SCHEDULED,
        since: str | None = None,
        poll_interval: float = 300.0,
        first_poll_interval: float | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.amc_conn_id = amc_conn_id
        self.workflow_id = workflow_id
        self.instance = dict(instance) if instance else None
        self.execution_category = execution_category
        self.since = since or None
        self.poll_interval = float(poll_interval)
        self.first_poll_interval = float(first_poll_interval) if first_poll_interval else None
        self._poller: Poller | None = None
        self._watch_id: int | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "amc_conn_id": self.amc_conn_id,
                "workflow_id": self.workflow_id,
                "instance": self.instance,
                "execution_category": self.execution_category,
                "since": self.since,
                "poll_interval": self.poll_interval,
                "first_poll_interval": self.first_poll_interval,
            },
        )

    def _attach(self) -> tuple[Poller, dict[str, str]]:
        """In the executor: the process's poller for the connection and the
        instance to watch (opening the client reads its store)."""
        connection = connection_of(self.amc_conn_id)
        client = AmcHook.client_for(connection)
        instance = self.instance or AmcHook.instance_of(connection)
        return shared_poller(client, poller_config(self.poll_interval, self.first_poll_interval)), instance

    def _fires_for(self, event: dict[str, Any]) -> bool:
        execution = event.get("execution") or {}
        if event.get("status") != SUCCEEDED:
            return False
        return (
            self.execution_category is None or execution.get("executionCategory") == self.execution_category
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        loop = asyncio.get_running_loop()
        poller, instance = await loop.run_in_executor(None, self._attach)
        events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_event(event: dict[str, Any]) -> None:
            # On a library thread: hand over and return at once.
            if not loop.is_closed():
                loop.call_soon_threadsafe(events.put_nowait, event)

        def start() -> int:
            return poller.watch_workflow(
                self.amc_conn_id, instance, self.workflow_id, on_event, since=self.since
            )

        self._poller = poller
        self._watch_id = await loop.run_in_executor(None, start)
        self.log.info(
            "Watching the runs of AMC workflow %s on instance %s (libamc watch %d)",
            self.workflow_id,
            instance.get("instance_id"),
            self._watch_id,
        )
        while True:
            event = await events.get()
            if event.get("event") == "error":
                # Only what waiting cannot mend ends a watch (403, a
                # credential to re-authenticate): the trigger fails with it
                # rather than fire an asset event for a run that never was.
                self._watch_id = None
                error = event.get("error") or {}
                code = int(error.get("code") or 0)
                raise exception_for(
                    code,
                    f"watching the runs of AMC workflow {self.workflow_id} ended: "
                    f"{error.get('message') or error.get('reason') or 'the poller gave up'}",
                    status_name(code) if code else "AMC_E_INTERNAL",
                    {"workflow_id": self.workflow_id},
                )
            execution = event.get("execution") or {}
            if event.get("event") == "new_execution":
                self.log.info(
                    "AMC started run %s of workflow %s (%s, %s)",
                    event.get("amc_execution_id"),
                    self.workflow_id,
                    execution.get("executionCategory") or "no category",
                    event.get("status"),
                )
            if self._fires_for(event):
                yield TriggerEvent(
                    run_event(
                        workflow_id=self.workflow_id,
                        instance_id=str(instance.get("instance_id")),
                        execution=execution,
                    )
                )

    async def cleanup(self) -> None:
        """Stops the watch; the workflow's runs go on in AMC."""
        poller, watch_id = self._poller, self._watch_id
        self._watch_id = None
        if poller is not None and watch_id is not None:
            await asyncio.get_running_loop().run_in_executor(None, poller.unwatch, watch_id)

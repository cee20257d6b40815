"""AmcExecutionTrigger: a deferred AMC task waits in the triggerer on
libamc's native poller.

The triggerer runs every deferred task's trigger on one asyncio loop. This
trigger spends no thread, no timer and no HTTP poll of its own: it hands the
execution to the process's poller (one native client and poller per
connection and poll settings, made lazily in the triggerer process, and
anew after a fork), and awaits a future that the poller's callback resolves
from a library thread through ``loop.call_soon_threadsafe``. The poller reads
all watched executions on one native event loop, batches the reads of one
instance into list calls, shares one access token per credential, and
waits out 429s without dropping a watch.

Everything that may block (reading the connection's configuration, opening
the client and its store, amc_watch, amc_unwatch, the cancel call) runs in
the loop's executor, never on the event loop.

- ``serialize()`` carries the connection id, the instance, AMC's execution
  id, the poll settings and the deadline; never a token.
- ``cleanup()`` unwatches (Airflow calls it on every exit of the trigger,
  including a move to another triggerer).
- ``on_kill()`` cancels the AMC execution when a user acted on the deferred
  task (mark failed, clear, mark success) and ``cancel_on_kill`` is on.
  Airflow 3.3 calls it with its user-action message, never on a triggerer
  shutdown or a trigger timeout (TriggerRunner.run_trigger) -- but also
  when a triggerer finds that a trigger it runs is no longer assigned to it
  (TriggerRunnerSupervisor.update_triggers cancels it the same way): a
  triggerer that stalled past ``triggerer_health_check_threshold`` wakes up
  to find its triggers moved to another triggerer. So on_kill first asks
  the Execution API for the task instance's state: still DEFERRED means the
  task waits on (the moved copy of) this trigger, and nothing is cancelled.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from libamc.binding import Client, status_name
from libamc.exceptions import AmcError
from libamc.executions import SUCCEEDED, reason_of, status_of, summary
from libamc.poller import Poller

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.throttling import CHECK_SECONDS, ThrottleCount, client_counts

CLASSPATH = "libamc_airflow.triggers.execution.AmcExecutionTrigger"

# (pid, id of the process's client, poll settings) -> poller. A forked child
# finds no poller of its pid and makes its own on its own fresh client.
_pollers: dict[tuple[int, int, tuple[tuple[str, float], ...]], Poller] = {}
_pollers_lock = threading.Lock()

# Connection id -> (when read, connection): hundreds of triggers of one
# connection starting together read it once, not once each.
CONNECTION_TTL_SECONDS = 60.0
_connections: dict[str, tuple[float, Any]] = {}
_connections_lock = threading.Lock()


def connection_of(conn_id: str) -> Any:
    """The connection, read at most once a minute per process (blocking:
    call it from the executor; from there Airflow's triggerer serves it)."""
    with _connections_lock:
        cached = _connections.get(conn_id)
    if cached is not None and time.monotonic() - cached[0] < CONNECTION_TTL_SECONDS:
        return cached[1]
    connection = AmcHook.get_connection(conn_id)
    with _connections_lock:
        _connections[conn_id] = (time.monotonic(), connection)
    return connection


def poller_config(poll_interval: float, first_poll_interval: float | None) -> dict[str, Any]:
    """amc_poller_new's schedule for the trigger's poll settings (seconds):
    first reads every `first_poll_interval`, growing to `poll_interval`."""
    maximum = max(0.1, float(poll_interval))
    first = min(maximum, float(first_poll_interval) if first_poll_interval else min(5.0, maximum))
    return {
        "first_interval_ms": int(first * 1000),
        "max_interval_ms": int(maximum * 1000),
        "min_interval_ms": min(1000, int(first * 1000)),
        "near_finish_interval_ms": int(first * 1000),
    }


def shared_poller(client: Client, config: dict[str, Any]) -> Poller:
    """The process's poller for `client` and this schedule, made on first use."""
    key = (os.getpid(), id(client), tuple(sorted(config.items())))
    with _pollers_lock:
        poller = _pollers.get(key)
        if poller is None:
            poller = Poller(client, config)
            _pollers[key] = poller
        return poller


def task_instance_state(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> str:
    """A task instance's state now ("" when none), read through the Execution
    API from a task or trigger process (blocking: call it from the executor
    in a trigger). on_kill uses it to tell a user's kill from a stop."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    index = map_index if map_index is not None else -1
    states = RuntimeTaskInstance.get_task_states(
        dag_id=dag_id, map_index=index, task_ids=[task_id], run_ids=[run_id]
    )
    # The Execution API keys a mapped task instance "<task_id>_<map_index>".
    key = task_id if index < 0 else f"{task_id}_{index}"
    return str((states.get(run_id) or {}).get(key) or "")


class AmcExecutionTrigger(BaseTrigger):
    """Fires one event when the AMC execution ends, or when waiting fails
    for good:

    - ``{"status": "success", "execution": {...}}`` for SUCCEEDED;
    - ``{"status": "failed", "execution", "reason"}`` for FAILED, CANCELLED,
      REJECTED, with AMC's statusReason;
    - ``{"status": "error", "error", "error_status"}`` when the poller gives
      up (403, re-authentication needed, an unknown execution) or the
      deadline passes (error_status ``AMC_E_TIMEOUT``).

    :param amc_conn_id: the ``amc`` connection.
    :param amc_execution_id: AMC's id of the execution.
    :param instance: ``instance_id``, ``advertiser_id``, ``marketplace_id``
        (default: the connection's).
    :param execution_id: libamc's journaled execution id, for the event.
    :param poll_interval: longest time between status reads, in seconds.
    :param first_poll_interval: time between the first reads, in seconds
        (default ``min(5, poll_interval)``).
    :param deadline: Unix time (seconds) after which the wait ends with a
        timeout error; None: no deadline of its own.
    :param create_time: AMC's createTime of the execution, when known: lets
        the poller refresh it with other executions of the instance in one
        list call from the first read on.
    :param cancel_on_kill: cancel the AMC execution when a user kills the
        deferred task (default True; as BigQuery's ``cancel_on_kill``).
    """

    def __init__(
        self,
        *,
        amc_conn_id: str,
        amc_execution_id: str,
        instance: dict[str, str] | None = None,
        execution_id: str = "",
        poll_interval: float = 60.0,
        first_poll_interval: float | None = None,
        deadline: float | None = None,
        create_time: str | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.amc_conn_id = amc_conn_id
        self.amc_execution_id = amc_execution_id
        self.instance = dict(instance) if instance else None
        self.execution_id = execution_id
        self.poll_interval = float(poll_interval)
        self.first_poll_interval = float(first_poll_interval) if first_poll_interval else None
        self.deadline = float(deadline) if deadline is not None else None
        self.create_time = create_time or None
        self.cancel_on_kill = bool(cancel_on_kill)
        self._poller: Poller | None = None
        self._watch_id: int | None = None
        self._client: Client | None = None
        self._request: dict[str, Any] | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "amc_conn_id": self.amc_conn_id,
                "amc_execution_id": self.amc_execution_id,
                "instance": self.instance,
                "execution_id": self.execution_id,
                "poll_interval": self.poll_interval,
                "first_poll_interval": self.first_poll_interval,
                "deadline": self.deadline,
                "create_time": self.create_time,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    def _event(self, status: str, **fields: Any) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "amc_execution_id": self.amc_execution_id,
                "execution_id": self.execution_id,
                "instance_id": (self._request or {}).get("instance", {}).get("instance_id"),
                **fields,
            }
        )

    def _attach(self) -> tuple[Poller, dict[str, Any]]:
        """In the executor: the connection, the process's client and poller
        and the watch request (opening the client reads its store)."""
        connection = connection_of(self.amc_conn_id)
        client = AmcHook.client_for(connection)
        instance = self.instance or AmcHook.instance_of(connection)
        request = {
            "credential_id": self.amc_conn_id,
            "instance": instance,
            "amc_execution_id": self.amc_execution_id,
        }
        if self.create_time:
            request["create_time"] = self.create_time
        self._client = client
        return shared_poller(client, poller_config(self.poll_interval, self.first_poll_interval)), request

    def _outcome(self, event: dict[str, Any]) -> TriggerEvent:
        if event.get("event") == "error":
            error = event.get("error") or {}
            code = int(error.get("code") or 0)
            return self._event(
                "error",
                error=str(error.get("message") or error.get("reason") or "the poller gave up"),
                error_status=status_name(code) if code else "AMC_E_INTERNAL",
            )
        execution = event.get("execution") or {}
        if status_of(execution) == SUCCEEDED or event.get("status") == SUCCEEDED:
            return self._event("success", execution=summary(execution))
        return self._event("failed", execution=summary(execution), reason=reason_of(execution))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        loop = asyncio.get_running_loop()
        try:
            poller, request = await loop.run_in_executor(None, self._attach)
        except AmcError as problem:
            yield self._event("error", error=str(problem), error_status=problem.status_name)
            return
        self._request = request
        done: asyncio.Future[dict[str, Any]] = loop.create_future()

        def settle(event: dict[str, Any]) -> None:
            # On the loop: log a change, or resolve the future with the end.
            if event.get("terminal"):
                if not done.done():
                    done.set_result(event)
            else:
                self.log.info(
                    "AMC execution %s is %s", self.amc_execution_id, event.get("status") or "UNKNOWN"
                )

        def on_event(event: dict[str, Any]) -> None:
            # On a library thread: hand over and return at once.
            if not loop.is_closed():
                loop.call_soon_threadsafe(settle, event)

        try:
            self._poller = poller
            self._watch_id = await loop.run_in_executor(None, poller.watch, request, on_event)
        except AmcError as problem:
            yield self._event("error", error=str(problem), error_status=problem.status_name)
            return
        self.log.info(
            "Watching AMC execution %s on libamc's poller (watch %d)", self.amc_execution_id, self._watch_id
        )
        client = self._client
        assert client is not None
        throttling = ThrottleCount(
            lambda: client_counts(client.metrics(), poller.stats()),
            whose=(
                f"libamc's client for connection {self.amc_conn_id!r} in this triggerer (status reads of "
                "its deferred AMC tasks)"
            ),
        )
        await loop.run_in_executor(None, throttling.start)
        try:
            event = await self._wait_reporting_throttles(loop, done, throttling)
        except TimeoutError:
            throttled = throttling.summary()
            yield self._event(
                "error",
                error=(
                    f"AMC execution {self.amc_execution_id} had not finished by the trigger's deadline "
                    f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self.deadline or 0))}); it keeps "
                    "running in AMC: raise wait_timeout, or cancel it"
                    + (f". {throttled}" if throttled else "")
                ),
                error_status="AMC_E_TIMEOUT",
            )
            return
        # The terminal event ended the watch: nothing to unwatch.
        self._watch_id = None
        yield self._outcome(event)

    async def _wait_reporting_throttles(
        self,
        loop: asyncio.AbstractEventLoop,
        done: asyncio.Future[dict[str, Any]],
        throttling: ThrottleCount,
    ) -> dict[str, Any]:
        """The watch's final event; TimeoutError at the deadline. Every
        CHECK_SECONDS it reads the poller's counters (in the executor) and
        logs what AMC's throttling did (libamc_airflow.throttling): the
        trigger's log is the task's, the poller's own lines are not."""
        while True:
            # Checked at least once per poll interval: the line comes soon after the storm's first 429.
            timeout = min(CHECK_SECONDS, max(1.0, self.poll_interval))
            if self.deadline is not None:
                left = self.deadline - time.time()
                if left <= 0:
                    raise TimeoutError
                timeout = min(timeout, left)
            try:
                return await asyncio.wait_for(asyncio.shield(done), timeout)
            except TimeoutError:
                line = await loop.run_in_executor(None, throttling.check)
                if line:
                    self.log.info("AMC execution %s: %s", self.amc_execution_id, line)

    async def cleanup(self) -> None:
        """Stops the watch (unless its final event came); the AMC execution
        keeps running: another triggerer may take the trigger over."""
        poller, watch_id = self._poller, self._watch_id
        self._watch_id = None
        if poller is not None and watch_id is not None:
            await asyncio.get_running_loop().run_in_executor(None, poller.unwatch, watch_id)

    def _task_still_deferred(self) -> bool:
        """In the executor: True when this trigger's task instance is still
        DEFERRED (the trigger moved to another triggerer; the task was not
        killed)."""
        ti = getattr(self, "task_instance", None)
        if ti is None:
            return False
        return task_instance_state(ti.dag_id, ti.task_id, ti.run_id, ti.map_index) == "deferred"

    async def on_kill(self) -> None:
        """The user killed the deferred task: cancel the AMC execution (not
        when the task is still deferred, nor with ``cancel_on_kill=False``)."""
        if not self.cancel_on_kill:
            self.log.info("Leaving AMC execution %s running (cancel_on_kill=False)", self.amc_execution_id)
            return
        loop = asyncio.get_running_loop()
        try:
            still_deferred = await loop.run_in_executor(None, self._task_still_deferred)
        except Exception as problem:
            # Unknown: keeping a run costs AMC time a user can still cancel; cancelling
            # one that a moved trigger waits on costs the whole run.
            self.log.warning(
                "Leaving AMC execution %s running: could not read the task's state (%s)",
                self.amc_execution_id,
                type(problem).__name__,
            )
            return
        if still_deferred:
            self.log.info(
                "Leaving AMC execution %s running: the task is still deferred (its trigger moved to "
                "another triggerer)",
                self.amc_execution_id,
            )
            return
        try:
            client = self._client
            request = self._request
            if client is None or request is None:
                _poller, request = await loop.run_in_executor(None, self._attach)
                client = self._client
            assert client is not None and request is not None
            await loop.run_in_executor(None, client.execution_cancel, request)
            self.log.info("Cancelled AMC execution %s: the task was killed", self.amc_execution_id)
        except AmcError as problem:
            self.log.warning("Could not cancel AMC execution %s: %s", self.amc_execution_id, problem)

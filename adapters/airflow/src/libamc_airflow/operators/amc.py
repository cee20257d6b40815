"""Operators for AMC workflows.

- ``AmcSyncWorkflowOperator`` creates or updates a saved workflow from SQL
  (or a templated ``.sql`` file).
- ``AmcRunWorkflowOperator`` submits an execution, waits for it (deferred to
  the triggerer by default, following ``[operators] default_deferrable``) and
  optionally downloads its results.

A retried task never starts a second AMC run. Right after the create call,
before deferring or waiting, the operator writes what it submitted to
Airflow's ``task_state_store`` (scoped to the DAG run, task and map index,
shared by every try); every ``execute`` reads it first and acts on the
execution's status: PENDING, RUNNING, PUBLISHING (or any status AMC may
add) re-attach; SUCCEEDED finishes; FAILED, CANCELLED, REJECTED or not
found submit anew. The second guard is libamc's execution journal: the
execution id is derived from dag id, task id, run id, map index and a
generation number, so a task killed between the create call and the
``task_state_store`` write submits the same id again, and libamc re-attaches
to the run it already started. A new generation (a new run) is started only
after a failed run, or, with ``rerun_after_success=True``, when a task whose
run had succeeded is cleared.

XCom gets small JSON only: ids, status, and the result manifest (file
paths, bytes, row counts), never rows.

Killing a task (``on_kill``) cancels its AMC run only when a user killed it:
Airflow sends the task process SIGTERM both when a user marks the task
failed or success or clears it (the api-server tells the supervisor, which
then signals) and when the worker shuts down, the pod is evicted or
``execution_timeout`` passes. The operator asks the Execution API for its
task instance's state: still RUNNING means Airflow did not end this try
(a shutdown, an eviction, a timeout), so the AMC run keeps going and the
next try re-attaches to it; any other state is a user's act, and the run is
cancelled unless ``cancel_on_kill=False``. The deferred case is the
trigger's (AmcExecutionTrigger.on_kill), by the same rule.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from airflow.sdk import BaseOperator, conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from libamc.binding import CancelToken, workflow_id_from_name
from libamc.exceptions import AmcError, AmcExecutionFailed, AmcNotFound
from libamc.executions import SUCCEEDED, is_terminal, status_of, summary

from libamc_airflow.connection_errors import failing_at_once
from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.lineage import AmcLineageMixin
from libamc_airflow.links.amc import REGION_AMC_ENDPOINTS, AmcExecutionLink, execution_url
from libamc_airflow.mixins import AmcExecutionEventsMixin
from libamc_airflow.triggers.execution import AmcExecutionTrigger, task_instance_state

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_KEY = "amc_execution"
AMC_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def derive_execution_id(dag_id: str, task_id: str, run_id: str, map_index: int, generation: int) -> str:
    """libamc's idempotency key for one AMC run of one task instance."""
    text = "\n".join((dag_id, task_id, run_id, str(map_index), str(generation)))
    return "airflow_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def window_from_interval(start: datetime, end: datetime, *, time_zone: str, lag: timedelta) -> dict[str, str]:
    """AMC's explicit time window for a data interval: moved back by `lag`
    (AMC's data latency) and written as wall-clock time in the instance's
    time zone, which AMC reads the window in."""
    zone = ZoneInfo(time_zone)
    return {
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": (start - lag).astimezone(zone).strftime(AMC_TIME_FORMAT),
        "timeWindowEnd": (end - lag).astimezone(zone).strftime(AMC_TIME_FORMAT),
        "timeWindowTimeZone": time_zone,
    }


class AmcSyncWorkflowOperator(BaseOperator):
    """Creates the saved workflow, or updates it when it differs, or leaves it.

    :param sql: the workflow's SQL, or a path ending in ``.sql`` (templated).
    :param workflow_id: the AMC workflow id; or
    :param workflow_name: a name, turned into a valid id deterministically.
    :param workflow: more fields of AMC's Workflow object (inputParameters,
        outputColumns, outputFormat, ...), templated.
    :param instance: overrides the connection's instance
        (``instance_id``, ``advertiser_id``, ``marketplace_id``).
    """

    template_fields: Sequence[str] = ("sql", "workflow_id", "workflow_name", "workflow", "instance")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql", "workflow": "json"}
    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        sql: str,
        workflow_id: str | None = None,
        workflow_name: str | None = None,
        workflow: dict[str, Any] | None = None,
        instance: dict[str, str] | None = None,
        amc_conn_id: str = AmcHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not workflow_id and not workflow_name:
            raise ValueError("AmcSyncWorkflowOperator needs workflow_id or workflow_name")
        self.sql = sql
        self.workflow_id = workflow_id
        self.workflow_name = workflow_name
        self.workflow = workflow or {}
        self.instance = instance
        self.amc_conn_id = amc_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        # A connection mistake (or a 403) fails at once, as in AmcRunWorkflowOperator.
        with failing_at_once(self.amc_conn_id):
            return self._sync()

    def _sync(self) -> dict[str, Any]:
        hook = AmcHook(self.amc_conn_id)
        workflow_id = self.workflow_id or workflow_id_from_name(str(self.workflow_name))
        request = hook.request(workflow={**self.workflow, "workflowId": workflow_id, "sqlQuery": self.sql})
        if self.instance:
            request["instance"] = {**request["instance"], **self.instance}
        result = hook.get_conn().workflow_sync(request)
        self.log.info("AMC workflow %s: %s", workflow_id, result.get("action"))
        return {"workflow_id": workflow_id, "action": result.get("action")}


class AmcRunWorkflowOperator(AmcExecutionEventsMixin, AmcLineageMixin, BaseOperator):
    """Runs an AMC workflow: submit, wait, and optionally download the results.

    :param workflow_id: a saved workflow to run; or
    :param sql: ad-hoc SQL (or a ``.sql`` file), run without saving it.
    :param parameters: ``parameterValues`` for the workflow's inputs (templated).
    :param time_window_type: AMC's timeWindowType (default: AMC's own, or
        EXPLICIT with a start and end).
    :param time_window_start, time_window_end: explicit window,
        ``yyyy-MM-ddTHH:mm:ss`` wall-clock time in ``time_zone`` (templated).
    :param time_window_from_data_interval: take the window from the run's
        data interval, moved back by ``data_latency`` and converted to
        ``time_zone``.
    :param time_zone: the instance's time zone (a tz database name).
    :param data_latency: how far AMC's data lags behind (default 0).
    :param download_dir: where to download the result files (templated):
        each AMC run's parts go into ``<download_dir>/<AMC execution id>/``
        (part-1.csv, ...), so runs sharing it keep their files apart; the
        manifest in XCom names them. None: no download.
    :param deferrable: wait in the triggerer (default: ``[operators]
        default_deferrable``).
    :param poll_interval: seconds between status reads while deferred.
    :param wait_timeout: longest wait (default 24 h).
    :param rerun_after_success: when a task whose AMC run succeeded is
        cleared, start a new run instead of finishing with the old one.
    :param instance: overrides the connection's instance (for mapping over
        instances): any of ``instance_id``, ``advertiser_id``,
        ``marketplace_id`` (``AmcInstance.override`` has all three).
    :param request: more fields of AMC's CreateWorkflowExecutionRequest.
    :param cancel_on_kill: cancel the AMC run when a user kills the task
        (mark failed or success, clear); default True. A worker shutdown, a
        pod eviction or ``execution_timeout`` never cancel it: the next try
        re-attaches. ``execution_timeout`` also bounds a deferred wait: the
        trigger's deadline is the earlier of it and ``wait_timeout``.
    :param preflight: before a new run is submitted, check it with libamc's
        pre-flight check (``Client.workflow_validate``: every table the SQL
        reads exists in the instance, and AMC compiles it in a dry run, which
        uses no quota); a failure fails the task at once, naming each unknown
        table with the closest existing name and AMC's compile error with its
        line. Default True; False skips it (two requests fewer per run).
    """

    template_fields: Sequence[str] = (
        "workflow_id",
        "sql",
        "parameters",
        "time_window_type",
        "time_window_start",
        "time_window_end",
        "time_zone",
        "download_dir",
        "instance",
        "request",
    )
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "sql": "sql",
        "parameters": "json",
        "request": "json",
    }
    operator_extra_links = (AmcExecutionLink(),)
    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        workflow_id: str | None = None,
        sql: str | None = None,
        parameters: dict[str, Any] | None = None,
        time_window_type: str | None = None,
        time_window_start: str | None = None,
        time_window_end: str | None = None,
        time_window_from_data_interval: bool = False,
        time_zone: str = "UTC",
        data_latency: timedelta = timedelta(0),
        download_dir: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30.0,
        wait_timeout: timedelta = timedelta(hours=24),
        rerun_after_success: bool = False,
        instance: dict[str, str] | None = None,
        request: dict[str, Any] | None = None,
        amc_conn_id: str = AmcHook.default_conn_name,
        cancel_on_kill: bool = True,
        preflight: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if bool(workflow_id) == bool(sql):
            raise ValueError("AmcRunWorkflowOperator needs exactly one of workflow_id and sql")
        self.workflow_id = workflow_id
        self.sql = sql
        self.parameters = parameters
        self.time_window_type = time_window_type
        self.time_window_start = time_window_start
        self.time_window_end = time_window_end
        self.time_window_from_data_interval = time_window_from_data_interval
        self.time_zone = time_zone
        self.data_latency = data_latency
        self.download_dir = download_dir
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.rerun_after_success = rerun_after_success
        self.instance = instance
        self.request = request
        self.amc_conn_id = amc_conn_id
        self.cancel_on_kill = cancel_on_kill
        self.preflight = preflight
        self._cancel: CancelToken | None = None
        self._running: dict[str, Any] | None = None
        # (dag_id, task_id, run_id, map_index) of the try this object runs, for on_kill.
        self._ti_key: tuple[str, str, str, int] | None = None
        # The extra link's URL once this process knows the run (AmcExecutionLink).
        self.amc_execution_url: str | None = None
        # on_kill runs in a SIGTERM handler; a pod eviction signals the task
        # and its supervisor, which forwards it: a second SIGTERM must not
        # re-enter on_kill while the first one talks to the supervisor (its
        # channel is not re-entrant: the task process hung there).
        self._killing = False

    # -- pieces -----------------------------------------------------------------------------
    @property
    def hook(self) -> AmcHook:
        return AmcHook(self.amc_conn_id)

    def _call(self, hook: AmcHook, **fields: Any) -> dict[str, Any]:
        request = hook.request(**fields)
        if self.instance:
            request["instance"] = {**request["instance"], **self.instance}
        return request

    def execution_request(self, context: Context) -> dict[str, Any]:
        """AMC's CreateWorkflowExecutionRequest for this run."""
        request: dict[str, Any] = dict(self.request or {})
        if self.workflow_id:
            request["workflowId"] = self.workflow_id
        else:
            request["workflow"] = {**request.get("workflow", {}), "sqlQuery": self.sql}
        if self.parameters:
            request["parameterValues"] = self.parameters
        if self.time_window_from_data_interval:
            start, end = context.get("data_interval_start"), context.get("data_interval_end")
            if start is None or end is None or start >= end:
                raise AirflowFailException(
                    f"time_window_from_data_interval needs a run whose data interval is not empty (it is "
                    f"{start} to {end}): schedule the DAG with a data-interval timetable such as "
                    "CronDataIntervalTimetable, or give time_window_start and time_window_end"
                )
            request.update(window_from_interval(start, end, time_zone=self.time_zone, lag=self.data_latency))
        elif self.time_window_start or self.time_window_end:
            request.update(
                {
                    "timeWindowType": self.time_window_type or "EXPLICIT",
                    "timeWindowStart": self.time_window_start,
                    "timeWindowEnd": self.time_window_end,
                    "timeWindowTimeZone": self.time_zone,
                }
            )
        elif self.time_window_type:
            request.update({"timeWindowType": self.time_window_type, "timeWindowTimeZone": self.time_zone})
        return request

    def _remember(self, context: Context, record: dict[str, Any]) -> None:
        """Writes what was submitted to the task state store: the first guard."""
        store = context.get("task_state_store")
        if store is not None:
            store.set(STATE_KEY, record)

    def _recall(self, context: Context) -> dict[str, Any] | None:
        store = context.get("task_state_store")
        if store is None:
            self.log.warning(
                "task_state_store is not available: libamc's execution journal is the only "
                "guard against a second AMC run"
            )
            return None
        value = store.get(STATE_KEY)
        return value if isinstance(value, dict) else None

    def _link(self, context: Context, hook: AmcHook, instance_id: str, amc_execution_id: str) -> None:
        """The extra link, on every path that knows the run (submit,
        re-attach, finish, the trigger's event): in XCom now, so that it
        shows while the task waits, and on this object, where
        AmcExecutionLink reads it when the task ends (a new try or a clear
        starts with no XCom)."""
        region = hook.field(hook.connection, "region") or "na"
        endpoint = hook.field(hook.connection, "amc_endpoint") or REGION_AMC_ENDPOINTS.get(region, "")
        self.amc_execution_url = execution_url(endpoint, instance_id, amc_execution_id)
        context["ti"].xcom_push(key=AmcExecutionLink().xcom_key, value=self.amc_execution_url)

    def _link_record(self, context: Context, hook: AmcHook, record: dict[str, Any]) -> None:
        instance = record.get("instance") or self._call(hook)["instance"]
        self._link(context, hook, str(instance["instance_id"]), str(record["amc_execution_id"]))

    # -- execute ------------------------------------------------------------------------------
    def execute(self, context: Context) -> Any:
        with self.failing_at_once():
            return self._execute(context)

    def _execute(self, context: Context) -> Any:
        ti = context["ti"]
        self._ti_key = (ti.dag_id, ti.task_id, ti.run_id, ti.map_index if ti.map_index is not None else -1)
        hook = self.hook
        client = hook.get_conn()
        record = self._recall(context)
        generation = 0
        if record is not None:
            generation = int(record.get("generation", 0))
            execution = self._execution_of(hook, record)
            status = status_of(execution) if execution is not None else "NOT_FOUND"
            if execution is not None:
                self._link_record(context, hook, record)
            if execution is not None and not is_terminal(execution):
                self.log.info(
                    "Re-attaching to AMC execution %s (%s) submitted by an earlier try",
                    record["amc_execution_id"],
                    status,
                )
                return self._wait(context, hook, record)
            if status == SUCCEEDED and not (record.get("finished") and self.rerun_after_success):
                self.log.info(
                    "AMC execution %s already SUCCEEDED; finishing without a new run",
                    record["amc_execution_id"],
                )
                return self._finish(context, hook, record, None)
            generation += 1
            self.log.info(
                "AMC execution %s is %s; submitting generation %d",
                record["amc_execution_id"],
                status,
                generation,
            )

        ti = context["ti"]
        execution_id = derive_execution_id(
            ti.dag_id, ti.task_id, ti.run_id, ti.map_index if ti.map_index is not None else -1, generation
        )
        if self.preflight:
            # Before any quota is spent (issue 24): unknown tables and SQL AMC
            # cannot compile fail here, not 15 minutes into a run.
            client.workflow_validate(self._call(hook, request=self.execution_request(context)))
        submitted = client.execution_submit(
            self._call(hook, execution_id=execution_id, request=self.execution_request(context))
        )
        record = {
            "execution_id": submitted["execution_id"],
            "amc_execution_id": submitted["amc_execution_id"],
            "generation": generation,
            "instance": self._call(hook)["instance"],
        }
        self._remember(context, record)
        self.log.info(
            "AMC execution %s (execution id %s)%s",
            record["amc_execution_id"],
            execution_id,
            ", re-attached to the run an earlier try started" if submitted.get("reattached") else "",
        )
        self._link(context, hook, record["instance"]["instance_id"], record["amc_execution_id"])
        return self._wait(context, hook, record)

    def _execution_of(self, hook: AmcHook, record: dict[str, Any]) -> dict[str, Any] | None:
        """The execution an earlier try submitted; None when AMC does not know it."""
        try:
            request = self._call(hook, amc_execution_id=record["amc_execution_id"])
            return hook.get_conn().execution_get(request)
        except AmcNotFound:
            return None

    def _wait_limit(self, context: Context) -> timedelta:
        """How long this try may wait: ``wait_timeout``, or less when the
        task's ``execution_timeout`` ends earlier (counted from the try's
        start; Airflow does not enforce it while a task is deferred)."""
        limit = self.wait_timeout
        if self.execution_timeout is not None:
            start = getattr(context.get("ti"), "start_date", None)
            spent = timedelta(0)
            if isinstance(start, datetime):
                spent = max(timedelta(0), datetime.now(start.tzinfo) - start)
            limit = min(limit, max(timedelta(0), self.execution_timeout - spent))
        return limit

    def _wait(self, context: Context, hook: AmcHook, record: dict[str, Any]) -> Any:
        if self.deferrable:
            limit = self._wait_limit(context)
            self.defer(
                trigger=AmcExecutionTrigger(
                    amc_conn_id=self.amc_conn_id,
                    amc_execution_id=record["amc_execution_id"],
                    execution_id=record["execution_id"],
                    poll_interval=self.poll_interval,
                    instance=record["instance"],
                    deadline=time.time() + limit.total_seconds(),
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
                # Airflow's own limit a minute later: the trigger's clear timeout event comes first.
                timeout=limit + timedelta(minutes=1),
            )
        return self._finish(context, hook, record, self._wait_here(hook, record))

    def _wait_here(self, hook: AmcHook, record: dict[str, Any]) -> dict[str, Any]:
        """libamc's wait in a helper thread; this thread keeps handling
        signals, so Airflow's on_kill can cancel the wait and the run."""
        client = hook.get_conn()
        request = self._call(
            hook,
            amc_execution_id=record["amc_execution_id"],
            timeout_ms=int(self.wait_timeout.total_seconds() * 1000),
            first_poll_ms=int(min(self.poll_interval, 5.0) * 1000),
            max_poll_ms=int(self.poll_interval * 1000),
        )
        outcome: dict[str, Any] = {}

        def progress(event: dict[str, Any]) -> None:
            if event.get("event") == "status":
                self.log.info(
                    "AMC execution %s: %s",
                    record["amc_execution_id"],
                    status_of(event.get("execution") or {}),
                )

        def wait() -> None:
            try:
                outcome["execution"] = client.execution_wait(request, cancel=token, progress=progress)
            except BaseException as problem:
                outcome["error"] = problem

        with CancelToken() as token:
            self._cancel, self._running = token, record
            worker = threading.Thread(target=wait, name="amc-wait", daemon=True)
            worker.start()
            while worker.is_alive():
                worker.join(0.5)
            self._cancel = None
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, AmcExecutionFailed):
                raise AirflowException(
                    f"AMC execution {record['amc_execution_id']} ended "
                    f"{status_of(error.execution)}: {error.message}"
                ) from error
            raise error
        execution: dict[str, Any] = outcome["execution"]
        return execution

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """The trigger's event (AmcExecutionEventsMixin.execute_complete),
        after setting the extra link in this process, which resumed the task."""
        if event.get("amc_execution_id"):
            hook = self.hook
            instance_id = event.get("instance_id") or self._call(hook)["instance"]["instance_id"]
            self._link(context, hook, str(instance_id), str(event["amc_execution_id"]))
        return super().execute_complete(context, event)

    def execution_succeeded(self, context: Context, event: dict[str, Any]) -> Any:
        """The trigger's success event (AmcExecutionEventsMixin.execute_complete
        handles the others): download and finish."""
        record = self._recall(context) or {
            "execution_id": event.get("execution_id"),
            "amc_execution_id": event["amc_execution_id"],
            "generation": 0,
        }
        return self._finish(context, self.hook, record, event.get("execution"))

    def _finish(
        self, context: Context, hook: AmcHook, record: dict[str, Any], execution: dict[str, Any] | None
    ) -> dict[str, Any]:
        manifest = None
        if self.download_dir:
            manifest = hook.get_conn().results_download(
                self._call(
                    hook,
                    amc_execution_id=record["amc_execution_id"],
                    directory=self.results_directory(record["amc_execution_id"]),
                )
            )
            self._log_download(manifest)
        self._remember(context, {**record, "finished": True})
        instance_id = (record.get("instance") or self._call(hook)["instance"]).get("instance_id")
        result = {
            "execution_id": record["execution_id"],
            "amc_execution_id": record["amc_execution_id"],
            # Which instance ran it: a mapped task's values tell their instances apart.
            "instance_id": instance_id,
            "status": SUCCEEDED,
            "execution": summary(execution or {}),
            "manifest": manifest,
        }
        # For the OpenLineage facets (AmcLineageMixin), read on this task object.
        self.finished_run = dict(result)
        return result

    def results_directory(self, amc_execution_id: str) -> str:
        """``download_dir/<AMC execution id>``: each run's parts (part-1.csv,
        ...) in a folder of their own, so runs that share a ``download_dir``
        (a mapped task's instances, a rerun of a cleared task) never write
        over each other's files. The manifest names the folder."""
        return os.path.join(str(self.download_dir), amc_execution_id)

    def _log_download(self, manifest: dict[str, Any]) -> None:
        """The task log's line about what was downloaded (issue 25 point 4):
        files, rows, bytes and directory, and libamc's warnings about them."""
        files = manifest.get("files") or []
        self.log.info(
            "Downloaded the results of AMC execution %s: %d file%s, %s rows, %s bytes, into %s",
            manifest.get("amc_execution_id"),
            len(files),
            "" if len(files) == 1 else "s",
            manifest.get("total_rows"),
            manifest.get("total_bytes"),
            manifest.get("directory"),
        )
        for warning in manifest.get("warnings") or []:
            self.log.warning("Results of AMC execution %s: %s", manifest.get("amc_execution_id"), warning)

    def _killed_by_user(self) -> bool:
        """On SIGTERM: True unless Airflow still counts this try as RUNNING
        (then the worker is shutting down, the pod is being evicted or
        execution_timeout passed). Read through the Execution API."""
        if self._ti_key is None:
            return True
        return task_instance_state(*self._ti_key) != "running"

    def on_kill(self) -> None:
        """Stops waiting; cancels the AMC run only when a user killed the
        task and ``cancel_on_kill`` is on (see the module's docstring)."""
        if self._cancel is not None:
            self._cancel.cancel()
        record = self._running
        if record is None or self._killing:
            return
        self._killing = True
        try:
            self._stop_or_cancel(record)
        finally:
            self._killing = False

    def _stop_or_cancel(self, record: dict[str, Any]) -> None:
        if not self.cancel_on_kill:
            self.log.info(
                "Leaving AMC execution %s running (cancel_on_kill=False)", record["amc_execution_id"]
            )
            return
        try:
            killed = self._killed_by_user()
        except Exception as problem:
            # Unknown: a run left going can still be cancelled; a cancelled one is lost.
            self.log.warning(
                "Leaving AMC execution %s running: could not read the task's state (%s)",
                record["amc_execution_id"],
                type(problem).__name__,
            )
            return
        if not killed:
            self.log.info(
                "Leaving AMC execution %s running: the task was stopped (worker shutdown, eviction or "
                "execution_timeout), not killed; its next try re-attaches",
                record["amc_execution_id"],
            )
            return
        hook = self.hook
        try:
            hook.get_conn().execution_cancel(self._call(hook, amc_execution_id=record["amc_execution_id"]))
            self.log.info("Cancelled AMC execution %s", record["amc_execution_id"])
        except AmcError as problem:
            self.log.warning("Could not cancel AMC execution %s: %s", record["amc_execution_id"], problem)

"""AmcExecutionSensor: waits for an AMC execution another task submitted,
in ``poke`` or ``reschedule`` mode (Airflow's sensor modes), or deferred to
the triggerer (``deferrable=True``), where libamc's native poller watches it
(AmcExecutionTrigger)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseSensorOperator, conf
from airflow.sdk.exceptions import AirflowException
from libamc.executions import SUCCEEDED, is_terminal, reason_of, status_of

from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.mixins import AmcExecutionEventsMixin
from libamc_airflow.triggers.execution import AmcExecutionTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context


class AmcExecutionSensor(AmcExecutionEventsMixin, BaseSensorOperator):
    """True once the execution is SUCCEEDED; fails with AMC's reason when it
    ends FAILED, CANCELLED or REJECTED. Failures another try cannot fix
    (403, re-authentication needed) fail the task at once, as does the
    deadline of a deferred wait.

    :param amc_execution_id: AMC's id of the execution (templated), e.g.
        ``{{ ti.xcom_pull('run')['amc_execution_id'] }}``.
    :param instance: overrides the connection's instance.
    :param deferrable: wait in the triggerer on libamc's poller (default:
        ``[operators] default_deferrable``); ``poke_interval`` is the longest
        time between status reads and ``timeout`` the deadline.
    """

    template_fields: Sequence[str] = ("amc_execution_id", "instance")
    ui_color = "#ff9900"
    # A sensor's deadline is final (as Airflow's own sensor timeout is).
    fail_at_once_statuses: ClassVar[frozenset[str]] = AmcExecutionEventsMixin.fail_at_once_statuses | {
        "AMC_E_TIMEOUT"
    }

    def __init__(
        self,
        *,
        amc_execution_id: str,
        instance: dict[str, str] | None = None,
        amc_conn_id: str = AmcHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.amc_execution_id = amc_execution_id
        self.instance = instance
        self.amc_conn_id = amc_conn_id
        self.deferrable = deferrable

    def execute(self, context: Context) -> Any:
        with self.failing_at_once():
            return self._execute(context)

    def _execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return True
        hook = AmcHook(self.amc_conn_id)
        timeout = float(self.timeout)
        self.defer(
            trigger=AmcExecutionTrigger(
                amc_conn_id=self.amc_conn_id,
                amc_execution_id=self.amc_execution_id,
                instance={**hook.instance, **(self.instance or {})},
                poll_interval=float(self.poke_interval),
                deadline=time.time() + timeout,
            ),
            method_name="execute_complete",
            # Airflow's own limit a minute later: the trigger's clear timeout event comes first.
            timeout=timedelta(seconds=timeout + 60),
        )

    def execution_succeeded(self, context: Context, event: dict[str, Any]) -> bool:
        """The trigger's success event (AmcExecutionEventsMixin.execute_complete
        handles the others)."""
        self.log.info("AMC execution %s SUCCEEDED", self.amc_execution_id)
        return True

    def poke(self, context: Context) -> bool:
        hook = AmcHook(self.amc_conn_id)
        request = hook.request(amc_execution_id=self.amc_execution_id)
        if self.instance:
            request["instance"] = {**request["instance"], **self.instance}
        execution = hook.get_conn().execution_get(request)
        status = status_of(execution)
        self.log.info("AMC execution %s is %s", self.amc_execution_id, status)
        if status == SUCCEEDED:
            return True
        if is_terminal(execution):
            raise AirflowException(
                f"AMC execution {self.amc_execution_id} ended {status}: {reason_of(execution)}"
            )
        return False

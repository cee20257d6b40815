"""AmcExecutionSensor: waits for an AMC execution another task submitted,
in ``poke`` or ``reschedule`` mode (Airflow's sensor modes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from libamc_airflow.executions import SUCCEEDED, is_active, reason_of, status_of
from libamc_airflow.hooks.amc import AmcHook

if TYPE_CHECKING:
    from airflow.sdk import Context


class AmcExecutionSensor(BaseSensorOperator):
    """True once the execution is SUCCEEDED; fails with AMC's reason when it
    ends FAILED, CANCELLED or REJECTED.

    :param amc_execution_id: AMC's id of the execution (templated), e.g.
        ``{{ ti.xcom_pull('run')['amc_execution_id'] }}``.
    :param instance: overrides the connection's instance.
    """

    template_fields: Sequence[str] = ("amc_execution_id", "instance")
    ui_color = "#ff9900"

    def __init__(
        self,
        *,
        amc_execution_id: str,
        instance: dict[str, str] | None = None,
        amc_conn_id: str = AmcHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.amc_execution_id = amc_execution_id
        self.instance = instance
        self.amc_conn_id = amc_conn_id

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
        if not is_active(status):
            raise AirflowException(
                f"AMC execution {self.amc_execution_id} ended {status}: {reason_of(execution)}"
            )
        return False

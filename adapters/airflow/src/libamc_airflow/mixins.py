"""What AmcRunWorkflowOperator and AmcExecutionSensor share: the one handler
of AmcExecutionTrigger's event, and the one rule for failures that fail a
task at once (as Databricks' operator and sensor share
DatabricksSqlStatementsMixin).

A trigger event means the same in both:

- ``success``: the execution SUCCEEDED; the task's ``execution_succeeded``
  says what that gives (the operator downloads and returns its result, the
  sensor returns True);
- ``failed``: FAILED, CANCELLED or REJECTED: AirflowException with AMC's
  reason (a retry may run it again);
- ``error``: waiting failed for good. A failure another try cannot fix
  (``FAIL_AT_ONCE``: a 403, re-authentication needed, a bad configuration
  or request) fails the task at once, without using up its retries; any
  other (an unknown execution, a deadline) is an AirflowException.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.exceptions import AirflowException, AirflowFailException
from libamc.exceptions import AmcError, Status, exception_for
from libamc.executions import reason_of, status_of

from libamc_airflow import connection_errors
from libamc_airflow.connection_errors import FAIL_AT_ONCE

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["FAIL_AT_ONCE", "AmcExecutionEventsMixin"]


class AmcExecutionEventsMixin:
    """Mixed into the operator and the sensor, before their Airflow base."""

    amc_conn_id: str
    # The trigger's error_status values that fail the task at once: those of
    # FAIL_AT_ONCE; a task may add its own (the sensor: its timeout).
    fail_at_once_statuses: ClassVar[frozenset[str]] = frozenset(
        Status(failure.status).name for failure in FAIL_AT_ONCE
    )

    def explain(self, problem: AmcError) -> str:
        """The failure's message, with what to do when the user must act, in
        Airflow's words when the connection is at fault (connection_errors)."""
        return connection_errors.explain(self.amc_conn_id, problem)

    @contextmanager
    def failing_at_once(self) -> Iterator[None]:
        """Turns a failure of FAIL_AT_ONCE into AirflowFailException."""
        with connection_errors.failing_at_once(self.amc_conn_id):
            yield

    def execution_succeeded(self, context: Context, event: dict[str, Any]) -> Any:
        """What the task returns once the execution SUCCEEDED."""
        raise NotImplementedError

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """AmcExecutionTrigger's event: success, failed (AMC's reason) or error."""
        amc_execution_id = event.get("amc_execution_id")
        if event.get("status") == "success":
            return self.execution_succeeded(context, event)
        if event.get("status") == "failed":
            execution = event.get("execution") or {}
            raise AirflowException(
                f"AMC execution {amc_execution_id} ended {status_of(execution)}: "
                f"{event.get('reason') or reason_of(execution)}"
            )
        message = f"waiting for AMC execution {amc_execution_id} failed: {event.get('error')}"
        error_status = str(event.get("error_status") or "")
        if error_status in self.fail_at_once_statuses:
            problem = exception_for(Status[error_status], message, "", {})
            raise AirflowFailException(self.explain(problem))
        raise AirflowException(message)

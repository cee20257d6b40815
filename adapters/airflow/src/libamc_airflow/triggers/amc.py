"""AmcExecutionTrigger: waits in the triggerer for an AMC execution to end.

It polls through the ctypes binding in a worker thread (asyncio.to_thread),
never on the event loop. Throttling is waited out (libamc already retries
429s; a throttle beyond its policy only delays the next poll) and does not
end the wait. The native poller of libamc will replace this polling loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from libamc_airflow.exceptions import AmcError, AmcThrottled
from libamc_airflow.executions import SUCCEEDED, is_active, reason_of, status_of, summary
from libamc_airflow.hooks.amc import AmcHook


class AmcExecutionTrigger(BaseTrigger):
    """Fires one event when the execution is SUCCEEDED, FAILED, CANCELLED or
    REJECTED, or when a call fails for good (e.g. the grant was revoked).

    :param amc_conn_id: the ``amc`` connection.
    :param amc_execution_id: AMC's id of the execution.
    :param execution_id: libamc's (journaled) execution id, for the event.
    :param poll_interval: seconds between status reads.
    :param instance: overrides the connection's instance (mapped tasks).
    """

    def __init__(
        self,
        *,
        amc_conn_id: str,
        amc_execution_id: str,
        execution_id: str = "",
        poll_interval: float = 30.0,
        instance: dict[str, str] | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.amc_conn_id = amc_conn_id
        self.amc_execution_id = amc_execution_id
        self.execution_id = execution_id
        self.poll_interval = float(poll_interval)
        self.instance = dict(instance) if instance else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "libamc_airflow.triggers.amc.AmcExecutionTrigger",
            {
                "amc_conn_id": self.amc_conn_id,
                "amc_execution_id": self.amc_execution_id,
                "execution_id": self.execution_id,
                "poll_interval": self.poll_interval,
                "instance": self.instance,
            },
        )

    def _event(self, status: str, **fields: Any) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "amc_execution_id": self.amc_execution_id,
                "execution_id": self.execution_id,
                **fields,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            connection = await AmcHook.aget_connection(self.amc_conn_id)
            client = await asyncio.to_thread(AmcHook.client_for, connection)
            request = {
                "credential_id": self.amc_conn_id,
                "instance": {**AmcHook.instance_of(connection), **(self.instance or {})},
                "amc_execution_id": self.amc_execution_id,
            }
        except AmcError as problem:
            yield self._event("error", error=str(problem), error_status=problem.status_name)
            return
        while True:
            try:
                execution = await asyncio.to_thread(client.execution_get, request)
            except AmcThrottled as throttled:
                delay = max(self.poll_interval, (throttled.retry_after_ms or 0) / 1000.0)
                self.log.info("AMC throttled the status read; next read in %.1f s", delay)
                await asyncio.sleep(delay)
                continue
            except AmcError as problem:
                yield self._event("error", error=str(problem), error_status=problem.status_name)
                return
            status = status_of(execution)
            if status == SUCCEEDED:
                yield self._event("success", execution=summary(execution))
                return
            if not is_active(status):
                yield self._event("failed", execution=summary(execution), reason=reason_of(execution))
                return
            self.log.info(
                "AMC execution %s is %s; next read in %.1f s",
                self.amc_execution_id,
                status,
                self.poll_interval,
            )
            await asyncio.sleep(self.poll_interval)

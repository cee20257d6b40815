"""The Python peer of AmcExecutionTrigger (issue 26 point 6): a deferrable
trigger written the way Airflow's providers write theirs today
(DatabricksExecutionTrigger, AthenaTrigger): one coroutine per execution,
an async hook made per trigger that reads the connection and gets its own
LwA access token, then a loop of one aiohttp GET of the execution and
``asyncio.sleep(poll_interval)`` until AMC says it ended.

Pure Python (Airflow, aiohttp): no libamc. It fires the same events as
AmcExecutionTrigger, so AmcRunWorkflowOperator resumes from either, and
stamps ``detected_at`` (Unix seconds) on its event for the detection
latency that bench/airflow_trigger_bench.py measures.

It is a benchmark peer, not something to deploy: the distributed harness
(adapters/airflow/tests/distributed) copies this file onto each node's
PYTHONPATH, as a provider's module would be installed there.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from airflow.triggers.base import BaseTrigger, TriggerEvent

CLASSPATH = "airflow_peer_trigger.PeerAmcExecutionTrigger"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED")
SERIALIZED = (
    "amc_conn_id",
    "amc_execution_id",
    "instance",
    "execution_id",
    "poll_interval",
    "deadline",
    "first_poll_interval",
    "create_time",
    "cancel_on_kill",
)
# How many run() of the peer are active in this process (read by the loop-lag
# probe of bench/airflow_trigger_bench.py; a list so it is shared by reference).
RUNNING = [0]
LWA_TOKEN_URLS = {
    "na": "https://api.amazon.com/auth/o2/token",
    "eu": "https://api.amazon.co.uk/auth/o2/token",
    "fe": "https://api.amazon.co.jp/auth/o2/token",
}
AMC_URLS = {
    "na": "https://advertising-api.amazon.com",
    "eu": "https://advertising-api-eu.amazon.com",
    "fe": "https://advertising-api-fe.amazon.com",
}


class PeerAmcAsyncHook:
    """What a provider's async hook does: the connection read once per hook,
    an access token of its own (refreshed a minute before it expires), one
    aiohttp session, a retry of 429 and 5xx answers after ``Retry-After``
    (or a doubling backoff) up to ``retries`` times."""

    def __init__(self, amc_conn_id: str, retries: int = 5) -> None:
        self.amc_conn_id = amc_conn_id
        self.retries = retries
        self._session: aiohttp.ClientSession | None = None
        self._fields: dict[str, str] = {}
        self._token = ""
        self._token_expires = 0.0
        self.requests = 0

    async def __aenter__(self) -> PeerAmcAsyncHook:
        from airflow.sdk import BaseHook

        # A blocking read (from the triggerer it goes through its supervisor),
        # so in a thread, as providers' async hooks do it (sync_to_async).
        connection = await asyncio.get_running_loop().run_in_executor(
            None, BaseHook.get_connection, self.amc_conn_id
        )
        extra = connection.extra_dejson
        region = str(extra.get("region") or "na")
        self._fields = {
            "client_id": str(connection.login or ""),
            "client_secret": str(connection.password or ""),
            "refresh_token": str(extra.get("refresh_token") or ""),
            "token_url": str(extra.get("lwa_token_endpoint") or LWA_TOKEN_URLS[region]),
            "amc_url": str(extra.get("amc_endpoint") or AMC_URLS[region]).rstrip("/"),
        }
        context = ssl.create_default_context(cafile=extra.get("ca_file") or None)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _send(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        assert self._session is not None, "use the hook as an async context manager"
        delay = 1.0
        for attempt in range(self.retries + 1):
            self.requests += 1
            async with self._session.request(method, url, **kwargs) as answer:
                if answer.status == 429 or answer.status >= 500:
                    if attempt == self.retries:
                        answer.raise_for_status()
                    retry_after = answer.headers.get("Retry-After")
                    await asyncio.sleep(float(retry_after) if retry_after else delay)
                    delay = min(delay * 2, 30.0)
                    continue
                answer.raise_for_status()
                body: dict[str, Any] = await answer.json(content_type=None)
                return body
        raise AssertionError("unreachable")

    async def access_token(self) -> str:
        """The hook's own token: one LwA refresh per hook, and again a minute
        before it expires."""
        if self._token and time.time() < self._token_expires - 60:
            return self._token
        fields = self._fields
        reply = await self._send(
            "POST",
            fields["token_url"],
            data={
                "grant_type": "refresh_token",
                "refresh_token": fields["refresh_token"],
                "client_id": fields["client_id"],
                "client_secret": fields["client_secret"],
            },
        )
        self._token = str(reply["access_token"])
        self._token_expires = time.time() + float(reply.get("expires_in") or 3600)
        return self._token

    async def get_execution(self, instance: dict[str, str], amc_execution_id: str) -> dict[str, Any]:
        """GET workflowExecutions/{id} with AMC's four headers; the flat or
        the wrapped shape, as the object itself."""
        headers = {
            "Amazon-Advertising-API-ClientId": self._fields["client_id"],
            "Authorization": f"Bearer {await self.access_token()}",
            "Amazon-Advertising-API-AdvertiserId": instance["advertiser_id"],
            "Amazon-Advertising-API-MarketplaceId": instance["marketplace_id"],
        }
        url = (
            f"{self._fields['amc_url']}/amc/reporting/{instance['instance_id']}"
            f"/workflowExecutions/{amc_execution_id}"
        )
        body = await self._send("GET", url, headers=headers)
        execution = body.get("workflowExecution", body)
        return execution if isinstance(execution, dict) else {}


class PeerAmcExecutionTrigger(BaseTrigger):
    """One coroutine per AMC execution: GET its status, sleep
    ``poll_interval`` seconds, again, until it is terminal or ``deadline``
    (Unix seconds) passes. Takes the keyword arguments AmcExecutionTrigger
    serializes (``create_time`` and ``first_poll_interval`` are accepted
    and unused: this peer reads one execution at a fixed interval)."""

    def __init__(
        self,
        *,
        amc_conn_id: str,
        amc_execution_id: str,
        instance: dict[str, str],
        execution_id: str = "",
        poll_interval: float = 60.0,
        deadline: float | None = None,
        first_poll_interval: float | None = None,
        create_time: str | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.amc_conn_id = amc_conn_id
        self.amc_execution_id = amc_execution_id
        self.instance = dict(instance)
        self.execution_id = execution_id
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline) if deadline is not None else None
        self.first_poll_interval = first_poll_interval
        self.create_time = create_time
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # The keyword arguments AmcExecutionTrigger serializes, so that either
        # trigger can be made from the other's fields.
        return CLASSPATH, {name: getattr(self, name) for name in SERIALIZED}

    def _event(self, status: str, **fields: Any) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "amc_execution_id": self.amc_execution_id,
                "execution_id": self.execution_id,
                "instance_id": self.instance.get("instance_id"),
                "detected_at": time.time(),
                **fields,
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        RUNNING[0] += 1
        try:
            async for event in self._poll():
                yield event
        finally:
            RUNNING[0] -= 1

    async def _poll(self) -> AsyncIterator[TriggerEvent]:
        async with PeerAmcAsyncHook(self.amc_conn_id) as hook:
            while True:
                try:
                    execution = await hook.get_execution(self.instance, self.amc_execution_id)
                except aiohttp.ClientError as problem:
                    yield self._event("error", error=str(problem), error_status="AMC_E_HTTP")
                    return
                status = str(execution.get("status") or "")
                if status in TERMINAL:
                    keep = ("workflowExecutionId", "workflowId", "status", "statusReason", "createTime")
                    summary = {key: execution[key] for key in keep if key in execution}
                    summary["requests"] = hook.requests
                    if status == "SUCCEEDED":
                        yield self._event("success", execution=summary)
                    else:
                        yield self._event("failed", execution=summary, reason=execution.get("statusReason"))
                    return
                self.log.info("AMC execution %s is %s", self.amc_execution_id, status or "UNKNOWN")
                if self.deadline is not None and time.time() > self.deadline:
                    yield self._event(
                        "error",
                        error=f"AMC execution {self.amc_execution_id} had not finished by the deadline",
                        error_status="AMC_E_TIMEOUT",
                    )
                    return
                await asyncio.sleep(self.poll_interval)

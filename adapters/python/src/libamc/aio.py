"""Awaiting an AMC execution from asyncio on libamc's native poller.

``wait_async`` watches one execution on a ``Poller`` (the library's own
thread and schedule: no thread of Python's is blocked, and one poller serves
any number of awaits) and resolves when the run is over. The watch callback
runs on a library thread, so it only hands the event to the event loop with
``loop.call_soon_threadsafe``; a cancelled await unwatches.
"""

from __future__ import annotations

import asyncio
from typing import Any

from libamc.exceptions import AmcExecutionFailed, Status, exception_for
from libamc.poller import Poller


async def wait_async(poller: Poller, request: dict[str, Any]) -> dict[str, Any]:
    """Awaits the end of one execution.

    ``request`` is amc_watch's request (include/amc/amc.h): ``instance``
    (``instance_id``, ``advertiser_id``, ``marketplace_id``), ``credential_id``
    and ``amc_execution_id``. Returns the terminal event's ``execution``
    (AMC's object, flat, with ``terminal`` and ``phase``) when it SUCCEEDED;
    raises ``AmcExecutionFailed`` (with the execution in ``detail``) when it
    ended FAILED, CANCELLED or REJECTED, and the typed ``AmcError`` of a
    watch that ended in error (e.g. ``AmcAuthRequired``, ``AmcNotFound``).
    Cancelling the await stops the watch.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[dict[str, Any]] = loop.create_future()

    def on_event(event: dict[str, Any]) -> None:
        # A library thread: hand the event to the loop, touch nothing else.
        if event.get("terminal") is True:
            loop.call_soon_threadsafe(_settle, done, event)

    watch_id = poller.watch(request, on_event)
    try:
        event = await done
    except asyncio.CancelledError:
        poller.unwatch(watch_id)
        raise
    return _outcome(event)


def _settle(done: asyncio.Future[dict[str, Any]], event: dict[str, Any]) -> None:
    if not done.done():
        done.set_result(event)


def _outcome(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("event") == "error":
        error: dict[str, Any] = dict(event.get("error") or {})
        code = int(error.get("code") or Status.AMC_E_INTERNAL)
        name = Status(code).name if code in Status._value2member_map_ else "AMC_E_UNKNOWN"
        message = str(error.get("message") or error.get("reason") or "the poller ended the watch")
        raise exception_for(code, message, name, error)
    execution: dict[str, Any] = dict(event.get("execution") or {})
    if execution.get("phase") == "succeeded":
        return execution
    raise AmcExecutionFailed(
        f"AMC execution {execution.get('workflowExecutionId', '?')} ended "
        f"{execution.get('status', 'UNKNOWN')}: {execution.get('statusReason') or 'AMC gave no reason'}",
        status=int(Status.AMC_E_EXECUTION_FAILED),
        status_name=Status.AMC_E_EXECUTION_FAILED.name,
        detail={"execution": execution},
    )

"""ctypes binding of libamc's poller (amc_poller_*, amc_watch, amc_unwatch in
include/amc/amc.h). Needs no Airflow.

One poller watches any number of executions on its client's I/O thread and
calls back on every status change, with exactly one terminal event per
watch. It also watches the runs of a saved workflow (watch_workflow): every
new run AMC starts, then that run's status changes. The C callback runs on a
library thread: it only hands the decoded event to the watch's Python
handler, which must return quickly (the trigger hands it on with
``loop.call_soon_threadsafe``).

Lifetimes: the poller holds one C callback and one C destructor for all its
watches, alive as long as the poller; each watch's ``user`` pointer is a key
into the poller's table of handlers, removed by the library's
``destroy_user`` (exactly once per successful ``amc_watch``), so nothing the
library may still call is ever freed early. Like ``binding.Client``, a poller
belongs to the process that made it: after a fork use a new one (the
parent's threads do not exist in the child).
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from libamc.binding import (
    USER_DESTRUCTOR,
    WATCH_CALLBACK,
    Client,
    WatchOptions,
    _check,
    _encode,
    _json_out,
    _take_text,
    library,
)
from libamc.exceptions import AmcError, AmcNotFound, AmcTimeout

EventHandler = Callable[[dict[str, Any]], None]


class Poller:
    """A native poller on ``client`` (see amc_poller_new for ``config``:
    first_interval_ms, max_interval_ms, growth, jitter, ...)."""

    def __init__(self, client: Client, config: dict[str, Any] | None = None) -> None:
        lib = library()
        self.client = client
        self._pid = os.getpid()
        self._handlers: dict[int, EventHandler | None] = {}
        self._handlers_lock = threading.Lock()
        self._keys = itertools.count(1)
        # One callback and one destructor for every watch, alive as long as
        # the poller (amc_poller_free returns when no callback runs any more).
        self._callback = WATCH_CALLBACK(self._on_event)
        self._destroy = USER_DESTRUCTOR(self._on_destroy)
        out = ctypes.c_void_p()
        _check(lib.amc_poller_new(client._native(), _encode(config or {}), ctypes.byref(out)))
        self._handle: ctypes.c_void_p | None = out

    # -- library threads ----------------------------------------------------------
    def _on_event(self, event_json: bytes | None, user: int | None) -> None:
        with self._handlers_lock:
            handler = self._handlers.get(user or 0)
        if handler is None:
            return
        # An exception must never unwind into C.
        with contextlib.suppress(Exception):
            handler(json.loads((event_json or b"{}").decode("utf-8")))

    def _on_destroy(self, user: int | None) -> None:
        with self._handlers_lock:
            self._handlers.pop(user or 0, None)

    # -- calls ----------------------------------------------------------------------
    def _live(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise AmcError("the poller is closed")
        if self._pid != os.getpid():
            raise AmcError("this poller belongs to the parent process: make a new one after a fork")
        return self._handle

    def watch(self, request: dict[str, Any], handler: EventHandler | None) -> int:
        """Starts watching; `handler(event)` runs on a library thread for
        every status change and once for the terminal event. None: the
        events wait for next_event(). Returns the watch id."""
        handle = self._live()
        key = next(self._keys)
        with self._handlers_lock:
            self._handlers[key] = handler
        options = WatchOptions(
            ctypes.sizeof(WatchOptions),
            _encode(request),
            self._callback if handler is not None else WATCH_CALLBACK(),
            ctypes.c_void_p(key),
            self._destroy,
        )
        watch_id = ctypes.c_uint64()
        try:
            _check(library().amc_watch(handle, ctypes.byref(options), ctypes.byref(watch_id)))
        except BaseException:
            # A failed amc_watch never runs destroy_user: the key is still ours.
            self._on_destroy(key)
            raise
        return int(watch_id.value)

    def watch_workflow(
        self,
        credential_id: str,
        instance: dict[str, str],
        workflow_id: str,
        handler: EventHandler | None,
        *,
        since: str | None = None,
    ) -> int:
        """Watches the runs of a saved workflow (amc_watch with
        ``"workflow_id"``), the runs AMC starts on its own schedule included:
        `handler(event)` gets ``{"event": "new_execution", "workflow_id",
        "amc_execution_id", "status", "execution_terminal", "execution"}``
        once for every new run, then ``{"event": "status", ...,
        "previous_status"}`` for each of its status changes, until
        unwatch(); ``"terminal"`` is true only on a final ``"error"`` event
        that ends the watch.

        :param credential_id: the credential to list the runs with.
        :param instance: ``instance_id``, ``advertiser_id``, ``marketplace_id``.
        :param workflow_id: AMC's workflowId (letters, digits, ``.``, ``-``, ``_``).
        :param since: runs created at or after this UTC time (AMC's
            createTime, ``"2026-11-28T15:26:01Z"``) are new; None: from now
            on, so runs that existed before the watch are not reported.
        :raises AmcInvalidArgument: a bad workflow id, instance or ``since``.
        :returns: the watch id, for unwatch().
        """
        request: dict[str, Any] = {
            "credential_id": credential_id,
            "instance": instance,
            "workflow_id": workflow_id,
        }
        if since:
            request["since"] = since
        return self.watch(request, handler)

    def unwatch(self, watch_id: int) -> bool:
        """Stops a watch; False when it was already over. When this returns no
        callback of the watch runs any more (see amc_unwatch)."""
        status = library().amc_unwatch(self._live(), watch_id)
        if status == 0:
            return True
        try:
            _check(status)
        except AmcNotFound:
            return False
        return True

    def next_event(self, timeout_ms: int) -> dict[str, Any] | None:
        """The next event of a watch without handler; None after timeout_ms."""
        out = ctypes.c_void_p()
        status = library().amc_poller_next_event(self._live(), timeout_ms, ctypes.byref(out))
        if status != 0:
            try:
                _check(status)
            except AmcTimeout:
                return None
        text = _take_text(out)
        return dict(json.loads(text)) if text else None

    def stats(self) -> dict[str, Any]:
        """Counters: watched, requests_sent, get_requests, list_requests,
        batched_reads, throttles, detection latency (amc_poller_stats)."""
        handle = self._live()
        result: dict[str, Any] = _json_out(lambda out: library().amc_poller_stats(handle, ctypes.byref(out)))
        return result

    def watching(self) -> int:
        """Watches whose destroy_user has not run yet (their handlers are held)."""
        with self._handlers_lock:
            return len(self._handlers)

    def close(self) -> None:
        """Ends every watch; in a forked child the parent's poller is left
        alone (its threads do not exist here)."""
        handle, self._handle = self._handle, None
        if handle is not None and self._pid == os.getpid():
            library().amc_poller_free(handle)

    def __enter__(self) -> Poller:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

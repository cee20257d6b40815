"""libamc's log lines in Python ``logging``. Needs no Airflow.

Every ``binding.Client`` forwards the library's log lines to the logger
``libamc`` (``LOGGER_NAME``) unless told otherwise, so a script's, an Airflow
task's or the triggerer's log shows them wherever that logger's records go.

- Levels map one to one: ``AMC_LOG_DEBUG`` (10), ``AMC_LOG_INFO`` (20),
  ``AMC_LOG_WARNING`` (30) and ``AMC_LOG_ERROR`` (40) of amc.h become
  ``logging.DEBUG``, ``INFO``, ``WARNING`` and ``ERROR``.
- Only lines the logger would keep cross from C into Python: the client's
  ``min_level`` is the logger's effective level when the native client is
  made (a new level takes effect for clients made after it, or through
  ``forward_to_logging(client)``), and each line is checked again with
  ``isEnabledFor``.
- The library masks secrets before a line leaves it (tokens, client secrets,
  Fernet tokens); the HTTP layer never writes headers, bodies or query
  strings into a line.
- Lines arrive on a library thread (or the thread of the blocking call that
  logs). The ctypes callback takes the GIL, never lets an exception unwind
  into C, and is kept alive by its client; at interpreter exit every
  client's callback is removed first, so none runs while Python shuts down.

Opting out or replacing: ``client.set_log(None)`` for one client,
``client.set_log(handler, min_level)`` for your own handler,
``forward_by_default(False)`` for clients made afterwards, or the usual
``logging.getLogger("libamc").setLevel(...)``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import weakref
from typing import Any, Protocol

LOGGER_NAME = "libamc"

# amc.h's log levels.
AMC_LOG_DEBUG = 10
AMC_LOG_INFO = 20
AMC_LOG_WARNING = 30
AMC_LOG_ERROR = 40

_PYTHON_LEVELS = {
    AMC_LOG_DEBUG: logging.DEBUG,
    AMC_LOG_INFO: logging.INFO,
    AMC_LOG_WARNING: logging.WARNING,
    AMC_LOG_ERROR: logging.ERROR,
}


def python_level(amc_level: int) -> int:
    """The ``logging`` level of an amc.h level; a level amc.h may add later
    goes to the nearest one below it (DEBUG at least)."""
    known = [level for level in _PYTHON_LEVELS if level <= amc_level]
    return _PYTHON_LEVELS[max(known)] if known else logging.DEBUG


def min_level(logger: logging.Logger | None = None) -> int:
    """The ``min_level`` for ``amc_client_set_log`` that lets through exactly
    the lines ``logger`` (default: ``libamc``) keeps now: its effective level,
    or above ERROR when it is disabled."""
    logger = logger or logging.getLogger(LOGGER_NAME)
    if logger.disabled or logging.root.manager.disable >= logging.CRITICAL:
        return AMC_LOG_ERROR + 1
    return max(logger.getEffectiveLevel(), logging.root.manager.disable + 1)


class LoggingBridge:
    """A log handler (``binding.LogHandler``) forwarding each line to
    ``logger`` (default: ``libamc``) at the mapped level."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER_NAME)

    def __call__(self, level: int, message: str) -> None:
        mapped = python_level(level)
        if self.logger.isEnabledFor(mapped):
            self.logger.log(mapped, message)


class _LogClient(Protocol):
    def set_log(self, handler: Any, min_level: int = ...) -> None: ...


_default_enabled = True


def forward_by_default(enabled: bool) -> None:
    """Whether clients made from now on forward to ``libamc`` (default True)."""
    global _default_enabled  # noqa: PLW0603 - one switch per process
    _default_enabled = enabled


def default_log_args() -> tuple[LoggingBridge, int] | None:
    """What a new client installs: the bridge and the logger's level, or
    None when forwarding by default is off."""
    if not _default_enabled:
        return None
    bridge = LoggingBridge()
    return bridge, min_level(bridge.logger)


def forward_to_logging(client: _LogClient, logger: logging.Logger | None = None) -> None:
    """(Re)installs the bridge on ``client`` with ``logger``'s level as it is
    now: after the logger's level was lowered, or to forward to another
    logger (a child of ``libamc``, say)."""
    bridge = LoggingBridge(logger)
    client.set_log(bridge, min_level(bridge.logger))


# Clients whose log callback calls into Python, to detach at exit.
_attached: weakref.WeakSet[Any] = weakref.WeakSet()
_attached_lock = threading.Lock()


def attached(client: Any) -> None:
    """Called by a client that installed a Python log callback."""
    with _attached_lock:
        _attached.add(client)


@atexit.register
def _detach_all() -> None:
    # A library thread calling back into an interpreter that is finalizing
    # would be stopped inside the callback (CPython ends threads that ask for
    # the GIL then): remove every callback first, which waits for calls in
    # progress.
    with _attached_lock:
        clients = list(_attached)
    for client in clients:
        with contextlib.suppress(Exception):
            client._detach_log()

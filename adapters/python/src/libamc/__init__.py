"""libamc for Python: Amazon Marketing Cloud (AMC) workflows from any Python
host (a script, Airflow, Dagster, Prefect, ...), on the libamc C library.

The public API, documented in docs/python.md:

- ``Client(config)`` / ``client(config)``: a native client; its calls take
  and return the JSON documents of include/amc/amc.h as ``dict``:
  ``execution_submit``, ``execution_wait`` (blocking), ``results_download``,
  ``auth_import``, ``auth_status``, and every other AMC operation;
- ``Poller(client)``: many executions watched on the library's own thread
  (``watch``, ``unwatch``, ``next_event``), the runs of a saved workflow
  (``watch_workflow``: every new run AMC starts, then its status changes),
  and ``wait_async`` to await one execution's end on it from asyncio;
- the typed exceptions of ``libamc.exceptions`` (``AmcError`` and one class
  per ``amc_status``);
- ``libamc.sandbox``: the bundled ``amc-sandbox`` (a local AMC and Login
  with Amazon), also a console script.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

from libamc import sandbox
from libamc.aio import wait_async
from libamc.binding import (
    ABI_MAJOR,
    CancelToken,
    Client,
    Store,
    client,
    status_name,
    version,
    workflow_id_from_name,
)
from libamc.exceptions import (
    AmcAdhocQuotaExceeded,
    AmcAuthRequired,
    AmcCancelled,
    AmcError,
    AmcExecutionFailed,
    AmcForbidden,
    AmcInvalidArgument,
    AmcLibraryError,
    AmcNotFound,
    AmcThrottled,
    AmcTimeout,
    Status,
)
from libamc.poller import Poller

try:
    __version__ = _distribution_version("libamc")
except PackageNotFoundError:  # imported from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "ABI_MAJOR",
    "AmcAdhocQuotaExceeded",
    "AmcAuthRequired",
    "AmcCancelled",
    "AmcError",
    "AmcExecutionFailed",
    "AmcForbidden",
    "AmcInvalidArgument",
    "AmcLibraryError",
    "AmcNotFound",
    "AmcThrottled",
    "AmcTimeout",
    "CancelToken",
    "Client",
    "Poller",
    "Status",
    "Store",
    "__version__",
    "client",
    "sandbox",
    "status_name",
    "version",
    "wait_async",
    "workflow_id_from_name",
]

"""ctypes binding of libamc's C ABI (include/amc/amc.h). Needs no Airflow.

- The library is found through ``AMC_LIBRARY`` (a path: used alone, a wrong
  one is an error, never silently replaced), then the package folder (the
  wheel carries ``libamc.so.1`` there), then the dynamic loader's search path;
  a failure lists every path tried and why it failed.
- The ABI major of the loaded library must be the one this module was
  written for (``amc_version_number() // 10000``).
- Every function has its argtypes and restype; strings the library returns
  are taken as ``c_void_p``, copied, then released with ``amc_free``.
- One check turns a status into the typed exception of ``exceptions`` with
  the library's message and last-error JSON (both per thread, read at once
  on the thread that made the call).
- Callbacks are kept alive as long as the library may call them.
- Every client forwards the library's log lines to Python ``logging``
  (logger ``libamc``; see ``logs``) unless ``set_log`` replaces that.
- A ``Client`` belongs to the process that created it (libamc says
  ``AMC_E_FORKED`` in a child): after a fork it makes a fresh native client
  from the same configuration, so forked Airflow task processes just work.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from libamc import logs
from libamc.exceptions import AmcError, AmcLibraryError, exception_for

ABI_MAJOR = 1
SONAME = f"libamc.so.{ABI_MAJOR}"

_status = ctypes.c_int
_handle = ctypes.c_void_p
_out_handle = ctypes.POINTER(ctypes.c_void_p)
_text = ctypes.c_char_p
_out_text = ctypes.POINTER(ctypes.c_void_p)

LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
PROGRESS_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)

# amc_store_callbacks' members (amc_client_new_with_store).
STORE_PUT_TEXT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
STORE_READ = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, STORE_PUT_TEXT, ctypes.c_void_p)
STORE_WRITE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
STORE_TRY_LOCK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)
STORE_UNLOCK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
USER_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
# amc_watch_callback.
WATCH_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)


class StoreCallbacks(ctypes.Structure):
    """amc_store_callbacks, versioned by its size (first member)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("user", ctypes.c_void_p),
        ("read", STORE_READ),
        ("write", STORE_WRITE),
        ("try_lock", STORE_TRY_LOCK),
        ("unlock", STORE_UNLOCK),
        ("destroy_user", USER_DESTRUCTOR),
    ]


class WatchOptions(ctypes.Structure):
    """amc_watch_options, versioned by its size (first member)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("request_json", ctypes.c_char_p),
        ("callback", WATCH_CALLBACK),
        ("user", ctypes.c_void_p),
        ("destroy_user", USER_DESTRUCTOR),
    ]


# Every function of amc.h: name -> (restype, argtypes), in amc.h's order
# (tests/test_binding.py checks it against the header). The one table:
# the poller and the host store use these declarations too.
_FUNCTIONS: dict[str, tuple[Any, list[Any]]] = {
    "amc_version_number": (ctypes.c_int, []),
    "amc_version_string": (_text, []),
    "amc_status_name": (_text, [_status]),
    "amc_last_error": (_text, []),
    "amc_last_error_json": (_text, []),
    "amc_free": (None, [ctypes.c_void_p]),
    "amc_store_new": (_status, [_text, _out_handle]),
    "amc_store_free": (None, [_handle]),
    "amc_store_put_credential": (_status, [_handle, _text]),
    "amc_store_get_credential": (_status, [_handle, _text, _text, _out_text]),
    "amc_store_list_credentials": (_status, [_handle, _out_text]),
    "amc_store_delete_credential": (_status, [_handle, _text]),
    "amc_store_rotate_keys": (_status, [_handle, _out_text]),
    "amc_client_new": (_status, [_text, _out_handle]),
    "amc_client_free": (None, [_handle]),
    "amc_client_new_with_store": (_status, [_text, ctypes.POINTER(StoreCallbacks), _out_handle]),
    "amc_client_set_log": (_status, [_handle, LOG_CALLBACK, ctypes.c_void_p, ctypes.c_int]),
    "amc_client_metrics": (_status, [_handle, _out_text]),
    "amc_auth_consent_url": (_status, [_handle, _text, _out_text]),
    "amc_auth_exchange_code": (_status, [_handle, _text, _out_text]),
    "amc_auth_import": (_status, [_handle, _text]),
    "amc_auth_refresh": (_status, [_handle, _text, _text, _out_text]),
    "amc_auth_status": (_status, [_handle, _text, _out_text]),
    "amc_accounts_list": (_status, [_handle, _text, _out_text]),
    "amc_instances_list": (_status, [_handle, _text, _out_text]),
    "amc_workflow_create": (_status, [_handle, _text, _out_text]),
    "amc_workflow_get": (_status, [_handle, _text, _out_text]),
    "amc_workflow_list": (_status, [_handle, _text, _out_text]),
    "amc_workflow_update": (_status, [_handle, _text, _out_text]),
    "amc_workflow_delete": (_status, [_handle, _text, _out_text]),
    "amc_workflow_sync": (_status, [_handle, _text, _out_text]),
    "amc_workflow_id_from_name": (_status, [_text, _out_text]),
    "amc_schedule_create": (_status, [_handle, _text, _out_text]),
    "amc_schedule_get": (_status, [_handle, _text, _out_text]),
    "amc_schedule_list": (_status, [_handle, _text, _out_text]),
    "amc_schedule_update": (_status, [_handle, _text, _out_text]),
    "amc_schedule_delete": (_status, [_handle, _text, _out_text]),
    "amc_execution_submit": (_status, [_handle, _text, _out_text]),
    "amc_execution_get": (_status, [_handle, _text, _out_text]),
    "amc_execution_list": (_status, [_handle, _text, _out_text]),
    "amc_execution_cancel": (_status, [_handle, _text, _out_text]),
    "amc_cancel_token_new": (_status, [_out_handle]),
    "amc_cancel_token_cancel": (None, [_handle]),
    "amc_cancel_token_free": (None, [_handle]),
    "amc_execution_wait": (_status, [_handle, _text, _handle, PROGRESS_CALLBACK, ctypes.c_void_p, _out_text]),
    "amc_results_download": (_status, [_handle, _text, PROGRESS_CALLBACK, ctypes.c_void_p, _out_text]),
    "amc_data_source_list": (_status, [_handle, _text, _out_text]),
    "amc_data_source_get": (_status, [_handle, _text, _out_text]),
    "amc_workflow_validate": (_status, [_handle, _text, _out_text]),
    "amc_adhoc_quota": (_status, [_handle, _text, _out_text]),
    "amc_poller_new": (_status, [_handle, _text, _out_handle]),
    "amc_poller_free": (None, [_handle]),
    "amc_watch": (_status, [_handle, ctypes.POINTER(WatchOptions), ctypes.POINTER(ctypes.c_uint64)]),
    "amc_unwatch": (_status, [_handle, ctypes.c_uint64]),
    "amc_poller_next_event": (_status, [_handle, ctypes.c_int, _out_text]),
    "amc_poller_stats": (_status, [_handle, _out_text]),
}

# The request-in, JSON-out calls of a client: method name -> C function.
_CLIENT_CALLS = {
    "consent_url": "amc_auth_consent_url",
    "exchange_code": "amc_auth_exchange_code",
    "accounts_list": "amc_accounts_list",
    "instances_list": "amc_instances_list",
    "workflow_create": "amc_workflow_create",
    "workflow_get": "amc_workflow_get",
    "workflow_list": "amc_workflow_list",
    "workflow_update": "amc_workflow_update",
    "workflow_delete": "amc_workflow_delete",
    "workflow_sync": "amc_workflow_sync",
    "schedule_create": "amc_schedule_create",
    "schedule_get": "amc_schedule_get",
    "schedule_list": "amc_schedule_list",
    "schedule_update": "amc_schedule_update",
    "schedule_delete": "amc_schedule_delete",
    "execution_submit": "amc_execution_submit",
    "execution_get": "amc_execution_get",
    "execution_list": "amc_execution_list",
    "execution_cancel": "amc_execution_cancel",
    "data_source_list": "amc_data_source_list",
    "data_source_get": "amc_data_source_get",
    "workflow_validate": "amc_workflow_validate",
    "adhoc_quota": "amc_adhoc_quota",
}


def _candidates() -> list[tuple[str, str]]:
    """(where it comes from, path or name) in the order they are tried."""
    explicit = os.environ.get("AMC_LIBRARY")
    if explicit:
        return [("AMC_LIBRARY", explicit)]
    found: list[tuple[str, str]] = [
        ("package folder", str(Path(__file__).resolve().parent / SONAME)),
        ("loader path", SONAME),
    ]
    by_name = ctypes.util.find_library("amc")
    if by_name and by_name != SONAME:
        found.append(("ctypes.util.find_library", by_name))
    return found


def _load() -> ctypes.CDLL:
    tried: list[str] = []
    for origin, path in _candidates():
        if origin == "package folder" and not Path(path).exists():
            tried.append(f"  {path} ({origin}): no such file")
            continue
        try:
            library = ctypes.CDLL(path)
        except OSError as problem:
            tried.append(f"  {path} ({origin}): {problem}")
            continue
        _declare(library, path)
        return library
    raise AmcLibraryError(
        f"cannot load {SONAME}; tried:\n"
        + "\n".join(tried)
        + "\nInstall the libamc wheel (it carries the library) or set AMC_LIBRARY to the "
        "path of libamc.so.1."
    )


def _declare(library: ctypes.CDLL, path: str) -> None:
    missing = [name for name in _FUNCTIONS if not hasattr(library, name)]
    if missing:
        raise AmcLibraryError(f"{path} lacks {', '.join(missing)}: it is not libamc {ABI_MAJOR}.x")
    for name, (restype, argtypes) in _FUNCTIONS.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes
    loaded = int(library.amc_version_number())
    if loaded // 10000 != ABI_MAJOR:
        raise AmcLibraryError(
            f"{path} is libamc {library.amc_version_string().decode()} (ABI major {loaded // 10000}); "
            f"this adapter needs ABI major {ABI_MAJOR}"
        )


_library: ctypes.CDLL | None = None
_library_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The loaded libamc, loaded on first use."""
    global _library  # noqa: PLW0603 - one library per process, loaded lazily
    with _library_lock:
        if _library is None:
            _library = _load()
        return _library


def version() -> str:
    """The loaded library's version, e.g. "1.2.0"."""
    return str(library().amc_version_string().decode())


def status_name(status: int) -> str:
    return str(library().amc_status_name(status).decode())


def _check(status: int) -> None:
    """Raises the typed exception for a failed call; reads the last error on
    this thread right away, before any other libamc call can replace it."""
    if status == 0:
        return
    lib = library()
    message = (lib.amc_last_error() or b"").decode("utf-8", "replace")
    raw = (lib.amc_last_error_json() or b"{}").decode("utf-8", "replace")
    try:
        detail = json.loads(raw)
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    name = str(detail.get("status") or status_name(status))
    raise exception_for(status, message or name, name, detail)


def _take_text(pointer: ctypes.c_void_p) -> str:
    """Copies a string the library returned and releases it with amc_free."""
    if not pointer.value:
        return ""
    try:
        return ctypes.string_at(pointer.value).decode("utf-8")
    finally:
        library().amc_free(pointer)


# The largest string handed to the library: a request, a config, an id or a
# host store's document (whose own limit, in the library, is 64 MiB).
MAX_TEXT_BYTES = 64 * 1024 * 1024


def c_text(value: str, what: str) -> bytes:
    """``value`` as the NUL-terminated UTF-8 that a ``const char *`` of
    ``amc.h`` carries, checked before the library sees it.

    A C string ends at its first NUL, so ``"c2\0zz"`` would reach the
    library as ``"c2"`` (deleting credential ``"c2"``); a lone surrogate has
    no UTF-8 form; more than ``MAX_TEXT_BYTES`` is no id or request. Each is
    refused with ``ValueError`` naming ``what`` (never quoting the value,
    which may be a secret); a value that is not a ``str`` with ``TypeError``.
    Issue 23 kind 5.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    nul = value.find("\0")
    if nul >= 0:
        raise ValueError(
            f"{what} contains a NUL character at index {nul}: the library would see only the text "
            "before it; remove it"
        )
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as problem:
        raise ValueError(
            f"{what} is not valid Unicode text (a lone surrogate at index {problem.start}), so it has "
            "no UTF-8 form; decode the text it came from correctly"
        ) from None
    if len(data) > MAX_TEXT_BYTES:
        raise ValueError(
            f"{what} is {len(data)} bytes of UTF-8, more than the {MAX_TEXT_BYTES} the binding passes"
        )
    return data


def _encode(request: dict[str, Any] | str | None, what: str = "the request") -> bytes | None:
    if request is None:
        return None
    # json.dumps writes NUL and lone surrogates as \u escapes, which the
    # library reads (and refuses where they do not belong) itself.
    return c_text(request if isinstance(request, str) else json.dumps(request), what)


def _json_out(call: Callable[[ctypes.c_void_p], int]) -> Any:
    out = ctypes.c_void_p()
    _check(call(out))
    text = _take_text(out)
    return json.loads(text) if text else {}


def workflow_id_from_name(name: str) -> str:
    """A valid AMC workflow id derived deterministically from a human name."""
    out = ctypes.c_void_p()
    _check(library().amc_workflow_id_from_name(c_text(name, "the workflow name"), ctypes.byref(out)))
    return _take_text(out)


ProgressHandler = Callable[[dict[str, Any]], None]
LogHandler = Callable[[int, str], None]


def _progress_callback(handler: ProgressHandler | None, errors: list[BaseException]) -> Any:
    """A C progress callback calling `handler` with the decoded event. An
    exception must not unwind into C: it is kept and raised after the call."""
    if handler is None:
        return PROGRESS_CALLBACK()

    def on_event(event_json: bytes | None, _user: int | None) -> None:
        try:
            handler(json.loads((event_json or b"{}").decode("utf-8")))
        except BaseException as problem:
            errors.append(problem)

    return PROGRESS_CALLBACK(on_event)


class CancelToken:
    """Stops an ``execution_wait`` from another thread (or a signal handler)."""

    def __init__(self) -> None:
        out = ctypes.c_void_p()
        _check(library().amc_cancel_token_new(ctypes.byref(out)))
        self._handle: ctypes.c_void_p | None = out
        self._pid = os.getpid()

    def cancel(self) -> None:
        if self._handle is not None:
            library().amc_cancel_token_cancel(self._handle)

    def close(self) -> None:
        """Free only after the wait using the token has returned."""
        handle, self._handle = self._handle, None
        if handle is not None and self._pid == os.getpid():
            library().amc_cancel_token_free(handle)

    @property
    def handle(self) -> ctypes.c_void_p | None:
        return self._handle

    def __enter__(self) -> CancelToken:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Store:
    """The encrypted credential store on its own (amc_store_*)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        out = ctypes.c_void_p()
        _check(library().amc_store_new(_encode(config or {}, "the store config"), ctypes.byref(out)))
        self._handle: ctypes.c_void_p | None = out

    def _live(self) -> ctypes.c_void_p:
        if self._handle is None:
            raise AmcError("the store is closed")
        return self._handle

    def put_credential(self, credential: dict[str, Any]) -> None:
        _check(library().amc_store_put_credential(self._live(), _encode(credential)))

    def get_credential(self, credential_id: str, *, include_secrets: bool = False) -> dict[str, Any]:
        options = {"include_secrets": True} if include_secrets else None
        handle = self._live()
        credential = c_text(credential_id, "the credential id")
        result: dict[str, Any] = _json_out(
            lambda out: library().amc_store_get_credential(
                handle, credential, _encode(options), ctypes.byref(out)
            )
        )
        return result

    def list_credentials(self) -> list[dict[str, Any]]:
        handle = self._live()
        listing = _json_out(lambda out: library().amc_store_list_credentials(handle, ctypes.byref(out)))
        return list(listing.get("credentials", []))

    def delete_credential(self, credential_id: str) -> None:
        credential = c_text(credential_id, "the credential id")
        _check(library().amc_store_delete_credential(self._live(), credential))

    def rotate_keys(self) -> dict[str, Any]:
        handle = self._live()
        report: dict[str, Any] = _json_out(
            lambda out: library().amc_store_rotate_keys(handle, ctypes.byref(out))
        )
        return report

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            library().amc_store_free(handle)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Client:
    """A native libamc client (its own I/O thread, connection pool, store and
    token cache) for one configuration (see amc_client_new in amc.h).

    Safe to share between threads. In a forked child the parent's native
    client cannot be used (its threads do not exist there): the first call in
    the child makes a fresh one from the same configuration, and the
    parent's handle is left alone, since freeing it would run its
    destructors on state that the missing threads may have held locked.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self._config_json = _encode(config, "the client config")
        self._lock = threading.Lock()
        self._handle: ctypes.c_void_p | None = None
        self._pid = 0
        self._log_callback: Any = None  # the C callback the library holds
        # By default the library's lines go to the logger "libamc" (logs.py).
        self._log_args: tuple[LogHandler, int] | None = logs.default_log_args()
        self._closed = False
        self._native()

    def _native(self) -> ctypes.c_void_p:
        with self._lock:
            if self._closed:
                raise AmcError("the client is closed")
            if self._handle is None or self._pid != os.getpid():
                self._handle, self._pid = self._new_native(self._config_json), os.getpid()
                if self._log_args is not None:
                    self._install_log(*self._log_args)
            return self._handle

    def _new_native(self, config_json: bytes | None) -> ctypes.c_void_p:
        """A new native client (a subclass may make it another way)."""
        out = ctypes.c_void_p()
        _check(library().amc_client_new(config_json, ctypes.byref(out)))
        return out

    # -- logging ------------------------------------------------------------
    def set_log(self, handler: LogHandler | None, min_level: int = 20) -> None:
        """Receives the library's log lines (secrets already masked) on a
        library thread; `handler` must return quickly and not call blocking
        functions of this client. It replaces the default forwarding to the
        logger "libamc" (see logs.py); None removes it."""
        handle = self._native()
        with self._lock:
            self._log_args = (handler, min_level) if handler is not None else None
            if handler is None:
                _check(library().amc_client_set_log(handle, LOG_CALLBACK(), None, min_level))
                self._log_callback = None
            else:
                self._install_log(handler, min_level)

    def _install_log(self, handler: LogHandler, min_level: int) -> None:
        def on_line(level: int, message: bytes | None, _user: int | None) -> None:
            # A log handler's failure must never unwind into C.
            with contextlib.suppress(Exception):
                handler(level, (message or b"").decode("utf-8", "replace"))

        callback = LOG_CALLBACK(on_line)
        assert self._handle is not None
        _check(library().amc_client_set_log(self._handle, callback, None, min_level))
        # Kept alive as long as the library may call it.
        self._log_callback = callback
        logs.attached(self)

    def _detach_log(self) -> None:
        """Removes the log callback (at interpreter exit: see logs.py)."""
        if self._lock.acquire(timeout=1):
            try:
                if self._handle is not None and self._pid == os.getpid() and self._log_callback is not None:
                    library().amc_client_set_log(self._handle, LOG_CALLBACK(), None, 0)
                    self._log_callback = None
            finally:
                self._lock.release()

    # -- calls --------------------------------------------------------------
    def call(self, method: str, request: dict[str, Any]) -> dict[str, Any]:
        """One request-in, JSON-out call by method name (see _CLIENT_CALLS)."""
        function = getattr(library(), _CLIENT_CALLS[method])
        handle = self._native()
        result: dict[str, Any] = _json_out(lambda out: function(handle, _encode(request), ctypes.byref(out)))
        return result

    def __getattr__(self, name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        if name in _CLIENT_CALLS:
            return lambda request: self.call(name, request)
        raise AttributeError(name)

    # -- schedules (since libamc 1.2) -------------------------------------------
    # AMC runs a saved workflow on its own, daily or weekly: Amazon's
    # createSchedule ... deleteSchedule (tests/data/specs, "Schedules" in amc.h).
    # Every request is {"credential_id", "instance": {"instance_id",
    # "advertiser_id", "marketplace_id"}, "timeout_ms" (optional), ...}; every
    # answer is AMC's Schedule, flat, with AMC's field names.

    def schedule_create(self, request: dict[str, Any]) -> dict[str, Any]:
        """Creates a schedule; returns it as AMC then holds it.

        ``request["schedule"]`` is AMC's Schedule: ``{"scheduleId": str,
        "workflowId": str, "aggregationPeriod": "Daily" | "Weekly",
        "aggregationHourUtc": int (0-23, UTC), "aggregationStartDay":
        "Monday" ... "Sunday" (Weekly), "scheduleEnabled": bool, ...}``;
        scheduleId and workflowId are required, other AMC fields pass as
        they are. AMC's runs of it are executions of the workflow
        (``execution_list`` with ``{"workflowId": ...}``).

        Raises AmcInvalidArgument (a field of the wrong type or range, or a
        workflow AMC does not have), AmcConflict (the id exists), and the
        errors of every call (AmcAuthRequired, AmcThrottled, ...).
        Source: amc_schedule_create in amc.h; the spec's createSchedule.
        """
        return self.call("schedule_create", request)

    def schedule_get(self, request: dict[str, Any]) -> dict[str, Any]:
        """AMC's Schedule named by ``request["schedule_id"]`` (a str).

        Raises AmcNotFound when there is none. Source: amc_schedule_get;
        the spec's getSchedule.
        """
        return self.call("schedule_get", request)

    def schedule_list(self, request: dict[str, Any]) -> dict[str, Any]:
        """``{"schedules": [Schedule, ...]}``: all of the instance's
        schedules, every page of AMC's list (nextToken followed; up to 100
        a page). Source: amc_schedule_list; the spec's listSchedules.
        """
        return self.call("schedule_list", request)

    def schedule_update(self, request: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole schedule ``request["schedule"]`` (AMC's PUT to
        its scheduleId; give every field it should keep); returns it.

        Raises AmcNotFound when no schedule has the id, AmcInvalidArgument as
        for ``schedule_create``. Source: amc_schedule_update; the spec's
        updateSchedule.
        """
        return self.call("schedule_update", request)

    def schedule_delete(self, request: dict[str, Any]) -> None:
        """Deletes the schedule ``request["schedule_id"]``; AMC starts no
        more runs of it (runs already started stay).

        Raises AmcNotFound when there is none. A workflow a schedule still
        runs cannot be deleted: ``workflow_delete`` raises AmcConflict naming
        the schedule. Source: amc_schedule_delete; the spec's deleteSchedule.
        """
        self.call("schedule_delete", request)

    def auth_import(self, credential_id: str, refresh_token: str) -> None:
        request = {"credential_id": credential_id, "refresh_token": refresh_token}
        _check(library().amc_auth_import(self._native(), _encode(request)))

    def auth_refresh(self, credential_id: str, timeout_ms: int | None = None) -> dict[str, Any]:
        handle = self._native()
        request = {"timeout_ms": timeout_ms} if timeout_ms is not None else None
        credential = c_text(credential_id, "the credential id")
        result: dict[str, Any] = _json_out(
            lambda out: library().amc_auth_refresh(handle, credential, _encode(request), ctypes.byref(out))
        )
        return result

    def auth_status(self, credential_id: str) -> dict[str, Any]:
        handle = self._native()
        credential = c_text(credential_id, "the credential id")
        result: dict[str, Any] = _json_out(
            lambda out: library().amc_auth_status(handle, credential, ctypes.byref(out))
        )
        return result

    def metrics(self) -> dict[str, Any]:
        handle = self._native()
        result: dict[str, Any] = _json_out(
            lambda out: library().amc_client_metrics(handle, ctypes.byref(out))
        )
        return result

    def execution_wait(
        self,
        request: dict[str, Any],
        *,
        cancel: CancelToken | None = None,
        progress: ProgressHandler | None = None,
    ) -> dict[str, Any]:
        """Blocks until the execution is SUCCEEDED (returned) or FAILED,
        CANCELLED, REJECTED (AmcExecutionFailed with AMC's reason)."""
        errors: list[BaseException] = []
        callback = _progress_callback(progress, errors)  # alive for the whole call
        handle = self._native()
        token = cancel.handle if cancel is not None else None
        try:
            result: dict[str, Any] = _json_out(
                lambda out: library().amc_execution_wait(
                    handle, _encode(request), token, callback, None, ctypes.byref(out)
                )
            )
        finally:
            if errors:
                raise errors[0]
        return result

    def results_download(
        self, request: dict[str, Any], *, progress: ProgressHandler | None = None
    ) -> dict[str, Any]:
        """Downloads every result part into request["directory"] and returns
        the manifest (file paths, bytes, rows; never the rows themselves)."""
        errors: list[BaseException] = []
        callback = _progress_callback(progress, errors)
        handle = self._native()
        try:
            result: dict[str, Any] = _json_out(
                lambda out: library().amc_results_download(
                    handle, _encode(request), callback, None, ctypes.byref(out)
                )
            )
        finally:
            if errors:
                raise errors[0]
        return result

    # -- data sources, the pre-flight check, the ad-hoc quota (libamc 1.2) ----
    def data_source_list(self, request: dict[str, Any]) -> dict[str, Any]:
        """The instance's data sources (the tables its SQL can read), every
        page of AMC's listDataSources.

        ``request``: ``{"credential_id", "instance": {"instance_id",
        "advertiser_id", "marketplace_id"}, "filter": "dsp_"}`` (``filter``
        optional: keep the sources whose ``dataSourceId`` contains it, any
        case). Returns ``{"dataSources": [DataSource, ...]}``, AMC's objects
        (``dataSourceId``, ``description``, ``columns``, ...; Amazon's
        workflow-management spec). Raises ``AmcInvalidArgument`` for a bad
        request, ``AmcForbidden``/``AmcAuthRequired`` as every AMC call."""
        return self.call("data_source_list", request)

    def data_source_get(self, request: dict[str, Any]) -> dict[str, Any]:
        """One data source with all of its columns (AMC's getDataSource).

        ``request``: as ``data_source_list`` with ``"data_source_id":
        "dsp_impressions"`` instead of ``filter``. Returns AMC's DataSource,
        flat; ``"columns"`` is ``[{"name", "columnType": "DIMENSION" |
        "METRIC", "description"}, ...]``, joined from every page when the
        table has more than the 500 columns AMC's spec allows in one reply.
        Raises ``AmcNotFound`` when the instance has no such data source."""
        return self.call("data_source_get", request)

    def workflow_validate(self, request: dict[str, Any]) -> dict[str, Any]:
        """The pre-flight check (amc_workflow_validate): proves a run would
        compile before any quota is spent.

        ``request``: ``{"credential_id", "instance", "request": {...}}`` with
        AMC's CreateWorkflowExecutionRequest, as for ``execution_submit``
        (``"workflowId"`` or ``"workflow": {"sqlQuery": ...}``). Every table
        the SQL reads is looked up in the instance's data sources, and AMC
        compiles the request in a dry run (``dryRun``: AMC's spec says it
        uses no quota). Returns ``{"valid": True, "tables": [...],
        "unknown_tables": [], "compile_error": None, "dry_run": {...}}``.
        Raises ``AmcInvalidArgument`` when the check fails: its message names
        each unknown table with the closest existing name and AMC's compile
        error with its line, and ``detail["preflight"]`` holds the same
        report (``unknown_tables``: ``[{"table", "line", "closest"}]``,
        ``compile_error``: ``{"message", "line"}``)."""
        return self.call("workflow_validate", request)

    def adhoc_quota(self, request: dict[str, Any]) -> dict[str, Any]:
        """Today's ad-hoc runs of the instance, counted from AMC's own list
        of executions (created since 00:00 UTC, all pages).

        ``request``: ``{"credential_id", "instance"}``. Returns
        ``{"instance_id", "adhoc_executions_today", "adhoc_limit": 30,
        "adhoc_remaining", "day_start", "resets_at"}`` (times ISO 8601 UTC).
        AMC allows 30 ad-hoc runs per instance per UTC day (its
        workflow-management spec); the run after that fails with
        ``AmcAdhocQuotaExceeded``. Saved workflows do not use this quota."""
        return self.call("adhoc_quota", request)

    # -- life cycle ---------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
            self._closed = True
            if handle is not None and self._pid == os.getpid():
                library().amc_client_free(handle)
            self._log_callback = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@contextmanager
def client(config: dict[str, Any]) -> Iterator[Client]:
    """``with client(config) as amc: ...`` - a client closed at the end."""
    native = Client(config)
    try:
        yield native
    finally:
        native.close()

"""Access tokens shared across Airflow workers and triggerers through an
Airflow Variable (libamc's host store callbacks, amc_store_callbacks in
amc.h).

By default (connection extra ``token_sharing`` absent or ``"process"``)
each process keeps libamc's store in a local file: the refresh token comes
from the connection, and each machine refreshes its own access token
(processes on one machine share the file, and refresh once between them).

With ``token_sharing: "variable"``, the store's one document lives in the
Variable ``amc_store__<connection id>`` (override: ``token_variable``). It is
the same sealed JSON a file store holds (tokens Fernet-encrypted with
Airflow's ``[core] fernet_key``), so every worker and triggerer on every
machine uses one access token per credential and one of them refreshes it
when it expires.

Locks. libamc asks for named locks ("document" around every change,
"refresh:<credential>" around a refresh). A Variable has no atomic
compare-and-set, so a lock is a lease: a Variable ``<variable>__lock__<name>``
holding an owner and an expiry; a taker writes its lease if none is live,
waits ``SETTLE_SECONDS`` and reads it back: it holds the lock only if its
own lease is still there. Two takers that write within the settle time of
each other both see the later lease, so only one of them wins; a lease
expires after ``LEASE_SECONDS`` if its holder died. This is enough for
what it guards: a second refresh is harmless (LwA's refresh grant consumes
nothing), only wasteful.
"""

from __future__ import annotations

import ctypes
import json
import threading
import time
import uuid
from typing import Any

from libamc.binding import (
    STORE_READ,
    STORE_TRY_LOCK,
    STORE_UNLOCK,
    STORE_WRITE,
    USER_DESTRUCTOR,
    Client,
    StoreCallbacks,
    _check,
    c_text,
    library,
)

LEASE_SECONDS = 30.0
SETTLE_SECONDS = 0.2


class VariableDocument:
    """The store document and its leases in Airflow Variables. Its methods
    run on libamc's threads; a failure returns a non-zero status to libamc
    (which reports AMC_E_STORE) and never unwinds into C."""

    def __init__(self, variable: str) -> None:
        self.variable = variable
        self.owner = uuid.uuid4().hex
        self.failures: list[str] = []
        # Kept alive with this object: the library holds them until the
        # client is freed.
        self.callbacks = StoreCallbacks(
            ctypes.sizeof(StoreCallbacks),
            None,
            STORE_READ(self._read),
            STORE_WRITE(self._write),
            STORE_TRY_LOCK(self._try_lock),
            STORE_UNLOCK(self._unlock),
            USER_DESTRUCTOR(),
        )

    # Airflow's Variable, imported late: this module is importable without Airflow.
    @staticmethod
    def _get(key: str) -> str | None:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
        return None if value is None else str(value)

    @staticmethod
    def _set(key: str, value: str) -> None:
        from airflow.sdk import Variable

        Variable.set(key, value)

    @staticmethod
    def _delete(key: str) -> None:
        from airflow.sdk import Variable

        Variable.delete(key)

    def _failed(self, what: str, problem: BaseException) -> int:
        # The message names the Variable, never its value.
        self.failures.append(f"{what} of Variable {self.variable!r}: {type(problem).__name__}")
        return 1

    def _read(self, _user: int | None, put: Any, sink: int | None) -> int:
        try:
            text = self._get(self.variable)
            if text:
                put(sink, c_text(text, f"Variable {self.variable!r}"))
            return 0
        except Exception as problem:
            return self._failed("read", problem)

    def _write(self, _user: int | None, document: bytes | None) -> int:
        try:
            self._set(self.variable, (document or b"").decode("utf-8"))
            return 0
        except Exception as problem:
            return self._failed("write", problem)

    def _lock_key(self, name: bytes | None) -> str:
        return f"{self.variable}__lock__{(name or b'').decode('utf-8')}"

    def _lease(self, key: str) -> dict[str, Any] | None:
        text = self._get(key)
        try:
            lease = json.loads(text) if text else None
        except ValueError:
            return None
        return lease if isinstance(lease, dict) else None

    def _try_lock(self, _user: int | None, name: bytes | None) -> int:
        key = self._lock_key(name)
        try:
            lease = self._lease(key)
            if lease and lease.get("owner") != self.owner and float(lease.get("until", 0)) > time.time():
                return 0
            self._set(key, json.dumps({"owner": self.owner, "until": time.time() + LEASE_SECONDS}))
            time.sleep(SETTLE_SECONDS)
            lease = self._lease(key)
            return 1 if lease and lease.get("owner") == self.owner else 0
        except Exception as problem:
            self._failed("lock", problem)
            return -1

    def _unlock(self, _user: int | None, name: bytes | None) -> None:
        key = self._lock_key(name)
        try:
            lease = self._lease(key)
            if lease and lease.get("owner") == self.owner:
                self._delete(key)
        except Exception as problem:
            self._failed("unlock", problem)


class SharedStoreClient(Client):
    """A binding Client whose store lives in an Airflow Variable
    (amc_client_new_with_store). After a fork the child makes its own native
    client on the same Variable, like any Client."""

    def __init__(self, config: dict[str, Any], variable: str) -> None:
        self.document = VariableDocument(variable)
        self._new_lock = threading.Lock()
        super().__init__(config)

    def _new_native(self, config_json: bytes | None) -> ctypes.c_void_p:
        out = ctypes.c_void_p()
        _check(
            library().amc_client_new_with_store(
                config_json, ctypes.byref(self.document.callbacks), ctypes.byref(out)
            )
        )
        return out


def store_variable(conn_id: str, configured: str | None) -> str:
    """The Variable that holds a connection's shared store."""
    return configured or f"amc_store__{conn_id}"

"""AmcHook: the ``amc`` connection turned into one native libamc client per
process.

The connection holds the LwA client (login / password), the refresh token
(a password-format extra field), the region and the AMC instance. In
Airflow 3 tasks and triggers cannot write Connections, so the refresh token
stays there read-only: the hook imports it into libamc's encrypted file store
(credential id = the connection id) and each process refreshes its own access
token; processes that share the store file share the cached access token and
refresh it once between them (libamc's per-credential file lock). The store
is encrypted with Airflow's own ``[core] fernet_key`` (or ``AMC_FERNET_KEYS``).
It also holds libamc's execution journal, the second guard against a second
AMC run when a task is retried.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from airflow.sdk import BaseHook, Connection
from libamc.binding import CancelToken, Client
from libamc.exceptions import AmcConfigError, AmcError, AmcNotFound

from libamc_airflow import connection_errors
from libamc_airflow.hooks.amc_objects import (
    AmcAccount,
    AmcExecution,
    AmcInstance,
    ResultManifest,
    SubmittedExecution,
    WorkflowSync,
)

# (connection id, configuration digest) -> client, for this process. The
# binding's Client makes a fresh native client after a fork by itself.
_clients: dict[tuple[str, str], Client] = {}
_clients_lock = threading.Lock()

_FIELDS = (
    "refresh_token",
    "region",
    "instance_id",
    "advertiser_id",
    "marketplace_id",
    "amc_endpoint",
    "lwa_token_endpoint",
    "lwa_consent_endpoint",
    "ca_file",
    "store_path",
    "token_sharing",
    "token_variable",
)


def _mask(value: str | None) -> None:
    if value:
        from airflow.sdk.log import mask_secret

        mask_secret(value)


def _fernet_keys() -> str:
    keys = os.environ.get("AMC_FERNET_KEYS", "")
    if keys:
        return keys
    from airflow.configuration import conf

    keys = str(conf.get("core", "fernet_key", fallback="") or "")
    if not keys:
        raise AmcError(
            "libamc keeps tokens encrypted and needs a Fernet key: set Airflow's [core] fernet_key "
            "(AIRFLOW__CORE__FERNET_KEY) or AMC_FERNET_KEYS"
        )
    return keys


def _default_store_path() -> str:
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return str(Path(home) / "amc" / "credentials.json")


class AmcHook(BaseHook):
    """Interact with Amazon Marketing Cloud through libamc.

    :param amc_conn_id: the ``amc`` connection (default ``amc_default``).
    """

    conn_name_attr = "amc_conn_id"
    default_conn_name = "amc_default"
    conn_type = "amc"
    hook_name = "Amazon Marketing Cloud (libamc)"

    def __init__(self, amc_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.amc_conn_id = amc_conn_id
        self._connection: Connection | None = None

    # -- the connection -------------------------------------------------------
    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.get_connection(self.amc_conn_id)
        return self._connection

    @staticmethod
    def field(connection: Connection, name: str) -> str | None:
        """An extra field, stored plain or with the form's extra__amc__ prefix."""
        extra = connection.extra_dejson
        value = extra.get(name, extra.get(f"extra__amc__{name}"))
        return str(value) if value not in (None, "") else None

    @classmethod
    def instance_of(cls, connection: Connection) -> dict[str, str]:
        """The instance part of every AMC request, from the connection."""
        instance = {
            "instance_id": cls.field(connection, "instance_id"),
            "advertiser_id": cls.field(connection, "advertiser_id"),
            "marketplace_id": cls.field(connection, "marketplace_id"),
        }
        missing = [name for name, value in instance.items() if not value]
        if missing:
            raise connection_errors.missing_instance(str(connection.conn_id), missing)
        return {name: str(value) for name, value in instance.items()}

    @property
    def instance(self) -> dict[str, str]:
        return self.instance_of(self.connection)

    @property
    def credential_id(self) -> str:
        return self.amc_conn_id

    @classmethod
    def client_config(cls, connection: Connection) -> dict[str, Any]:
        """amc_client_new's configuration for this connection (see amc.h)."""
        if not connection.login or not connection.password:
            raise connection_errors.missing_client(
                str(connection.conn_id), login=not connection.login, password=not connection.password
            )
        _mask(connection.password)
        config: dict[str, Any] = {
            "region": cls.field(connection, "region") or "na",
            "lwa": {"client_id": connection.login, "client_secret": connection.password},
            "store": {
                "kind": "file",
                "path": cls.field(connection, "store_path") or _default_store_path(),
                "fernet_keys": _fernet_keys(),
            },
        }
        if cls.shares_tokens(connection):
            # The document lives in an Airflow Variable (libamc_airflow.shared_tokens).
            config["store"] = {"kind": "host", "fernet_keys": _fernet_keys()}
        endpoints = {
            key: value
            for key, name in (
                ("amc", "amc_endpoint"),
                ("lwa_token", "lwa_token_endpoint"),
                ("lwa_consent", "lwa_consent_endpoint"),
            )
            if (value := cls.field(connection, name))
        }
        if endpoints:
            config["endpoints"] = endpoints
        if ca_file := cls.field(connection, "ca_file"):
            config["tls"] = {"ca_file": ca_file}
        return config

    @classmethod
    def shares_tokens(cls, connection: Connection) -> bool:
        """Extra ``token_sharing``: "process" (default: a store file per
        machine) or "variable" (one store in an Airflow Variable for every
        worker and triggerer; see libamc_airflow.shared_tokens)."""
        sharing = cls.field(connection, "token_sharing") or "process"
        if sharing not in ("process", "variable"):
            raise connection_errors.bad_choice(
                str(connection.conn_id), "token_sharing", sharing, ("process", "variable")
            )
        return sharing == "variable"

    # -- the client -------------------------------------------------------------
    @classmethod
    def client_for(cls, connection: Connection) -> Client:
        """The process's client for this connection, made (and the refresh
        token imported into its store) on first use."""
        config = cls.client_config(connection)
        refresh_token = cls.field(connection, "refresh_token")
        _mask(refresh_token)
        digest = hashlib.sha256(json.dumps([config, refresh_token], sort_keys=True).encode()).hexdigest()
        key = (str(connection.conn_id), digest)
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                if cls.shares_tokens(connection):
                    from libamc_airflow.shared_tokens import SharedStoreClient, store_variable

                    variable = store_variable(
                        str(connection.conn_id), cls.field(connection, "token_variable")
                    )
                    client = SharedStoreClient(config, variable)
                else:
                    Path(config["store"]["path"]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                    client = Client(config)
                if refresh_token:
                    client.auth_import(str(connection.conn_id), refresh_token)
                else:
                    try:
                        cls._check_stored_grant(client, str(connection.conn_id))
                    except AmcError:
                        client.close()
                        raise
                _clients[key] = client
            return client

    @staticmethod
    def _check_stored_grant(client: Client, conn_id: str) -> None:
        """Without a refresh token in the connection, libamc's token store
        must hold one for it (put there by ``amcctl auth login``, say); if
        not, say so in the connection's terms now, before any call to LwA
        or AMC (libamc's own error would name its tools, and be retried)."""
        try:
            status = client.auth_status(conn_id)
        except AmcNotFound:
            raise connection_errors.missing_refresh_token(conn_id) from None
        if not status.get("has_refresh_token", True):
            raise connection_errors.missing_refresh_token(conn_id)

    def get_conn(self) -> Client:
        return self.client_for(self.connection)

    def request(self, **fields: Any) -> dict[str, Any]:
        """An AMC request with this connection's credential and instance."""
        return {"credential_id": self.credential_id, "instance": self.instance, **fields}

    # -- schedules: AMC runs a saved workflow on its own ------------------------------
    # The connection's credential and instance, and libamc's schedule calls
    # (libamc.binding.Client.schedule_*; Amazon's createSchedule ...
    # deleteSchedule). A schedule is AMC's Schedule object: {"scheduleId",
    # "workflowId", "aggregationPeriod": "Daily" | "Weekly",
    # "aggregationHourUtc": 0-23 (UTC), "aggregationStartDay",
    # "scheduleEnabled", ...}; every answer is that object, flat.

    def create_schedule(self, schedule: dict[str, Any]) -> dict[str, Any]:
        """Creates ``schedule`` in the connection's instance and returns it.
        Raises libamc's AmcConflict when its scheduleId exists,
        AmcInvalidArgument for a bad field or a workflow AMC does not have."""
        return self.get_conn().schedule_create(self.request(schedule=schedule))

    def get_schedule(self, schedule_id: str) -> dict[str, Any]:
        """The schedule ``schedule_id``; AmcNotFound when there is none."""
        return self.get_conn().schedule_get(self.request(schedule_id=schedule_id))

    def list_schedules(self) -> list[dict[str, Any]]:
        """Every schedule of the connection's instance (all of AMC's pages)."""
        return list(self.get_conn().schedule_list(self.request()).get("schedules", []))

    def update_schedule(self, schedule: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole schedule named by ``schedule["scheduleId"]``
        (AMC's update); returns it. AmcNotFound when there is none."""
        return self.get_conn().schedule_update(self.request(schedule=schedule))

    def delete_schedule(self, schedule_id: str) -> None:
        """Deletes the schedule ``schedule_id``; AmcNotFound when there is none."""
        self.get_conn().schedule_delete(self.request(schedule_id=schedule_id))

    # -- Airflow's connection test ------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Refreshes the access token and reads the instance's workflows."""
        try:
            client = self.get_conn()
            client.auth_refresh(self.credential_id)
            listing = client.workflow_list(self.request())
            return True, (
                f"AMC instance {self.instance['instance_id']} answered: "
                f"{len(listing.get('workflows', []))} workflows"
            )
        except AmcError as problem:
            return False, connection_errors.explain(self.amc_conn_id, problem)

    # -- typed AMC operations ------------------------------------------------------
    # Keyword arguments in, typed records out: what a DAG author calls (the
    # operators call the same operations). get_conn()'s dict-in/dict-out
    # client stays as it is. ``instance`` overrides the connection's instance
    # (keys instance_id, advertiser_id, marketplace_id), as the operators'
    # argument of that name does.
    def instance_for(self, instance: Mapping[str, str] | None = None) -> dict[str, str]:
        """The instance a call goes to: the connection's, with ``instance``'s
        keys over it (an override with all three keys needs none from the
        connection)."""
        override = {key: str(value) for key, value in (instance or {}).items() if value}
        if all(override.get(key) for key in ("instance_id", "advertiser_id", "marketplace_id")):
            return override
        return {**self.instance, **override}

    def _request(self, instance: Mapping[str, str] | None, **fields: Any) -> dict[str, Any]:
        return {"credential_id": self.credential_id, "instance": self.instance_for(instance), **fields}

    def list_accounts(self) -> list[AmcAccount]:
        """Every AMC account the connection's grant reaches (all pages of
        ``GET /amc/accounts``); an account's ``account_id`` is the
        ``advertiser_id`` of its instances."""
        listing = self.get_conn().accounts_list({"credential_id": self.credential_id})
        return [AmcAccount.from_amc(account) for account in listing.get("accounts", [])]

    def list_instances(
        self, advertiser_id: str | None = None, marketplace_id: str | None = None
    ) -> list[AmcInstance]:
        """Every AMC instance of one account (all pages of ``GET
        /amc/instances``): by default the connection's ``advertiser_id`` and
        ``marketplace_id``; an account of ``list_accounts()`` gives both."""
        connection = self.connection
        advertiser = advertiser_id or self.field(connection, "advertiser_id")
        marketplace = marketplace_id or self.field(connection, "marketplace_id")
        if not advertiser or not marketplace:
            raise AmcConfigError(
                f"listing AMC instances needs an advertiser (entity) id and a marketplace id: pass "
                f"advertiser_id and marketplace_id (an account of list_accounts() has both), or set "
                f"them in the connection {self.amc_conn_id!r}"
            )
        listing = self.get_conn().instances_list(
            {"credential_id": self.credential_id, "advertiser_id": advertiser, "marketplace_id": marketplace}
        )
        return [
            AmcInstance(
                instance_id=str(item.get("instanceId") or ""),
                instance_name=str(item.get("instanceName") or ""),
                advertiser_id=advertiser,
                marketplace_id=marketplace,
                amc=dict(item),
            )
            for item in listing.get("instances", [])
        ]

    def list_workflows(self, *, instance: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The instance's saved workflows (AMC's Workflow objects), all pages."""
        listing = self.get_conn().workflow_list(self._request(instance))
        return list(listing.get("workflows", []))

    def sync_workflow(
        self,
        workflow_id: str,
        sql: str,
        *,
        workflow: Mapping[str, Any] | None = None,
        instance: Mapping[str, str] | None = None,
    ) -> WorkflowSync:
        """Creates the saved workflow, updates it when it differs, or leaves
        it; ``workflow`` holds more fields of AMC's Workflow object."""
        definition = {**(workflow or {}), "workflowId": workflow_id, "sqlQuery": sql}
        result = self.get_conn().workflow_sync(self._request(instance, workflow=definition))
        return WorkflowSync(workflow_id=workflow_id, action=str(result.get("action") or ""))

    def submit_execution(
        self, execution_id: str, request: Mapping[str, Any], *, instance: Mapping[str, str] | None = None
    ) -> SubmittedExecution:
        """Starts an AMC run of AMC's CreateWorkflowExecutionRequest
        ``request``; ``execution_id`` is the idempotency key: submitting it
        again gives back the run it started (``reattached``)."""
        submitted = self.get_conn().execution_submit(
            self._request(instance, execution_id=execution_id, request=dict(request))
        )
        return SubmittedExecution(
            execution_id=str(submitted["execution_id"]),
            amc_execution_id=str(submitted["amc_execution_id"]),
            reattached=bool(submitted.get("reattached")),
        )

    def get_execution(
        self, amc_execution_id: str, *, instance: Mapping[str, str] | None = None
    ) -> AmcExecution:
        """The execution as AMC reports it now (AmcNotFound when AMC does not know it)."""
        execution = self.get_conn().execution_get(self._request(instance, amc_execution_id=amc_execution_id))
        return cast(AmcExecution, execution)

    def wait_execution(
        self,
        amc_execution_id: str,
        *,
        timeout: timedelta = timedelta(hours=24),
        poll_interval: float = 30.0,
        cancel: CancelToken | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
        instance: Mapping[str, str] | None = None,
    ) -> AmcExecution:
        """Blocks until the run is SUCCEEDED (returned); FAILED, CANCELLED or
        REJECTED raise AmcExecutionFailed with AMC's reason, ``timeout``
        AmcTimeout. Reads start every few seconds and grow to
        ``poll_interval`` seconds; ``cancel`` stops the wait from another
        thread; ``progress`` gets libamc's status events."""
        request = self._request(
            instance,
            amc_execution_id=amc_execution_id,
            timeout_ms=int(timeout.total_seconds() * 1000),
            first_poll_ms=int(min(poll_interval, 5.0) * 1000),
            max_poll_ms=int(poll_interval * 1000),
        )
        execution = self.get_conn().execution_wait(request, cancel=cancel, progress=progress)
        return cast(AmcExecution, execution)

    def cancel_execution(
        self, amc_execution_id: str, *, instance: Mapping[str, str] | None = None
    ) -> AmcExecution:
        """Cancels a PENDING or RUNNING run; returns the execution as AMC
        reports it afterwards."""
        execution = self.get_conn().execution_cancel(
            self._request(instance, amc_execution_id=amc_execution_id)
        )
        return cast(AmcExecution, execution)

    def download_results(
        self, amc_execution_id: str, directory: str, *, instance: Mapping[str, str] | None = None
    ) -> ResultManifest:
        """Downloads every result part of a SUCCEEDED run into ``directory``
        (made if missing) as part-1.csv, part-2.csv, ...; returns the
        manifest (paths, bytes, rows, columns; never the rows)."""
        manifest = self.get_conn().results_download(
            self._request(instance, amc_execution_id=amc_execution_id, directory=directory)
        )
        return cast(ResultManifest, manifest)

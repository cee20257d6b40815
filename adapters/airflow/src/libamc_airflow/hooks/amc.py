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
from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook, Connection
from libamc.binding import Client
from libamc.exceptions import AmcError, AmcNotFound

from libamc_airflow import connection_errors

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

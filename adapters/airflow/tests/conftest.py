"""Fixtures for the provider's tests in real Airflow 3.3 against the bundled
amc-sandbox (HTTPS, its own test CA, time scale 600, three instances of one
advertiser).

Environment (adapters/airflow/test.sh sets it):
  AMC_SANDBOX    the amc-sandbox program (default build/release/src/sandbox/amc-sandbox)
  AIRFLOW_HOME   a temporary Airflow home whose SQLite DB `airflow db migrate` made
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pathlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from libamc.binding import Client
from libamc.sandbox import Sandbox

REPO = pathlib.Path(__file__).resolve().parents[3]
HERE = pathlib.Path(__file__).resolve().parent
SANDBOX = pathlib.Path(
    os.environ.get("AMC_SANDBOX") or REPO / "build" / "release" / "src" / "sandbox" / "amc-sandbox"
)
ADVERTISER = "ENTITY1AIRFLOW01"
INSTANCES = ["amcairflow01", "amcairflow02", "amcairflow03"]
MARKETPLACE = "ATVPDKIKX0DER"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    assert SANDBOX.exists(), f"{SANDBOX} is not built (set AMC_SANDBOX)"
    config = {
        "accounts": [{"accountId": ADVERTISER, "accountName": "Airflow tests", "marketplaceId": MARKETPLACE}],
        "instances": [
            {"instanceId": name, "instanceName": name, "entityId": ADVERTISER, "marketplaceId": MARKETPLACE}
            for name in INSTANCES
        ],
    }
    # The libamc distribution's runner (libamc.sandbox), on this program.
    os.environ["AMC_SANDBOX"] = str(SANDBOX)
    with Sandbox.start(tmp_path_factory.mktemp("sandbox"), config=config) as running:
        yield running


@pytest.fixture(autouse=True)
def no_log_handler_on_a_closed_stream() -> None:
    """A DAG run in this process leaves Airflow's console handler on the
    stream pytest captured for that test, closed once it ended (the next DAG
    run sets up its own). libamc's lines reach ``logging``, so a test in
    between that makes a client would print "--- Logging error ---" for each
    of them: such handlers, which can never write again, are dropped."""
    for handler in list(logging.root.handlers):
        stream = getattr(handler, "stream", None)
        if stream is not None and getattr(stream, "closed", False):
            logging.root.removeHandler(handler)


def fernet_key() -> str:
    """A fresh key, made at test time (never committed)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="session")
def airflow_key() -> str:
    return fernet_key()


def sandbox_client(sandbox: Sandbox, credential_id: str) -> Client:
    """A libamc client of the test's own on the sandbox (memory store, fresh
    key), with a new grant imported as ``credential_id``: for checking what
    a DAG did from the side."""
    summary = sandbox.summary
    client = Client(
        {
            "endpoints": {"amc": summary["url"], "lwa_token": summary["token_url"]},
            "lwa": {
                "client_id": summary["client_id"],
                "client_secret": (sandbox.directory / "client_secret").read_text(),
            },
            "tls": {"ca_file": summary["ca_file"]},
            "store": {"kind": "memory", "fernet_keys": fernet_key()},
        }
    )
    client.auth_import(credential_id, sandbox.new_grant())
    return client


def connection_json(sandbox: Sandbox, refresh_token: str, store: pathlib.Path) -> str:
    summary = sandbox.summary
    return json.dumps(
        {
            "conn_type": "amc",
            "login": summary["client_id"],
            "password": (sandbox.directory / "client_secret").read_text(),
            "extra": {
                "refresh_token": refresh_token,
                "instance_id": INSTANCES[0],
                "advertiser_id": ADVERTISER,
                "marketplace_id": MARKETPLACE,
                "amc_endpoint": summary["url"],
                "lwa_token_endpoint": summary["token_url"],
                "lwa_consent_endpoint": summary["consent_url"],
                "ca_file": summary["ca_file"],
                "store_path": str(store),
            },
        }
    )


@pytest.fixture
def airflow_env(sandbox: Sandbox, airflow_key: str, tmp_path: pathlib.Path) -> dict[str, str]:
    """The environment of a DAG run: a fresh grant in the amc_default
    connection (read-only, from the environment, as Airflow 3 tasks see
    connections), Airflow's Fernet key, the result directory Variable."""
    assert os.environ.get("AIRFLOW_HOME"), "run through adapters/airflow/test.sh (AIRFLOW_HOME, db migrate)"
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_CONN_AMC_DEFAULT": connection_json(
                sandbox, sandbox.new_grant(), tmp_path / "amc" / "store.json"
            ),
            "AIRFLOW__CORE__FERNET_KEY": airflow_key,
            "AIRFLOW_VAR_AMC_RESULTS_DIR": str(tmp_path / "results"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
    )
    env.pop("AMC_FERNET_KEYS", None)
    return env


@pytest.fixture
def run_dag(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., dict[str, Any]]:
    """Runs one DAG (see run_dag.py for the modes: dag.test(), a retry of a
    killed task, a clear) and returns its summary plus the output as
    "output". In this process by default (Airflow's in-process API is built
    once); in a process of its own with ``separate_process=True`` (for a
    task process that must die)."""

    def run(
        env: dict[str, str],
        dag_id: str,
        *,
        mode: str = "test",
        task_id: str | None = None,
        conf: dict[str, Any] | None = None,
        logical_date: str | None = "2026-03-10T00:00:00+00:00",
        extra_env: dict[str, str] | None = None,
        separate_process: bool = False,
    ) -> dict[str, Any]:
        # logical_date None: a manual run without one, as `airflow dags trigger` makes by default.
        arguments = [
            mode,
            dag_id,
            logical_date or "none",
            json.dumps(conf or {}),
            *([task_id] if task_id else []),
        ]
        if separate_process:
            completed = subprocess.run(
                [sys.executable, str(HERE / "run_dag.py"), *arguments],
                env={**env, **(extra_env or {})},
                capture_output=True,
                check=False,
                text=True,
                timeout=600,
            )
            lines = [line for line in completed.stdout.splitlines() if line.startswith("DAG_TEST_SUMMARY ")]
            # The summary is one JSON document; output of another process of
            # the run (OpenLineage's forked listener) can follow it on the
            # same line, so only the document is read.
            result: dict[str, Any] = (
                json.JSONDecoder().raw_decode(lines[-1].split(" ", 1)[1])[0] if lines else {}
            )
            result["output"] = completed.stdout + completed.stderr
            result["returncode"] = completed.returncode
            return result
        for name, value in {**env, **(extra_env or {})}.items():
            if os.environ.get(name) != value:
                monkeypatch.setenv(name, value)
        import run_dag as runner

        capfd.readouterr()
        date = datetime.fromisoformat(logical_date) if logical_date else None
        result = runner.run(mode, dag_id, date, conf or {}, task_id)
        out, err = capfd.readouterr()
        result["output"] = out + err
        result["returncode"] = 0
        return result

    return run


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """AMC_PYTEST_SHARD="i/n" keeps the i-th of every n collected tests
    (1-based): the n shards of one file together run each of its tests once.
    ctest runs a long file as n tests side by side (adapters/airflow/CMakeLists.txt)."""
    shard = os.environ.get("AMC_PYTEST_SHARD")
    if not shard:
        return
    index, count = (int(part) for part in shard.split("/"))
    kept = [item for number, item in enumerate(items) if number % count == index - 1]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept

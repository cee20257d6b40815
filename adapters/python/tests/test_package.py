"""The libamc distribution as a pip user gets it (adapters/python/test.sh
installs the wheel into a fresh venv without Airflow): the top-level API
through a submit -> wait -> results flow, blocking and awaited on the native
poller; the version from amc.h; the amc-sandbox console script."""

from __future__ import annotations

import asyncio
import json
import os
import importlib.metadata
import importlib.util
import pathlib
import queue
import re
import shutil
import subprocess
import sys
import time

import pytest
from conftest import ADVERTISER, INSTANCES, MARKETPLACE, REPO, Sandbox, client_config

import libamc

INSTANCE = {"instance_id": INSTANCES[1], "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}


def test_this_venv_has_no_airflow() -> None:
    assert importlib.util.find_spec("airflow") is None
    assert importlib.util.find_spec("libamc_airflow") is None


def test_the_version_is_amc_hs() -> None:
    header = (REPO / "include" / "amc" / "amc.h").read_text()
    parts = [re.search(rf"^#define AMC_VERSION_{part} (\d+)$", header, re.M) for part in ("MAJOR", "MINOR", "PATCH")]
    expected = ".".join(match.group(1) for match in parts if match)
    assert libamc.__version__ == importlib.metadata.version("libamc") == expected
    assert libamc.version() == expected


def test_submit_wait_results(sandbox: Sandbox, tmp_path: pathlib.Path) -> None:
    with libamc.client(client_config(sandbox, tmp_path / "store.json")) as amc:
        amc.auth_import("me", sandbox.new_grant())
        assert amc.auth_status("me")["credential_id"] == "me"
        run = {"credential_id": "me", "instance": INSTANCE, "execution_id": "python_flow_1"}
        submitted = amc.execution_submit(
            {**run, "request": {"workflow": {"sqlQuery": "-- sandbox: duration=1m parts=2 rows=7\nSELECT 1"}}}
        )
        done = amc.execution_wait({**run, "first_poll_ms": 100, "max_poll_ms": 200})
        assert done["status"] == "SUCCEEDED" and done["workflowExecutionId"] == submitted["amc_execution_id"]
        manifest = amc.results_download({**run, "directory": str(tmp_path / "out")})
    assert manifest["total_rows"] == 7 and len(manifest["files"]) == 2
    assert all(pathlib.Path(part["path"]).is_file() for part in manifest["files"])


def test_wait_async_on_the_native_poller(sandbox: Sandbox, tmp_path: pathlib.Path) -> None:
    with libamc.client(client_config(sandbox, tmp_path / "store.json")) as amc:
        amc.auth_import("me", sandbox.new_grant())
        submitted = [
            amc.execution_submit(
                {
                    "credential_id": "me",
                    "instance": INSTANCE,
                    "execution_id": f"python_async_{n}",
                    "request": {"workflow": {"sqlQuery": sql}},
                }
            )
            for n, sql in enumerate(
                ["-- sandbox: duration=1m\nSELECT 1", "-- sandbox: duration=1m fail \"Table x_missing does not exist\"\nSELECT 1"]
            )
        ]
        with libamc.Poller(amc, {"first_interval_ms": 100, "max_interval_ms": 200, "min_interval_ms": 50}) as poller:

            async def both() -> list[dict[str, object] | BaseException]:
                waits = [
                    libamc.wait_async(
                        poller,
                        {"credential_id": "me", "instance": INSTANCE, "amc_execution_id": run["amc_execution_id"]},
                    )
                    for run in submitted
                ]
                return await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 60)

            succeeded, failed = asyncio.run(both())
    assert isinstance(succeeded, dict) and succeeded["status"] == "SUCCEEDED"
    assert isinstance(failed, libamc.AmcExecutionFailed)
    assert failed.detail["execution"]["status"] == "FAILED"


def test_wait_async_raises_the_typed_error_of_a_watch_that_cannot_end(
    sandbox: Sandbox, tmp_path: pathlib.Path
) -> None:
    with libamc.client(client_config(sandbox, tmp_path / "store.json")) as amc:
        amc.auth_import("me", sandbox.new_grant())
        with libamc.Poller(amc, {"first_interval_ms": 50, "min_interval_ms": 50}) as poller:
            missing = {
                "credential_id": "me",
                "instance": INSTANCE,
                "amc_execution_id": "00000000-0000-4000-8000-000000000000",
            }
            with pytest.raises(libamc.AmcNotFound):
                asyncio.run(asyncio.wait_for(libamc.wait_async(poller, missing), 60))


def test_watch_workflow_reports_each_new_run_then_its_changes(sandbox: Sandbox, tmp_path: pathlib.Path) -> None:
    """A run that AMC's scheduler starts (the sandbox's admin route) after
    the watch is reported once as new, then by status to its end; a run from
    before the watch is not."""
    with libamc.client(client_config(sandbox, tmp_path / "store.json")) as amc:
        amc.auth_import("me", sandbox.new_grant())
        base = {"credential_id": "me", "instance": INSTANCE}
        workflow = {"workflowId": "py_scheduled", "sqlQuery": "-- sandbox: pending=60s duration=60s\nSELECT 1"}
        amc.workflow_create({**base, "workflow": workflow})
        scheduled = {"workflow_id": "py_scheduled", "instance_id": INSTANCE["instance_id"]}
        before = sandbox.admin("POST", "executions/scheduled", scheduled)["execution"]
        time.sleep(1.1)  # the watch starts in the next second (createTime has whole seconds)
        events: queue.Queue[dict[str, object]] = queue.Queue()
        with libamc.Poller(amc, {"first_interval_ms": 50, "max_interval_ms": 100, "min_interval_ms": 0}) as poller:
            watch_id = poller.watch_workflow("me", INSTANCE, "py_scheduled", events.put)
            run = sandbox.admin("POST", "executions/scheduled", scheduled)["execution"]
            seen = [events.get(timeout=60)]
            while not seen[-1]["execution_terminal"]:
                seen.append(events.get(timeout=60))
            assert poller.unwatch(watch_id) is True
            with pytest.raises(libamc.AmcInvalidArgument, match="workflow"):
                poller.watch_workflow("me", INSTANCE, "not a workflow id", None)
    assert before["workflowExecutionId"] != run["workflowExecutionId"]
    assert {event["amc_execution_id"] for event in seen} == {run["workflowExecutionId"]}
    assert [event["event"] for event in seen] == ["new_execution"] + ["status"] * (len(seen) - 1)
    assert seen[-1]["status"] == "SUCCEEDED" and not any(event["terminal"] for event in seen)
    assert run["executionCategory"] == "SCHEDULED"


def test_the_amc_sandbox_console_script_runs_the_bundled_program(tmp_path: pathlib.Path) -> None:
    script = shutil.which("amc-sandbox", path=str(pathlib.Path(sys.executable).parent))
    assert script, "pip did not install the amc-sandbox console script"
    bundled = libamc.sandbox.path()
    assert bundled.parent.parent == pathlib.Path(libamc.__file__).parent
    completed = subprocess.run([script, "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "--state-dir" in completed.stdout + completed.stderr


def test_licences_travel_with_the_wheel() -> None:
    files = [str(file) for file in importlib.metadata.files("libamc") or []]
    assert any(file.endswith("licenses/LICENSE") for file in files), files
    assert any(file.endswith("licenses/THIRD_PARTY_NOTICES") for file in files), files


def test_tls_trusts_ssl_cert_file_without_a_ca_file(sandbox: Sandbox, tmp_path: pathlib.Path) -> None:
    # The wheel's OpenSSL is linked in: the system CA bundle is found by
    # libamc (src/net/system_trust), SSL_CERT_FILE first, as OpenSSL does.
    code = (
        "import json, sys, libamc\n"
        "config = json.loads(sys.argv[1])\n"
        "with libamc.client(config) as amc:\n"
        "    amc.auth_import('me', sys.argv[2])\n"
        "    try:\n"
        "        amc.auth_refresh('me')\n"
        "        print('trusted')\n"
        "    except libamc.AmcError as problem:\n"
        "        print(type(problem).__name__)\n"
    )
    without_ca_file = {key: value for key, value in client_config(sandbox, tmp_path / "s.json").items() if key != "tls"}
    without_ca_file["retry"] = {"max_attempts": 1}
    outcomes = []
    for cert_file in (sandbox.summary["ca_file"], None):
        env = {name: value for name, value in os.environ.items() if name not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        if cert_file:
            env["SSL_CERT_FILE"] = cert_file
        completed = subprocess.run(
            [sys.executable, "-c", code, json.dumps(without_ca_file), sandbox.new_grant()],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=env,
        )
        outcomes.append(completed.stdout.strip() or completed.stderr)
    # With it the sandbox's test CA is trusted; without it, the system's
    # bundle is used, which does not hold the test CA.
    assert outcomes == ["trusted", "AmcTlsError"], outcomes


def test_the_wheel_carries_the_two_instance_sandbox_configuration(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`amc-sandbox --config two-instances` (docs/airflow.md, fan-out): the
    name resolves to the configuration inside the package; a file of that
    name in the working directory wins; an unknown name lists the known ones."""
    config = libamc.sandbox.bundled_config("two-instances")
    assert config.parent.parent == pathlib.Path(libamc.__file__).parent
    instances = json.loads(config.read_text())["instances"]
    assert [instance["instanceId"] for instance in instances] == ["amcsandbox01", "amcsandbox02"]
    resolve = libamc.sandbox._bundled_configs
    assert resolve(["--tls", "--config", "two-instances"]) == ["--tls", "--config", str(config)]
    assert resolve(["--config=two-instances"]) == [f"--config={config}"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "two-instances").write_text("{}")
    assert resolve(["--config", "two-instances"]) == ["--config", "two-instances"]
    with pytest.raises(FileNotFoundError, match="two-instances"):
        libamc.sandbox.bundled_config("three-instances")

"""Fan-out over AMC instances as a newcomer tries it (issue 25, points 2
and 3): the sandbox started with the two-instance configuration the libamc
wheel carries (``amc-sandbox --config two-instances``, the console script),
the connection made from its state directory as the README does, and the
example DAG ``example_amc_fan_out`` (typed ``AmcHook.list_instances``, a
mapped ``AmcRunWorkflowOperator`` with one ``download_dir``) run with
dag.test(). Each mapped task's XCom manifest is checked against the bytes on
disk: the files it lists hold exactly what AMC serves for that instance's
execution, downloaded again on the side."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import Sandbox, sandbox_client


@pytest.fixture(scope="module")
def two_instance_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """amc-sandbox as the docs start it: `amc-sandbox --tls --state-dir DIR
    --time-scale 600 --config two-instances` (the libamc wheel's console
    script, which runs AMC_SANDBOX's program with the configuration it carries)."""
    command = shutil.which("amc-sandbox")
    assert command, "the libamc wheel's amc-sandbox console script is not on PATH"
    directory = tmp_path_factory.mktemp("two-instances")
    log = open(directory / "sandbox.log", "wb")  # noqa: SIM115 (the process writes it until the end)
    process = subprocess.Popen(
        [command, "--tls", "--state-dir", str(directory), "--time-scale", "600", "--config", "two-instances"],
        stdout=log,
        stderr=log,
    )
    summary = directory / "sandbox.json"
    deadline = time.monotonic() + 30
    while not (summary.exists() and json.loads(summary.read_text() or "{}").get("url")):
        assert process.poll() is None and time.monotonic() < deadline, (directory / "sandbox.log").read_text()
        time.sleep(0.05)
    running = Sandbox(directory, process)
    yield running
    running.stop()
    log.close()


def readme_connection(sandbox: Sandbox, store: pathlib.Path) -> str:
    """The amc_default connection as step 3 of the README's "Airflow in five
    minutes" makes it from the sandbox's state directory."""
    directory, summary = sandbox.directory, sandbox.summary
    return json.dumps(
        {
            "conn_type": "amc",
            "login": summary["client_id"],
            "password": (directory / "client_secret").read_text(),
            "extra": {
                "refresh_token": (directory / "refresh_token").read_text(),
                "instance_id": summary["instance_id"],
                "advertiser_id": summary["advertiser_id"],
                "marketplace_id": summary["marketplace_id"],
                "amc_endpoint": summary["url"],
                "lwa_token_endpoint": summary["token_url"],
                "lwa_consent_endpoint": summary["consent_url"],
                "ca_file": summary["ca_file"],
                "store_path": str(store),
            },
        }
    )


def download_again(sandbox: Sandbox, result: dict[str, Any], directory: pathlib.Path) -> dict[str, Any]:
    """The execution's results fetched anew, on the side, for comparison."""
    summary = sandbox.summary
    with sandbox_client(sandbox, "check") as client:
        instance = {
            "instance_id": result["instance_id"],
            "advertiser_id": summary["advertiser_id"],
            "marketplace_id": summary["marketplace_id"],
        }
        return client.results_download(
            {
                "credential_id": "check",
                "instance": instance,
                "amc_execution_id": result["amc_execution_id"],
                "directory": str(directory),
            }
        )


def test_two_instances_keep_their_results(
    run_dag: Callable[..., dict[str, Any]],
    two_instance_sandbox: Sandbox,
    airflow_env: dict[str, str],
    tmp_path: pathlib.Path,
) -> None:
    sandbox = two_instance_sandbox
    env = {**airflow_env, "AIRFLOW_CONN_AMC_DEFAULT": readme_connection(sandbox, tmp_path / "store.json")}
    # In a process of its own: this pytest process's triggers may hold
    # amc_default as an earlier test's sandbox had it (read once a minute).
    summary = run_dag(
        env, "example_amc_fan_out", logical_date="2026-03-21T00:00:00+00:00", separate_process=True
    )
    assert summary["state"] == "success", summary["output"][-8000:]
    mapped = sorted(
        (entry for entry in summary["tasks"] if entry["task_id"] == "run_on_instance"),
        key=lambda entry: entry["map_index"],
    )
    assert [entry["map_index"] for entry in mapped] == [0, 1], mapped
    results = [entry["xcom"] for entry in mapped]
    # One AMC run per instance of the configuration, each on its own instance.
    assert sorted(result["instance_id"] for result in results) == ["amcsandbox01", "amcsandbox02"]
    created = [entry["path"].split("/")[3] for entry in sandbox.requests("createWorkflowExecution")]
    assert sorted(created) == ["amcsandbox01", "amcsandbox02"], created

    contents = []
    results_dir = pathlib.Path(airflow_env["AIRFLOW_VAR_AMC_RESULTS_DIR"])
    for result in results:
        manifest = result["manifest"]
        assert len(manifest["files"]) == 2 and manifest["total_rows"] == 20, manifest
        # The bytes on disk at each path the manifest lists are the rows AMC
        # serves for this instance's execution, not the other instance's.
        expected = download_again(sandbox, result, tmp_path / "expected" / result["instance_id"])
        on_disk = b""
        for part, fresh in zip(manifest["files"], expected["files"], strict=True):
            data = pathlib.Path(part["path"]).read_bytes()
            assert len(data) == part["bytes"], part
            assert data == pathlib.Path(fresh["path"]).read_bytes(), (result["instance_id"], part["path"])
            on_disk += data
        contents.append(on_disk)
    assert contents[0] != contents[1]
    for result in results:
        # download_dir (the same for both) / the run's own folder, holding only its parts.
        manifest = result["manifest"]
        folder = pathlib.Path(manifest["directory"])
        assert folder.parent == results_dir / "example_amc_fan_out" / summary["run_id"], folder
        assert folder.name == result["amc_execution_id"], folder
        assert sorted(os.listdir(folder)) == sorted(pathlib.Path(p["path"]).name for p in manifest["files"])
    # The report task read both manifests.
    report = next(entry for entry in summary["tasks"] if entry["task_id"] == "report")["xcom"]
    assert report == {
        result["instance_id"]: {"directory": result["manifest"]["directory"], "rows": 20}
        for result in results
    }

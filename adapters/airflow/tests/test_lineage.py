"""OpenLineage events of AMC runs: a dag.test() run with the OpenLineage
provider installed and its file transport (the OpenLineage client's own
transport that writes every event as a JSON line), checked for the SQL job
facet, AMC's execution id as external query id, and the outputs in the
namespace amc://<instance_id>. Also the facets without Airflow's listener."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import INSTANCES, Sandbox
from libamc_airflow.lineage import namespace, operator_lineage, output_names


@pytest.fixture(scope="module", autouse=True)
def ad_hoc_room(sandbox: Sandbox) -> Iterator[None]:
    """AMC allows 30 ad-hoc runs a day per instance; the session's other DAG
    tests may have used them up: this module's runs get room of their own."""
    before = sandbox.admin("GET", "settings")["adhoc_executions_per_day"]
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": 100000})
    yield
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": before})


def test_facets_of_a_run_with_downloaded_files() -> None:
    manifest = {"files": [{"path": "/data/run/part-00000.csv"}, {"path": "/data/run/part-00001.csv"}]}
    lineage = operator_lineage(
        sql="SELECT 1", instance_id="amcabc", amc_execution_id="e-1", manifest=manifest
    )
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("amc://amcabc", "e-1/part-00000.csv"),
        ("amc://amcabc", "e-1/part-00001.csv"),
    ]
    assert lineage.job_facets["sql"].query == "SELECT 1"
    external = lineage.run_facets["externalQuery"]
    assert (external.externalQueryId, external.source) == ("e-1", "amc://amcabc")
    # Without a download: the execution's result as the one output.
    assert output_names("e-1", None) == ["e-1"]
    assert namespace("amcxyz") == "amc://amcxyz"


def events_of(path: pathlib.Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for file in sorted(path.parent.glob(path.name + "*")):
        events += [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    return events


def test_openlineage_events_of_a_deferred_run(
    run_dag: Callable[..., dict[str, Any]],
    sandbox: Sandbox,
    airflow_env: dict[str, str],
    tmp_path: pathlib.Path,
) -> None:
    events_file = tmp_path / "openlineage" / "events.jsonl"
    events_file.parent.mkdir()
    sql = "-- sandbox: duration=10m\nSELECT 42"
    summary = run_dag(
        airflow_env,
        "amc_deferred_on_poller",
        conf={"sql": sql},
        logical_date="2026-04-05T00:00:00+00:00",
        extra_env={
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(events_file), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__NAMESPACE": "libamc-tests",
            "AIRFLOW__OPENLINEAGE__DISABLED": "False",
        },
        # The OpenLineage listener reads its transport once per process.
        separate_process=True,
    )
    assert summary["state"] == "success", summary["output"][-6000:]
    amc_execution_id = next(t for t in summary["tasks"] if t["task_id"] == "run")["xcom"]["amc_execution_id"]
    events = events_of(events_file)
    complete = [
        event
        for event in events
        if event.get("eventType") == "COMPLETE" and event.get("job", {}).get("name", "").endswith(".run")
    ]
    seen = "; ".join(f"{e.get('eventType')} {e.get('job', {}).get('name')}" for e in events)
    assert complete, f"no COMPLETE event of the task run among: {seen}\n{summary['output'][-4000:]}"
    event = complete[-1]
    assert event["job"]["facets"]["sql"]["query"] == sql
    external = event["run"]["facets"]["externalQuery"]
    assert external["externalQueryId"] == amc_execution_id
    assert external["source"] == f"amc://{INSTANCES[0]}"
    assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [
        (f"amc://{INSTANCES[0]}", amc_execution_id)
    ]
    text = events_file.read_text() if events_file.exists() else json.dumps(events)
    assert "Atza|" not in text and "Atzr|" not in text

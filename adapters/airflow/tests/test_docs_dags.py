"""Every DAG in the docs runs as written on Airflow 3.3.

The DAG code blocks of README.md, adapters/airflow/README.md and docs/*.md
are marked with an HTML comment on the line before them:

    <!-- example-dag dag_id=my_amc run=manual -->
    <!-- example-dag dag_id=amc_deferred run=scheduled workflow=wf_campaign_summary -->

``run=manual`` starts the DAG as `airflow dags trigger` does by default (no
logical date, so no data interval); ``run=asset`` (a DAG scheduled on an
asset) starts it the same way, without an asset event: it must parse and
succeed, while the AMC side (the trigger firing on a scheduled run) is
test_asset_watcher's; ``run=scheduled`` gives it the logical
date 2026-03-10, whose data interval the DAG's timetable makes as for a
scheduled run; ``workflow=ID`` is a saved workflow the text says the DAG
runs, made first. Each block is written into the DAG folder unchanged and
run with dag.test() against amc-sandbox; every AMC task must succeed and its
manifest's files be on disk. A DAG block without the mark fails the first
test, so no example escapes the check.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from conftest import ADVERTISER, INSTANCES, MARKETPLACE, REPO, Sandbox, sandbox_client

PAGES = sorted(
    [REPO / "README.md", REPO / "adapters" / "airflow" / "README.md", *(REPO / "docs").glob("*.md")]
)
BLOCK = re.compile(
    r"^(?P<mark><!-- example-dag (?P<attributes>[^>]*?) -->\n)?```python\n(?P<code>.*?)^```$", re.M | re.S
)
# What makes a code block a DAG (a fragment such as `.partial(...)` alone is none).
DAG_CODE = re.compile(r"\bDAG\(")
SCHEDULED_DATE = "2026-03-10T00:00:00+00:00"


@dataclass(frozen=True)
class DocsDag:
    page: str
    dag_id: str
    run: str
    workflow: str | None
    code: str


def blocks() -> Iterator[tuple[str, re.Match[str]]]:
    for page in PAGES:
        for block in BLOCK.finditer(page.read_text()):
            yield str(page.relative_to(REPO)), block


def docs_dags() -> list[DocsDag]:
    found = []
    for page, block in blocks():
        if not block["mark"]:
            continue
        attributes = dict(item.split("=", 1) for item in block["attributes"].split())
        found.append(
            DocsDag(
                page=page,
                dag_id=attributes["dag_id"],
                run=attributes["run"],
                workflow=attributes.get("workflow"),
                code=block["code"],
            )
        )
    return found


def test_every_dag_in_the_docs_is_marked() -> None:
    unmarked = [
        f"{page}: {block['code'].splitlines()[0]}"
        for page, block in blocks()
        if DAG_CODE.search(block["code"]) and not block["mark"]
    ]
    assert not unmarked, (
        f"DAG code blocks without an example-dag mark (see this file's docstring): {unmarked}"
    )
    found = docs_dags()
    assert {dag.run for dag in found} <= {"manual", "scheduled", "asset"}, found
    assert len({dag.dag_id for dag in found}) == len(found), "two docs DAGs share a dag_id"
    for dag in found:
        assert re.search(rf"""DAG\(\s*(dag_id=)?["']{dag.dag_id}["']""", dag.code), dag


@pytest.fixture
def docs_dag_folder() -> Iterator[pathlib.Path]:
    """A folder of the Airflow home's DAG folder (dag.test() finds a DAG's
    file through the DAG bundle), removed afterwards."""
    folder = pathlib.Path(os.environ["AIRFLOW_HOME"]) / "dags" / "docs_examples"
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("example", docs_dags(), ids=lambda example: f"{example.page}:{example.dag_id}")
def test_docs_dag_runs_as_written(
    example: DocsDag,
    run_dag: Callable[..., dict[str, Any]],
    sandbox: Sandbox,
    airflow_env: dict[str, str],
    docs_dag_folder: pathlib.Path,
) -> None:
    sandbox.admin("DELETE", "faults")
    (docs_dag_folder / f"{example.dag_id}.py").write_text(example.code)
    created = None
    client = sandbox_client(sandbox, "docs")
    instance = {"instance_id": INSTANCES[0], "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}
    who = {"credential_id": "docs", "instance": instance}
    try:
        if example.workflow:
            # The saved workflow the page says the DAG runs: example_amc's.
            sql = (
                REPO / "adapters/airflow/src/libamc_airflow/example_dags/sql/campaign_summary.sql"
            ).read_text()
            synced = client.workflow_sync(
                {**who, "workflow": {"workflowId": example.workflow, "sqlQuery": sql}}
            )
            created = example.workflow if synced["action"] == "created" else None
        summary = run_dag(
            airflow_env,
            example.dag_id,
            logical_date=SCHEDULED_DATE if example.run == "scheduled" else None,
        )
        assert summary["state"] == "success", summary["output"][-8000:]
        results = [entry["xcom"] for entry in summary["tasks"] if isinstance(entry["xcom"], dict)]
        runs = [result for result in results if "amc_execution_id" in result]
        if example.run == "asset":
            # No asset event in a run started by hand: nothing of AMC runs.
            assert not runs, summary["tasks"]
            return
        assert runs, summary["tasks"]
        for result in runs:
            assert result["status"] == "SUCCEEDED", result
            for part in (result.get("manifest") or {}).get("files", []):
                path = pathlib.Path(part["path"])
                assert path.is_file() and path.stat().st_size == part["bytes"], part
                assert path.parent.name == result["amc_execution_id"], part
        if example.run == "scheduled":
            # The data interval's day, whatever zone the DAG writes it in (AMC echoes UTC).
            windows = {
                (r["execution"].get("timeWindowStart"), r["execution"].get("timeWindowEnd")) for r in runs
            }
            assert windows == {("2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z")}, windows
    finally:
        if created:
            # Other tests create it and expect to be the first.
            client.workflow_delete({**who, "workflow_id": created})
        client.close()

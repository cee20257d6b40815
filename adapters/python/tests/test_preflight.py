"""Issue 24 points 2-4 in the Python binding, against the sandbox: the data
sources (every page, every column), the pre-flight check (a typed failure
with the report, no execution created) and the ad-hoc quota (the count, and
the run over the limit as AmcAdhocQuotaExceeded). On the third instance,
which no other test runs anything on."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ADVERTISER, INSTANCES, MARKETPLACE, client_config

from libamc import AmcAdhocQuotaExceeded, AmcInvalidArgument, AmcNotFound, Client, Status
from libamc.sandbox import Sandbox

INSTANCE = {"instance_id": INSTANCES[2], "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}


@pytest.fixture
def client(sandbox: Sandbox, tmp_path: pathlib.Path) -> Iterator[Client]:
    with Client(client_config(sandbox, tmp_path / "store.json")) as native:
        native.auth_import("c", sandbox.new_grant())
        yield native


def request(**fields: Any) -> dict[str, Any]:
    return {"credential_id": "c", "instance": INSTANCE, **fields}


def test_data_sources_every_page_and_every_column(client: Client) -> None:
    listed = client.data_source_list(request(filter="conversion"))
    assert [source["dataSourceId"] for source in listed["dataSources"]] == [
        "amazon_attributed_events_by_conversion_time",
        "conversions",
    ]
    wide = client.data_source_get(request(data_source_id="sandbox_wide_events"))
    assert len(wide["columns"]) == 620
    assert {column["columnType"] for column in wide["columns"]} == {"DIMENSION", "METRIC"}
    with pytest.raises(AmcNotFound):
        client.data_source_get(request(data_source_id="dsp_nowhere"))


def test_preflight_failure_is_typed_and_runs_nothing(client: Client, sandbox: Sandbox) -> None:
    sql = "SELECT campaign\nFROM sponsored_ads_trafic\nWHERE clicks > 0"
    with pytest.raises(AmcInvalidArgument) as problem:
        client.workflow_validate(request(request={"workflow": {"sqlQuery": sql}}))
    assert "did you mean 'sponsored_ads_traffic'?" in problem.value.message
    report = problem.value.detail["preflight"]
    assert report["unknown_tables"] == [
        {"table": "sponsored_ads_trafic", "line": 2, "closest": "sponsored_ads_traffic"}
    ]
    assert report["compile_error"]["line"] == 2
    instance_path = f"/amc/reporting/{INSTANCES[2]}/workflowExecutions"
    creates = sandbox.requests("createWorkflowExecution")
    assert [entry for entry in creates if entry["path"] == instance_path] == []

    ok = client.workflow_validate(request(request={"workflow": {"sqlQuery": "SELECT 1 FROM dsp_views"}}))
    assert ok["valid"] is True and ok["tables"] == ["dsp_views"] and ok["dry_run"]["status"] == "SUCCEEDED"


def test_adhoc_quota_count_and_the_run_over_the_limit(client: Client, sandbox: Sandbox) -> None:
    sandbox.admin("PUT", "settings", {"max_active_per_instance": 1000})
    try:
        start = client.adhoc_quota(request())["adhoc_executions_today"]
        for number in range(start, 30):
            client.execution_submit(request(request={"workflow": {"sqlQuery": f"SELECT {number}"}}))
        quota = client.adhoc_quota(request())
        assert quota["adhoc_executions_today"] == 30 and quota["adhoc_remaining"] == 0
        assert quota["instance_id"] == INSTANCES[2] and quota["resets_at"].endswith("T00:00:00Z")
        with pytest.raises(AmcAdhocQuotaExceeded) as over:
            client.execution_submit(request(request={"workflow": {"sqlQuery": "SELECT 31"}}))
        assert over.value.status == Status.AMC_E_ADHOC_QUOTA
        assert over.value.instance_id == INSTANCES[2]
        assert "00:00 UTC" in over.value.message and "saved workflow" in over.value.message
        assert over.value.resets_at == quota["resets_at"]
    finally:
        sandbox.admin("PUT", "settings", {"max_active_per_instance": 10})

"""The operator extra link "AMC execution (API resource)": the AMC execution
a task ran, as AMC's REST resource URL at the connection's endpoint (so a
sandbox run links to the sandbox).

It is labelled as the API resource because that is what it is: opening it
needs AMC's headers and a bearer token. AMC publishes no console URL of an
execution (shared/amc-api.md lists the API paths only), so there is nothing
better to point a browser at; the URL names the instance and AMC's
execution id, which is what to quote to Amazon or to find the run with.

AmcRunWorkflowOperator sets it on every path that knows the run (submit,
re-attach after a retry or a clear, finish, the trigger's event): into XCom
at once, so it shows while the task waits, and on the operator, where
``get_link`` reads it when the task ends (Airflow's task runner then stores
it in XCom again: a new try or a clear starts with that XCom cleared). A task
that ended before it submitted has no link, and reading it logs nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

REGION_AMC_ENDPOINTS = {
    "na": "https://advertising-api.amazon.com",
    "eu": "https://advertising-api-eu.amazon.com",
    "fe": "https://advertising-api-fe.amazon.com",
}


def execution_url(amc_endpoint: str, instance_id: str, amc_execution_id: str) -> str:
    return f"{amc_endpoint.rstrip('/')}/amc/reporting/{instance_id}/workflowExecutions/{amc_execution_id}"


class AmcExecutionLink(BaseOperatorLink):
    name = "AMC execution (API resource)"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        # What the operator set in this process; no XCom read (for a task
        # that never submitted it would log Airflow's "XCom not found" error).
        url = getattr(operator, "amc_execution_url", None)
        return str(url) if url else ""

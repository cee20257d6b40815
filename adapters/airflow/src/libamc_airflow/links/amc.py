"""The operator extra link: the AMC execution a task ran, as AMC's API
resource URL (the connection's endpoint, so a sandbox run links to the
sandbox). The operator stores the URL in XCom when it submits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

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
    name = "AMC execution"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        value: Any = XCom.get_value(key=self.xcom_key, ti_key=ti_key)
        return str(value) if value else ""

"""Triggers stored by the provider's first release (classpath
libamc_airflow.triggers.amc.AmcExecutionTrigger, its kwargs) still load
after an upgrade and run on the native poller."""

from __future__ import annotations

import json

from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.serde import deserialize, serialize

from libamc_airflow.triggers.execution import CLASSPATH, AmcExecutionTrigger


def test_a_trigger_stored_by_the_first_release_still_loads() -> None:
    stored = {
        "amc_conn_id": "amc_prod",
        "amc_execution_id": "4f3a-…-c1",
        "execution_id": "airflow_0123456789abcdef0123456789abcdef",
        "poll_interval": 12.5,
        "instance": {"instance_id": "amc2", "advertiser_id": "ENTITY2", "marketplace_id": "A1PA6795UKMFR9"},
    }
    kwargs = deserialize(json.loads(json.dumps(serialize(stored))))
    again = import_string("libamc_airflow.triggers.amc.AmcExecutionTrigger")(**kwargs)
    assert isinstance(again, AmcExecutionTrigger)
    classpath, now = again.serialize()
    assert classpath == CLASSPATH
    assert {key: now[key] for key in stored} == stored
    assert now["deadline"] is None

"""The trigger's serialize() round trip: what the triggerer stores is
JSON-safe and makes an equal trigger again (as the Amazon provider's
serialization tests do for every trigger)."""

from __future__ import annotations

import json

from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.serde import deserialize, serialize

from libamc_airflow.triggers.amc import AmcExecutionTrigger


def test_trigger_serialization_round_trip() -> None:
    trigger = AmcExecutionTrigger(
        amc_conn_id="amc_prod",
        amc_execution_id="4f3a-…-c1",
        execution_id="airflow_0123456789abcdef0123456789abcdef",
        poll_interval=12.5,
        instance={"instance_id": "amc2", "advertiser_id": "ENTITY2", "marketplace_id": "A1PA6795UKMFR9"},
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "libamc_airflow.triggers.amc.AmcExecutionTrigger"
    # JSON-safe as it is, and through Airflow's own serde, as the triggerer stores it.
    stored = json.loads(json.dumps(serialize(kwargs)))
    again = import_string(classpath)(**deserialize(stored))
    assert isinstance(again, AmcExecutionTrigger)
    assert again.serialize() == (classpath, kwargs)
    assert kwargs == {
        "amc_conn_id": "amc_prod",
        "amc_execution_id": "4f3a-…-c1",
        "execution_id": "airflow_0123456789abcdef0123456789abcdef",
        "poll_interval": 12.5,
        "instance": {"instance_id": "amc2", "advertiser_id": "ENTITY2", "marketplace_id": "A1PA6795UKMFR9"},
    }

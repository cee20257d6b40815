"""Fixtures for the libamc distribution's tests: they run in a fresh venv
that holds the libamc wheel and pytest only (no Airflow), against the
amc-sandbox the wheel carries (libamc.sandbox.path(); AMC_SANDBOX names
another), over HTTPS with its own test CA, time scale 600, three instances
of one advertiser. adapters/python/test.sh makes the venv.
"""

from __future__ import annotations

import base64
import json
import os
import pathlib
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from libamc.sandbox import Sandbox

REPO = pathlib.Path(__file__).resolve().parents[3]
ADVERTISER = "ENTITY1PYTHON001"
INSTANCES = ["amcpython01", "amcpython02", "amcpython03"]
MARKETPLACE = "ATVPDKIKX0DER"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    config = {
        "accounts": [
            {"accountId": ADVERTISER, "accountName": "libamc Python tests", "marketplaceId": MARKETPLACE}
        ],
        "instances": [
            {"instanceId": name, "instanceName": name, "entityId": ADVERTISER, "marketplaceId": MARKETPLACE}
            for name in INSTANCES
        ],
    }
    # Under tests/tools/spec_proxy.py: the shape the proxy checks.
    if os.environ.get("AMC_TEST_RESPONSE_SHAPE"):
        config["response_shape"] = os.environ["AMC_TEST_RESPONSE_SHAPE"]
    with Sandbox.start(tmp_path_factory.mktemp("sandbox"), config=config) as running:
        yield running


def client_config(sandbox: Sandbox, store: pathlib.Path) -> dict[str, Any]:
    """A client of the sandbox: its endpoints, LwA client, test CA, a file
    store under a fresh key."""
    summary = sandbox.summary
    amc = summary["url"]
    # tests/tools/spec_proxy.py: AMC's operations through the validating
    # proxy ($AMC_SPEC_PROXY/upstream/<scheme>/<host:port>).
    if os.environ.get("AMC_SPEC_PROXY"):
        scheme, _, host = amc.partition("://")
        amc = f"{os.environ['AMC_SPEC_PROXY']}/upstream/{scheme}/{host}"
    return {
        "endpoints": {
            "amc": amc,
            "lwa_token": summary["token_url"],
            "lwa_consent": summary["consent_url"],
        },
        "lwa": {
            "client_id": summary["client_id"],
            "client_secret": (sandbox.directory / "client_secret").read_text(),
        },
        "tls": {"ca_file": summary["ca_file"]},
        "store": {"path": str(store), "fernet_keys": fernet_key()},
    }


def fernet_key() -> str:
    """A fresh key, made at test time (never committed)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()

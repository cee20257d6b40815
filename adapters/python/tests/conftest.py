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

from libamc import sandbox as bundled_sandbox

REPO = pathlib.Path(__file__).resolve().parents[3]
ADVERTISER = "ENTITY1PYTHON001"
INSTANCES = ["amcpython01", "amcpython02", "amcpython03"]
MARKETPLACE = "ATVPDKIKX0DER"

class Sandbox:
    """A running amc-sandbox and its admin API."""

    def __init__(self, directory: pathlib.Path, process: subprocess.Popen[bytes]) -> None:
        self.directory = directory
        self.process = process
        self.summary: dict[str, Any] = json.loads((directory / "sandbox.json").read_text())
        self.url: str = self.summary["url"]
        self.context = ssl.create_default_context(cafile=self.summary["ca_file"])

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, context=self.context, timeout=30) as answer:
            text = answer.read().decode()
        return json.loads(text) if text else None

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        log = self.admin("GET", "requests?limit=1000")
        entries = log["requests"] if isinstance(log, dict) else log
        return [entry for entry in entries if operation is None or entry.get("operation") == operation]

    def new_grant(self) -> str:
        grant = self.admin(
            "POST",
            "grants",
            {"client_id": self.summary["client_id"], "scope": "advertising::campaign_management"},
        )
        return str(grant["refresh_token"])


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    program = bundled_sandbox.path()
    directory = tmp_path_factory.mktemp("sandbox")
    os.chmod(directory, 0o700)
    config = {
        "accounts": [{"accountId": ADVERTISER, "accountName": "libamc Python tests", "marketplaceId": MARKETPLACE}],
        "instances": [
            {"instanceId": name, "instanceName": name, "entityId": ADVERTISER, "marketplaceId": MARKETPLACE}
            for name in INSTANCES
        ],
    }
    (directory / "config.json").write_text(json.dumps(config))
    log = open(directory / "sandbox.log", "wb")  # noqa: SIM115 - open for the sandbox's lifetime
    process = subprocess.Popen(
        [
            str(program),
            "--tls",
            "--state-dir",
            str(directory),
            "--time-scale",
            "600",
            "--config",
            str(directory / "config.json"),
        ],
        stdout=log,
        stderr=log,
    )
    for _ in range(600):
        if (directory / "sandbox.json").exists() and json.loads((directory / "sandbox.json").read_text()).get(
            "url"
        ):
            break
        assert process.poll() is None, (directory / "sandbox.log").read_text()
        time.sleep(0.05)
    running = Sandbox(directory, process)
    yield running
    process.terminate()
    process.wait(timeout=10)
    log.close()


def fernet_key() -> str:
    """A fresh key, made at test time (never committed)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


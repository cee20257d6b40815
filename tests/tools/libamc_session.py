"""What the resource programs of tests/tools share (crash_loops.py,
resource_cycles.py, soak.py): the libamc Python package from this
checkout, an amc-sandbox with one instance and no quota in the way, a
client configured for it with one credential, and the process's own
figures (open file descriptors, threads, resident memory).

The library and the sandbox come from AMC_LIBRARY and AMC_SANDBOX (ctest
sets both); without them, from the build tree named by AMC_BUILD_DIR
(default build/release).
"""

from __future__ import annotations

import os
import pathlib
import sys
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("AMC_BUILD_DIR", REPO / "build" / "release"))
os.environ.setdefault("AMC_LIBRARY", str(BUILD / "capi" / "libamc.so.1"))
os.environ.setdefault("AMC_SANDBOX", str(BUILD / "src" / "sandbox" / "amc-sandbox"))
sys.path.insert(0, str(REPO / "adapters" / "python" / "src"))
# The libamc package's own tests say how a client of the sandbox is
# configured (python_tests.client_config); said once, there.
sys.path.insert(1, str(REPO / "adapters" / "python" / "tests"))

import conftest as python_tests  # noqa: E402  (the paths above first)
import libamc  # noqa: E402
from libamc.sandbox import Sandbox  # noqa: E402

INSTANCE = {"instance_id": "amcresource01", "advertiser_id": "ENTITY1RESOURCE01", "marketplace_id": "ATVPDKIKX0DER"}
CREDENTIAL = "resource"


fernet_key = python_tests.fernet_key


def start_sandbox(directory: pathlib.Path, time_scale: int = 600) -> Sandbox:
    """An amc-sandbox with the one instance, its quotas (10 running, 30
    ad-hoc runs a day) raised out of the way."""
    config = {
        "accounts": [
            {"accountId": INSTANCE["advertiser_id"], "accountName": "resources", "marketplaceId": "ATVPDKIKX0DER"}
        ],
        "instances": [
            {
                "instanceId": INSTANCE["instance_id"],
                "instanceName": "resources",
                "entityId": INSTANCE["advertiser_id"],
                "marketplaceId": INSTANCE["marketplace_id"],
            }
        ],
    }
    sandbox = Sandbox.start(directory, config=config, time_scale=time_scale)
    sandbox.admin("PUT", "settings", {"max_active_per_instance": 1_000_000, "adhoc_executions_per_day": 1_000_000})
    return sandbox


def client_config(sandbox: Sandbox, store: dict[str, Any]) -> dict[str, Any]:
    """A client of `sandbox` (the libamc package tests' config) with `store`
    ({"path", "fernet_keys"}) and no client-side rate ceiling: the sandbox
    is ours alone."""
    config = python_tests.client_config(sandbox, pathlib.Path(store["path"]))
    config["store"] = store
    config["rate_limit"] = {"requests_per_second": 100_000, "burst": 100_000}
    return config


def put_credential(sandbox: Sandbox, store: dict[str, Any]) -> None:
    """Stores CREDENTIAL for a fresh grant of the sandbox."""
    with libamc.Store(store) as handle:
        handle.put_credential(
            {
                "credential_id": CREDENTIAL,
                "client_id": sandbox.summary["client_id"],
                "refresh_token": sandbox.new_grant(),
            }
        )


def figures() -> dict[str, int]:
    """This process's open file descriptors, threads and resident memory (kB)."""
    values: dict[str, str] = {}
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if rest.split():
            values[name] = rest.split()[0]
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": int(values["Threads"]),
        "rss_kb": int(values["VmRSS"]),
    }

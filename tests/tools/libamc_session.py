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

import base64
import os
import pathlib
import sys
from typing import Any

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("AMC_BUILD_DIR", REPO / "build" / "release"))
os.environ.setdefault("AMC_LIBRARY", str(BUILD / "capi" / "libamc.so.1"))
os.environ.setdefault("AMC_SANDBOX", str(BUILD / "src" / "sandbox" / "amc-sandbox"))
sys.path.insert(0, str(REPO / "adapters" / "python" / "src"))

import libamc  # noqa: E402  (the path above first)
from libamc.sandbox import Sandbox  # noqa: E402

INSTANCE = {"instance_id": "amcresource01", "advertiser_id": "ENTITY1RESOURCE01", "marketplace_id": "ATVPDKIKX0DER"}
CREDENTIAL = "resource"


def fernet_key() -> str:
    """A fresh key, made at run time (never committed)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def start_sandbox(directory: pathlib.Path, time_scale: int = 600) -> Sandbox:
    """An amc-sandbox with the one instance, its quotas (10 running, 30
    ad-hoc runs a day) raised out of the way, and no request log kept."""
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
    """A client of `sandbox` with `store` ({"path", "fernet_keys"})."""
    summary = sandbox.summary
    return {
        "endpoints": {
            "amc": summary["url"],
            "lwa_token": summary["token_url"],
            "lwa_consent": summary["consent_url"],
        },
        "lwa": {
            "client_id": summary["client_id"],
            "client_secret": (sandbox.directory / "client_secret").read_text().strip(),
        },
        "tls": {"ca_file": summary["ca_file"]},
        "store": store,
        # The sandbox is ours alone: no client-side ceiling in the way.
        "rate_limit": {"requests_per_second": 100_000, "burst": 100_000},
    }


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

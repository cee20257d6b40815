"""The spec-validating proxy (spec_proxy.py) fails what it must: in both
response shapes it passes the sandbox's answers through unchanged, finds no
violation in correct ones, and reports a deliberately wrong answer (a sandbox
reply fault) with the operation and the field; as a wrapper it fails a run
with a violation, a run in which no answer passed through it, and keeps a
failing command's own status.

Environment: AMC_SANDBOX (the executable), AMC_SPECS_DIR (tests/data/specs).
"""

from __future__ import annotations

import http.client
import json
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "sandbox"))
import spec_proxy  # noqa: E402
from test_conformance import Sandbox  # noqa: E402

SPEC_PROXY = str(HERE / "spec_proxy.py")


@pytest.fixture(params=["flat", "wrapped"])
def sandbox(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Sandbox]:
    started = Sandbox(tmp_path, request.param)
    yield started
    started.close()


@pytest.fixture
def proxy(sandbox: Sandbox) -> Iterator[spec_proxy.ProxyServer]:
    server = spec_proxy.start(sandbox.shape)
    yield server
    server.shutdown()


def through(
    proxy: spec_proxy.ProxyServer, sandbox: Sandbox, method: str, rest: str, body: Any = None
) -> tuple[int, Any]:
    """An AMC call to the sandbox through the proxy: (status, JSON answer)."""
    endpoint = spec_proxy.proxied_endpoint(proxy.url, f"http://127.0.0.1:{sandbox.port}")
    connection = http.client.HTTPConnection("127.0.0.1", proxy.server_address[1], timeout=10)
    headers = sandbox.headers()
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection.request(
        method, endpoint.split(proxy.url, 1)[1] + sandbox.reporting(rest), body=data, headers=headers
    )
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload)


def test_correct_answers_pass_and_a_wrong_one_is_a_violation(
    sandbox: Sandbox, proxy: spec_proxy.ProxyServer
) -> None:
    assert through(proxy, sandbox, "POST", "workflows", {"workflowId": "wf_p", "sqlQuery": "SELECT 1"}) == (
        200,
        {},
    )
    schedule = {"scheduleId": "sched_p", "workflowId": "wf_p", "aggregationPeriod": "Daily"}
    assert through(proxy, sandbox, "POST", "schedules", schedule) == (200, {})
    status, got = through(proxy, sandbox, "GET", "schedules/sched_p")
    assert status == 200 and ("schedule" in got) == (sandbox.shape == "wrapped")
    assert through(proxy, sandbox, "GET", "schedules/none")[0] == 404
    assert proxy.findings.report() == {"checked": 4, "violations": []}

    # A deliberately wrong answer: an hour as text. The client still gets it
    # unchanged; the proxy reports it.
    field = "/schedule/aggregationHourUtc" if sandbox.shape == "wrapped" else "/aggregationHourUtc"
    sandbox.admin(
        "POST",
        "faults",
        {
            "kind": "patch_reply",
            "operation": "getSchedule",
            "count": 1,
            "json_patch": [{"op": "replace", "path": field, "value": "six"}],
        },
    )
    status, wrong = through(proxy, sandbox, "GET", "schedules/sched_p")
    assert status == 200
    assert (wrong["schedule"] if sandbox.shape == "wrapped" else wrong)["aggregationHourUtc"] == "six"
    violations = proxy.findings.report()["violations"]
    assert len(violations) == 1, violations
    assert "getSchedule" in violations[0] and "aggregationHourUtc" in violations[0], violations

    # The other shape's answer is a violation too.
    other = {"schedule": got} if sandbox.shape == "flat" else got["schedule"]
    sandbox.admin(
        "POST", "faults", {"kind": "replace_reply", "operation": "getSchedule", "count": 1, "body": other}
    )
    assert through(proxy, sandbox, "GET", "schedules/sched_p")[0] == 200
    violations = proxy.findings.report()["violations"]
    assert len(violations) == 2 and "shape" in violations[1], violations

    # A status the operation does not declare.
    sandbox.admin(
        "POST", "faults", {"kind": "error_status", "operation": "listSchedules", "count": 1, "status": 503}
    )
    assert through(proxy, sandbox, "GET", "schedules")[0] == 503
    assert "503 is not a declared response" in proxy.findings.report()["violations"][2]


def run_wrapper(*command: str) -> int:
    return subprocess.call([sys.executable, SPEC_PROXY, "--shape", "wrapped", "--", *command])


def test_the_wrapper_fails_a_run_with_a_violation_or_without_traffic() -> None:
    # A command that makes one bad answer pass through the proxy it is given.
    bad = (
        "import http.server, os, threading, urllib.request\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        '        body = b\'{"schedules": "not a list"}\'\n'
        "        self.send_response(200)\n"
        "        self.send_header('Content-Type', 'application/vnd.amcschedules.v1+json')\n"
        "        self.send_header('Content-Length', str(len(body)))\n"
        "        self.end_headers(); self.wfile.write(body)\n"
        "    def log_message(self, *a): pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "threading.Thread(target=s.serve_forever, daemon=True).start()\n"
        "url = os.environ['AMC_SPEC_PROXY'] + '/upstream/http/127.0.0.1:%d' % s.server_address[1]\n"
        "urllib.request.urlopen(url + '/amc/reporting/amc1/schedules').read()\n"
    )
    assert run_wrapper(sys.executable, "-c", bad) == 1
    assert run_wrapper(sys.executable, "-c", "pass") == 1
    assert run_wrapper(sys.executable, "-c", "raise SystemExit(3)") == 3

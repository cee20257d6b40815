"""Conformance of amc-sandbox with Amazon's OpenAPI specs (issue 3).

Starts the amc-sandbox executable once per response shape, calls every
operation the sandbox implements (success and error answers), and checks
each answer against the spec: the status code is one the operation declares,
the media type is the declared one, and the body validates against the
declared schema (jsonschema, with the spec's components as the root so that
$refs resolve).

Where the spec's response is a wrapper ({"workflowExecution": {...}},
{"workflow": ...}, {"schedule": ...}, {"instance": ...}), the shape decides what passes: the
wrapped shape must answer exactly the wrapper, the flat shape (AMC's docs'
bare objects) must answer the bare object, which is validated against the
wrapper's inner schema (GetWorkflowExecutionResponse -> WorkflowExecution, and
so on). The spec marks no field of those inner schemas required, so the flat
object must also hold at least one of the inner schema's properties (an empty
or foreign object is not the flat answer).

The statuses PUBLISHING and REJECTED are outside the spec's enum but are what
AMC really returns (shared/amc-api.md 4.2); executions in those states are
validated against WorkflowExecution with the enum widened by exactly those
two values.

The checks live in tests/tools/openapi_check.py, shared with the
spec-validating proxy (tests/tools/spec_proxy.py).

Environment: AMC_SANDBOX (the executable), AMC_SPECS_DIR (tests/data/specs).
"""

import http.client
import json
import os
import pathlib
import subprocess
import sys
import time
import urllib.parse

import jsonschema
import pytest

# The checks themselves are shared with the spec-validating proxy.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
from openapi_check import SPECS, check_against_spec, check_shape, find_operation, wrapper_of  # noqa: E402

SANDBOX = os.environ.get("AMC_SANDBOX", str(pathlib.Path(__file__).resolve().parents[2] / "build" / "sandbox" / "src" / "sandbox" / "amc-sandbox"))


class Sandbox:
    """One amc-sandbox process and a keep-alive connection to it."""

    def __init__(self, tmp_path, shape):
        self.shape = shape
        self.state = tmp_path / f"state-{shape}"
        port_file = tmp_path / f"port-{shape}"
        self.process = subprocess.Popen(
            [SANDBOX, "--state-dir", str(self.state), "--port-file", str(port_file), "--shape", shape,
             "--request-log-size", "100"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        else:
            self.process.kill()
            raise AssertionError("amc-sandbox did not start: " + self.process.stderr.read().decode())
        self.port = int(port_file.read_text())
        self.summary = json.loads((self.state / "sandbox.json").read_text())
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.checked = set()
        self.access_token = self.token()

    def close(self):
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=10)

    def raw(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, response.headers, payload

    def token(self):
        form = urllib.parse.urlencode({
            "grant_type": "refresh_token",
            "refresh_token": (self.state / "refresh_token").read_text(),
            "client_id": self.summary["client_id"],
            "client_secret": (self.state / "client_secret").read_text(),
        })
        status, _, payload = self.raw("POST", "/auth/o2/token", form,
                                      {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, payload
        return json.loads(payload)["access_token"]

    def headers(self, token=None):
        return {
            "Amazon-Advertising-API-ClientId": self.summary["client_id"],
            "Authorization": "Bearer " + (token or self.access_token),
            "Amazon-Advertising-API-AdvertiserId": self.summary["advertiser_id"],
            "Amazon-Advertising-API-MarketplaceId": self.summary["marketplace_id"],
        }

    def reporting(self, rest):
        return f"/amc/reporting/{self.summary['instance_id']}/{rest}"

    def call(self, method, path, body=None, expect=200, headers=None):
        """Calls an AMC operation and validates the answer against the spec."""
        status, response_headers, payload = self.raw(method, path, body, headers or self.headers())
        assert status == expect, f"{method} {path}: {status} {payload[:300]!r}"
        document = json.loads(payload)
        check_against_spec(method, path.split("?")[0], status, response_headers, document, self.shape)
        spec, template, operation = find_operation(method, path.split("?")[0])
        self.checked.add((operation["operationId"], status))
        return document

    def admin(self, method, path, body=None):
        status, _, payload = self.raw(method, "/_sandbox/" + path, body)
        assert status == 200, payload
        return json.loads(payload)


@pytest.fixture(params=["flat", "wrapped"])
def sandbox(request, tmp_path):
    instance = Sandbox(tmp_path, request.param)
    instance.shape = request.param
    yield instance
    instance.close()


def unwrap(document, key):
    return document[key] if key in document else document


def test_every_operation_conforms(sandbox):
    # Administration.
    accounts = sandbox.call("GET", "/amc/accounts")
    assert accounts["amcAccounts"][0]["accountId"].startswith("ENTITY")
    sandbox.call("GET", "/amc/accounts", expect=401, headers={"Amazon-Advertising-API-ClientId": sandbox.summary["client_id"]})
    instances = sandbox.call("GET", "/amc/instances?limit=10")
    instance_id = instances["instances"][0]["instanceId"]
    instance = sandbox.call("GET", f"/amc/instances/{instance_id}")
    assert ("instance" in instance) == (sandbox.shape == "wrapped")
    sandbox.call("GET", "/amc/instances/amcmissing", expect=404)
    sandbox.call("GET", "/amc/instances?limit=1000", expect=400)

    # Workflows.
    workflow = {
        "workflowId": "conformance_wf.v1",
        "sqlQuery": "SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions "
                    "WHERE advertiser = CUSTOM_PARAMETER('advertiser') GROUP BY 1",
        "inputParameters": [{"name": "advertiser", "dataType": "STRING", "defaultValue": "all",
                             "columnType": "DIMENSION", "description": "who"}],
        "outputColumns": [{"name": "campaign", "dataType": "STRING", "columnType": "DIMENSION"},
                          {"name": "impressions", "dataType": "LONG", "columnType": "METRIC"}],
        "outputFormat": {"separatorCharacter": ",", "quoteCharacter": "\"", "escapeCharacter": "\\"},
        "privacyFilteringBehavior": "REMOVE_ROWS",
    }
    jsonschema.Draft7Validator({"components": SPECS["reporting"]["components"],
                                "$ref": "#/components/schemas/Workflow"}).validate(workflow)
    assert sandbox.call("POST", sandbox.reporting("workflows"), workflow) == {}
    duplicate = sandbox.call("POST", sandbox.reporting("workflows"), workflow, expect=400)
    assert duplicate["details"] == "Workflow with ID conformance_wf.v1 already exists."
    sandbox.call("POST", sandbox.reporting("workflows"), {"workflowId": "bad id", "sqlQuery": "SELECT 1"}, expect=400)
    got = unwrap(sandbox.call("GET", sandbox.reporting("workflows/conformance_wf.v1")), "workflow")
    assert got["workflowId"] == "conformance_wf.v1"
    sandbox.call("GET", sandbox.reporting("workflows/missing"), expect=404)
    listed = sandbox.call("GET", sandbox.reporting("workflows?limit=5"))
    assert [w["workflowId"] for w in listed["workflows"]] == ["conformance_wf.v1"]
    sandbox.call("GET", sandbox.reporting("workflows?limit=0"), expect=400)
    workflow["sqlQuery"] += " -- sandbox: pending=0 duration=10m publishing=0 parts=2 rows=20"
    assert sandbox.call("PUT", sandbox.reporting("workflows/conformance_wf.v1"), workflow) == {}
    sandbox.call("PUT", sandbox.reporting("workflows/missing"), dict(workflow, workflowId="missing"), expect=404)

    # Schedules: create, get, list, update, delete, and a workflow delete
    # that a schedule still references (400, our assumption: README.md).
    schedule = {"scheduleId": "conformance_sched", "workflowId": "conformance_wf.v1", "aggregationPeriod": "Weekly",
                "aggregationHourUtc": 6, "aggregationStartDay": "Monday", "scheduleEnabled": True}
    jsonschema.Draft7Validator({"components": SPECS["reporting"]["components"],
                                "$ref": "#/components/schemas/CreateScheduleRequest"}).validate(schedule)
    assert sandbox.call("POST", sandbox.reporting("schedules"), dict(schedule, marketplaceId="ATVPDKIKX0DER")) == {}
    sandbox.call("POST", sandbox.reporting("schedules"), schedule, expect=400)
    sandbox.call("POST", sandbox.reporting("schedules"), dict(schedule, scheduleId="other", workflowId="nope"),
                 expect=422)
    got_schedule = unwrap(sandbox.call("GET", sandbox.reporting("schedules/conformance_sched")), "schedule")
    assert got_schedule == schedule
    sandbox.call("GET", sandbox.reporting("schedules/missing"), expect=404)
    assert [s["scheduleId"] for s in sandbox.call("GET", sandbox.reporting("schedules?limit=5"))["schedules"]] == [
        "conformance_sched"]
    assert sandbox.call("PUT", sandbox.reporting("schedules/conformance_sched"),
                        dict(schedule, scheduleEnabled=False)) == {}
    sandbox.call("PUT", sandbox.reporting("schedules/missing"), dict(schedule, scheduleId="missing"), expect=404)
    referenced = sandbox.call("DELETE", sandbox.reporting("workflows/conformance_wf.v1"), expect=400)
    assert "conformance_sched" in referenced["details"]
    assert sandbox.call("DELETE", sandbox.reporting("schedules/conformance_sched")) == {}
    sandbox.call("DELETE", sandbox.reporting("schedules/conformance_sched"), expect=404)

    # Executions: create (saved and ad hoc), get, list, cancel, download URLs.
    request = {"workflowId": "conformance_wf.v1", "timeWindowType": "EXPLICIT",
               "timeWindowStart": "2026-01-01T00:00:00", "timeWindowEnd": "2026-01-08T00:00:00",
               "timeWindowTimeZone": "America/New_York", "parameterValues": {"advertiser": "acme"},
               "workflowExecutionTimeoutSeconds": 3600, "dryRun": False}
    jsonschema.Draft7Validator({"components": SPECS["reporting"]["components"],
                                "$ref": "#/components/schemas/CreateWorkflowExecutionRequest"}).validate(request)
    created = sandbox.call("POST", sandbox.reporting("workflowExecutions"), request)
    assert ("workflowExecution" in created) == (sandbox.shape == "wrapped")
    saved_id = unwrap(created, "workflowExecution")["workflowExecutionId"]
    sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                 {"workflowId": "conformance_wf.v1", "workflow": {"sqlQuery": "SELECT 1"}}, expect=400)
    sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                 dict(request, workflowExecutionTimeoutSeconds=60), expect=400)
    sandbox.call("POST", sandbox.reporting("workflowExecutions"), {"workflowId": "unknown_wf"}, expect=422)

    adhoc = unwrap(sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                                {"workflow": {"sqlQuery": "SELECT 1"}}), "workflowExecution")
    assert adhoc["status"] == "PENDING"
    failing = unwrap(sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                                  {"workflow": {"sqlQuery": "SELECT 1 -- sandbox: fail \"broken\" pending=0 duration=1m"}}),
                     "workflowExecution")
    rejected = unwrap(sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                                   {"workflow": {"sqlQuery": "SELECT 1 -- sandbox: reject \"busy\""}}),
                      "workflowExecution")
    assert rejected["status"] == "REJECTED"
    publishing = unwrap(sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                                     {"workflow": {"sqlQuery": "SELECT 1 -- sandbox: pending=0 duration=1s publishing=1h"}}),
                        "workflowExecution")

    running = unwrap(sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{saved_id}?includeWorkflow=true")),
                     "workflowExecution")
    assert running["status"] == "RUNNING" and "sqlQuery" in running
    sandbox.call("GET", sandbox.reporting("workflowExecutions/00000000-0000-4000-8000-000000000000"), expect=404)
    sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{saved_id}/downloadUrls"), expect=400)
    sandbox.call("GET", sandbox.reporting("workflowExecutions/nope/downloadUrls"), expect=404)

    assert sandbox.call("PUT", sandbox.reporting(f"workflowExecutions/{adhoc['workflowExecutionId']}"),
                        {"status": "CANCELLED"}) == {}
    sandbox.call("PUT", sandbox.reporting(f"workflowExecutions/{adhoc['workflowExecutionId']}"),
                 {"status": "CANCELLED"}, expect=400)
    sandbox.call("PUT", sandbox.reporting("workflowExecutions/nope"), {"status": "CANCELLED"}, expect=404)

    sandbox.admin("POST", "clock/advance", {"seconds": 700})
    sandbox.access_token = sandbox.token()
    done = unwrap(sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{saved_id}")), "workflowExecution")
    assert done["status"] == "SUCCEEDED"
    assert unwrap(sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{failing['workflowExecutionId']}")),
                  "workflowExecution")["status"] == "FAILED"
    assert unwrap(sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{publishing['workflowExecutionId']}")),
                  "workflowExecution")["status"] == "PUBLISHING"
    assert unwrap(sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{adhoc['workflowExecutionId']}")),
                  "workflowExecution")["status"] == "CANCELLED"

    urls = sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{saved_id}/downloadUrls"))
    assert len(urls["downloadUrls"]) == 2
    total_rows = 0
    for url in urls["downloadUrls"]:
        parsed = urllib.parse.urlsplit(url)
        status, headers, payload = sandbox.raw("GET", parsed.path + "?" + parsed.query)
        assert status == 200 and headers.get("Content-Type") == "text/csv"
        lines = payload.decode().splitlines()
        assert lines[0] == "campaign,impressions"
        total_rows += len(lines) - 1
    assert total_rows == 20

    everything = sandbox.call("GET", sandbox.reporting(
        "workflowExecutions?minCreationTime=2000-01-01T00:00:00&includeCancelled=true&sortAscending=true&limit=2"))
    assert len(everything["executions"]) == 2 and "nextToken" in everything
    rest = sandbox.call("GET", sandbox.reporting(
        "workflowExecutions?minCreationTime=2000-01-01T00:00:00&includeCancelled=true&sortAscending=true&limit=2"
        "&nextToken=" + everything["nextToken"]))
    assert len(rest["executions"]) == 2
    sandbox.call("GET", sandbox.reporting("workflowExecutions?workflowId=conformance_wf.v1&includeWorkflow=true"))
    sandbox.call("GET", sandbox.reporting("workflowExecutions"), expect=422)

    # Data sources (issue 24): the list in pages, one with its columns in
    # pages past the spec's 500 (the token in the DataSource), a 404.
    listed = sandbox.call("GET", sandbox.reporting("dataSources?limit=4"))
    assert len(listed["dataSources"]) == 4 and "nextToken" in listed
    sandbox.call("GET", sandbox.reporting("dataSources?limit=4&nextToken=" + listed["nextToken"]))
    wide = unwrap(sandbox.call("GET", sandbox.reporting("dataSources/sandbox_wide_events")), "dataSource")
    assert len(wide["columns"]) == 500
    rest = unwrap(sandbox.call("GET", sandbox.reporting("dataSources/sandbox_wide_events?nextToken=" + wide["nextToken"])),
                  "dataSource")
    assert len(rest["columns"]) == 120 and "nextToken" not in rest
    sandbox.call("GET", sandbox.reporting("dataSources/dsp_nowhere"), expect=404)
    # A dry run whose SQL does not compile, and the ad-hoc run over the
    # day's limit: the spec's Error, as a 400.
    refused = sandbox.call("POST", sandbox.reporting("workflowExecutions"),
                           {"workflow": {"sqlQuery": "SELECT 1\nFROM dsp_impresions"}, "dryRun": True}, expect=400)
    assert refused["details"] == "Query compilation failed: line 2:6: Table 'dsp_impresions' does not exist."
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": 1})
    over = sandbox.call("POST", sandbox.reporting("workflowExecutions"), {"workflow": {"sqlQuery": "SELECT 2"}},
                        expect=400)
    assert "per day per instance" in over["details"]
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": 30})

    # Authentication and authorisation answers.
    no_token = sandbox.headers()
    del no_token["Authorization"]
    sandbox.call("GET", sandbox.reporting("workflows"), expect=401, headers=no_token)
    profile = dict(sandbox.headers(), **{"Amazon-Advertising-API-AdvertiserId": "1234567890"})
    forbidden = sandbox.call("GET", sandbox.reporting("workflows"), expect=403, headers=profile)
    assert "entity id" in forbidden["details"]

    # A 429 and a 500 from the fault injector carry the spec's Error body too.
    sandbox.admin("POST", "faults", {"kind": "rate_limit", "operation": "getWorkflowExecution", "count": 1})
    sandbox.call("GET", sandbox.reporting(f"workflowExecutions/{saved_id}"), expect=429)
    sandbox.admin("POST", "faults", {"kind": "error_status", "operation": "listWorkflows", "count": 1})
    sandbox.call("GET", sandbox.reporting("workflows"), expect=500)

    assert sandbox.call("DELETE", sandbox.reporting("workflows/conformance_wf.v1")) == {}
    sandbox.call("DELETE", sandbox.reporting("workflows/conformance_wf.v1"), expect=404)

    implemented = {
        "AmcpLinkListAmcAccounts", "listInstances", "getInstance", "createWorkflow", "getWorkflow", "listWorkflows",
        "updateWorkflow", "deleteWorkflow", "createWorkflowExecution", "getWorkflowExecution",
        "listWorkflowExecutions", "UpdateWorkflowExecution", "getWorkflowExecutionDownloadUrls",
        "listDataSources", "getDataSource",
        "createSchedule", "getSchedule", "listSchedules", "updateSchedule", "deleteSchedule",
    }
    assert implemented <= {operation for operation, status in sandbox.checked if status == 200}


def test_shape_check_refuses_the_other_shape():
    """The checker itself: for every wrapped operation the sandbox serves, a
    flat answer fails in the wrapped shape, a wrapped one fails in the flat
    shape, and each passes in its own."""
    cases = {
        ("GET", "/amc/reporting/amcsandbox01/workflows/wf"): ("workflow", {"workflowId": "wf", "sqlQuery": "SELECT 1"}),
        ("GET", "/amc/reporting/amcsandbox01/workflowExecutions/id"):
            ("workflowExecution", {"workflowExecutionId": "id", "status": "RUNNING"}),
        ("POST", "/amc/reporting/amcsandbox01/workflowExecutions"):
            ("workflowExecution", {"workflowExecutionId": "id", "status": "PENDING"}),
        ("GET", "/amc/instances/amcsandbox01"): ("instance", {"instanceId": "amcsandbox01"}),
        ("GET", "/amc/reporting/amcsandbox01/dataSources/dsp_clicks"):
            ("dataSource", {"dataSourceId": "dsp_clicks", "columns": []}),
        ("GET", "/amc/reporting/amcsandbox01/schedules/s1"): ("schedule", {"scheduleId": "s1", "workflowId": "wf"}),
    }
    for (method, path), (wrapper, flat) in cases.items():
        spec, _, operation = find_operation(method, path)
        schema = operation["responses"]["200"]["content"]
        schema = next(iter(schema.values()))["schema"]
        assert wrapper_of(spec, schema)[0] == wrapper, operation["operationId"]
        check_shape(spec, operation["operationId"], schema, flat, "flat")
        check_shape(spec, operation["operationId"], schema, {wrapper: flat}, "wrapped")
        for document, shape in [(flat, "wrapped"), ({wrapper: flat}, "flat"), ({}, "flat"),
                                (dict(flat, **{wrapper: flat}), "wrapped")]:
            with pytest.raises(AssertionError):
                check_shape(spec, operation["operationId"], schema, document, shape)

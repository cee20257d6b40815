"""Checks an answer of amc-sandbox (or of anything that speaks AMC's API)
against Amazon's OpenAPI specs in tests/data/specs, in the response shape the
server was started with. Shared by the conformance test
(tests/sandbox/test_conformance.py) and the spec-validating proxy
(tests/tools/spec_proxy.py), so that both judge an answer the same way.

What is checked: the status code is one the operation declares, the media
type is the declared one, and the body validates against the declared
schema (jsonschema, with the spec's components as the root so that $refs
resolve).

Where the spec's response is a wrapper ({"workflowExecution": {...}},
{"workflow": ...}, {"schedule": ...}, {"instance": ...}), the shape decides
what passes: the wrapped shape must answer exactly the wrapper, the flat
shape (AMC's docs' bare objects) must answer the bare object, which is
validated against the wrapper's inner schema (GetWorkflowExecutionResponse ->
WorkflowExecution, and so on). The spec marks no field of those inner schemas
required, so the flat object must also hold at least one of the inner
schema's properties (an empty or foreign object is not the flat answer).

The statuses PUBLISHING and REJECTED are outside the spec's enum but are what
AMC really returns (shared/amc-api.md 4.2); executions in those states are
validated against WorkflowExecution with the enum widened by exactly those
two values.

Every check raises AssertionError with a message naming the operation.
Environment: AMC_SPECS_DIR (default tests/data/specs).
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any

import jsonschema

SPECS_DIR = pathlib.Path(
    os.environ.get("AMC_SPECS_DIR", pathlib.Path(__file__).resolve().parents[1] / "data" / "specs")
)
SPECS = {
    "reporting": json.loads((SPECS_DIR / "amc-workflow-management.openapi.json").read_text()),
    "administration": json.loads((SPECS_DIR / "amc-administration.openapi.json").read_text()),
}
EXTRA_STATUSES = ["PUBLISHING", "REJECTED"]


def find_operation(method: str, path: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The spec, path template and operation object for a concrete path."""
    for spec in SPECS.values():
        for template, operations in spec["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in operations:
                return spec, template, operations[method.lower()]
    raise AssertionError(f"no spec operation for {method} {path}")


def validator_for(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    root = {"components": spec["components"]}
    root.update(schema)
    return jsonschema.Draft7Validator(root)


def widened_execution_schema(spec: dict[str, Any]) -> dict[str, Any]:
    widened = copy.deepcopy(spec)
    status = widened["components"]["schemas"]["WorkflowExecution"]["properties"]["status"]
    status["enum"] = status["enum"] + EXTRA_STATUSES
    return widened


def wrapper_of(spec: dict[str, Any], schema: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(wrapper property, inner schema) when `schema` is a one-property wrapper
    around a $ref, such as GetWorkflowResponse = {"workflow": Workflow}."""
    if "$ref" not in schema:
        return None
    name = schema["$ref"].split("/")[-1]
    properties = spec["components"]["schemas"][name].get("properties", {})
    if len(properties) != 1:
        return None
    ((wrapper, inner),) = properties.items()
    return (wrapper, inner) if "$ref" in inner else None


def check_shape(
    spec: dict[str, Any], operation_id: str, schema: dict[str, Any], document: Any, shape: str
) -> dict[str, Any]:
    """The schema to validate `document` against, after checking that a
    wrapped response comes in the shape the server was started with."""
    wrapped = wrapper_of(spec, schema)
    if wrapped is None:
        return schema
    wrapper, inner = wrapped
    inner_properties = spec["components"]["schemas"][inner["$ref"].split("/")[-1]].get("properties", {})
    if shape == "wrapped":
        assert isinstance(document, dict) and set(document) == {wrapper}, (
            f"{operation_id}: the wrapped shape must answer {{{wrapper!r}: ...}}, got keys "
            f"{sorted(document) if isinstance(document, dict) else type(document).__name__}"
        )
        assert isinstance(document[wrapper], dict) and set(document[wrapper]) & set(inner_properties), (
            f"{operation_id}: {wrapper!r} does not hold the object"
        )
        return schema
    assert shape == "flat", shape
    assert isinstance(document, dict) and wrapper not in document, (
        f"{operation_id}: the flat shape must answer the bare object, not {{{wrapper!r}: ...}}"
    )
    assert set(document) & set(inner_properties), (
        f"{operation_id}: the flat answer has none of the fields of its schema: {sorted(document)}"
    )
    return inner


def check_against_spec(  # noqa: PLR0917 - one answer's parts, as the conformance test passes them
    method: str, path: str, status: int, headers: Mapping[str, str], document: Any, shape: str
) -> str:
    """Checks one answer; returns the spec's operationId. `path` without the
    query; `headers` any mapping with a Content-Type."""
    spec, _template, operation = find_operation(method, path)
    responses = operation["responses"]
    assert str(status) in responses, f"{operation['operationId']}: {status} is not a declared response"
    content = responses[str(status)].get("content", {})
    media_type, media = next(iter(content.items()))
    assert headers.get("Content-Type") == media_type, (operation["operationId"], headers.get("Content-Type"))
    schema = media["schema"]
    schema_spec = spec
    target = check_shape(spec, operation["operationId"], schema, document, shape)
    # Executions in AMC's extra statuses validate against the widened enum.
    text = json.dumps(document)
    if text.find('"status": "PUBLISHING"') >= 0 or text.find('"status": "REJECTED"') >= 0:
        schema_spec = widened_execution_schema(spec)
    errors = sorted(validator_for(schema_spec, target).iter_errors(document), key=str)
    assert not errors, f"{operation['operationId']} {status}: " + "; ".join(
        f"{'/'.join(str(part) for part in e.absolute_path) or '(body)'}: {e.message}" for e in errors[:5]
    )
    return str(operation["operationId"])

"""libamc's log lines in Python ``logging`` (libamc.logs): a library
warning and an HTTP retry arrive at the logger ``libamc`` with their level,
only the lines the logger keeps cross from C, a user can opt out or replace
the bridge, and no record holds a secret. Needs no Airflow."""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Iterator

import pytest

from conftest import Sandbox
from libamc import binding, logs
from test_binding import INSTANCE, config


class Records(logging.Handler):
    """Keeps every record that reaches it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def containing(self, text: str) -> list[logging.LogRecord]:
        return [record for record in self.records if text in record.getMessage()]


@pytest.fixture
def records() -> Iterator[Records]:
    logger = logging.getLogger(logs.LOGGER_NAME)
    handler = Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logs.forward_by_default(True)


@pytest.fixture(autouse=True)
def no_faults(sandbox: Sandbox) -> Iterator[None]:
    sandbox.admin("DELETE", "faults")
    yield
    sandbox.admin("DELETE", "faults")


def fail_once(sandbox: Sandbox, operation: str) -> None:
    """The sandbox answers the next request of `operation` with a 503."""
    rule = {"kind": "error_status", "status": 503, "operation": operation, "count": 1}
    sandbox.admin("POST", "faults", rule)


def secrets_of(sandbox: Sandbox, *more: str) -> list[str]:
    return [(sandbox.directory / "client_secret").read_text(), "Atza|", "Atzr|", *more]


def assert_no_secret(records: Records, secrets: list[str]) -> None:
    for record in records.records:
        for secret in secrets:
            assert secret not in record.getMessage(), "a secret reached a log record"


def test_a_library_warning_arrives_in_logging_at_warning(
    sandbox: Sandbox, records: Records, tmp_path: pathlib.Path
) -> None:
    # A client made with TLS verification off says so at WARNING as it is
    # made; the default bridge gets the line when it is installed.
    unverified = {**config(sandbox, tmp_path / "store.json"), "tls": {"verify_peer": False}}
    with binding.Client(unverified) as native:
        native.auth_import("c", grant := sandbox.new_grant())
        native.auth_refresh("c")
    warnings = records.containing("TLS peer verification is OFF")
    assert len(warnings) == 1, [record.getMessage() for record in records.records]
    assert warnings[0].levelno == logging.WARNING and warnings[0].name == "libamc"
    assert_no_secret(records, secrets_of(sandbox, grant))


def test_an_http_retry_arrives_in_logging_at_info_naming_the_operation(
    sandbox: Sandbox, records: Records, tmp_path: pathlib.Path
) -> None:
    with binding.Client(config(sandbox, tmp_path / "store.json")) as native:
        native.auth_import("c", grant := sandbox.new_grant())
        fail_once(sandbox, "lwaToken")
        native.auth_refresh("c")
        fail_once(sandbox, "listWorkflows")
        native.workflow_list({"credential_id": "c", "instance": INSTANCE})
    refresh = records.containing("token refresh: POST ")
    assert len(refresh) == 1, [record.getMessage() for record in records.records]
    assert "answered HTTP 503; retry 1 of 1 in " in refresh[0].getMessage()
    listing = records.containing("list_workflows: GET ")
    assert len(listing) == 1, [record.getMessage() for record in records.records]
    assert listing[0].levelno == logging.INFO
    assert "/workflows answered HTTP 503; retry 1 of 1 in " in listing[0].getMessage()
    assert_no_secret(records, secrets_of(sandbox, grant))


def test_only_the_lines_the_logger_keeps_cross(
    sandbox: Sandbox, records: Records, tmp_path: pathlib.Path
) -> None:
    logging.getLogger(logs.LOGGER_NAME).setLevel(logging.WARNING)
    assert logs.min_level() == logs.AMC_LOG_WARNING
    seen: list[tuple[int, str]] = []
    with binding.Client(config(sandbox, tmp_path / "store.json")) as native:
        native.auth_import("c", sandbox.new_grant())
        fail_once(sandbox, "listWorkflows")
        native.workflow_list({"credential_id": "c", "instance": INSTANCE})
        assert not records.records, "an INFO line crossed for a logger at WARNING"
        # Re-reading the level after it was lowered lets INFO through.
        logging.getLogger(logs.LOGGER_NAME).setLevel(logging.DEBUG)
        logs.forward_to_logging(native)
        fail_once(sandbox, "listWorkflows")
        native.workflow_list({"credential_id": "c", "instance": INSTANCE})
        assert records.containing("list_workflows: GET ")
        # A handler of the user's own replaces the bridge.
        native.set_log(lambda level, line: seen.append((level, line)), logs.AMC_LOG_INFO)
        records.records.clear()
        fail_once(sandbox, "listWorkflows")
        native.workflow_list({"credential_id": "c", "instance": INSTANCE})
    assert not records.records
    assert any(level == logs.AMC_LOG_INFO and "list_workflows: GET " in line for level, line in seen)
    logging.getLogger(logs.LOGGER_NAME).disabled = True
    try:
        assert logs.min_level() > logs.AMC_LOG_ERROR
    finally:
        logging.getLogger(logs.LOGGER_NAME).disabled = False


def test_forwarding_can_be_turned_off(sandbox: Sandbox, records: Records, tmp_path: pathlib.Path) -> None:
    with binding.Client(config(sandbox, tmp_path / "store.json")) as native:
        native.set_log(None)
        native.auth_import("c", sandbox.new_grant())
        fail_once(sandbox, "listWorkflows")
        native.workflow_list({"credential_id": "c", "instance": INSTANCE})
    # Off for clients made from now on: not even what a client says as it is made.
    unverified = {**config(sandbox, tmp_path / "store.json"), "tls": {"verify_peer": False}}
    logs.forward_by_default(False)
    with binding.Client(unverified) as native:
        native.metrics()
    assert not records.records, [record.getMessage() for record in records.records]


def test_a_failing_logging_handler_never_reaches_the_library(
    sandbox: Sandbox, records: Records, tmp_path: pathlib.Path
) -> None:
    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise RuntimeError("handler broke")

    broken = Broken()
    logging.getLogger(logs.LOGGER_NAME).addHandler(broken)
    try:
        with binding.Client(config(sandbox, tmp_path / "store.json")) as native:
            native.auth_import("c", sandbox.new_grant())
            fail_once(sandbox, "listWorkflows")
            assert "workflows" in native.workflow_list({"credential_id": "c", "instance": INSTANCE})
    finally:
        logging.getLogger(logs.LOGGER_NAME).removeHandler(broken)
    assert records.containing("list_workflows: GET ")


def test_levels_map_one_to_one() -> None:
    assert [logs.python_level(level) for level in (10, 20, 30, 40)] == [
        logging.DEBUG,
        logging.INFO,
        logging.WARNING,
        logging.ERROR,
    ]
    assert logs.python_level(25) == logging.INFO and logs.python_level(5) == logging.DEBUG

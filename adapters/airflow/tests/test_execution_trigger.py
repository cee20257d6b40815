"""AmcExecutionTrigger on libamc's native poller, driven directly (as the
triggerer drives it) against amc-sandbox: serialization, the events for
SUCCEEDED / FAILED, cleanup(), on_kill() (and that a trigger moving to
another triggerer cancels nothing, through Airflow's own TriggerRunner), the
deadline, and 200 triggers on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import pathlib
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk._shared.module_loading import import_string
from airflow.sdk.serde import deserialize, serialize
from libamc.binding import Client
from libamc.exceptions import AmcError

from conftest import ADVERTISER, INSTANCES, MARKETPLACE, Sandbox, connection_json, fernet_key
from libamc_airflow.hooks.amc import AmcHook
from libamc_airflow.triggers import execution as trigger_module
from libamc_airflow.triggers.execution import AmcExecutionTrigger

CONN_ID = "amc_trigger_tests"


def instance(name: str = INSTANCES[0]) -> dict[str, str]:
    return {"instance_id": name, "advertiser_id": ADVERTISER, "marketplace_id": MARKETPLACE}


@pytest.fixture
def amc_conn(sandbox: Sandbox, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh grant in connection CONN_ID (from the environment, read-only
    as Airflow 3 gives it to triggers) and a Fernet key."""
    sandbox.admin("DELETE", "faults")
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        connection_json(sandbox, sandbox.new_grant(), tmp_path / "amc" / "store.json"),
    )
    monkeypatch.setenv("AMC_FERNET_KEYS", fernet_key())
    _started_runs.clear()
    yield CONN_ID
    sandbox.admin("DELETE", "faults")
    # Runs a test left going would count against the instance's limit of
    # active executions in later tests.
    for amc_execution_id, where in _started_runs:
        with contextlib.suppress(AmcError):
            if status(CONN_ID, amc_execution_id, where) in {"PENDING", "RUNNING"}:
                client_of(CONN_ID).execution_cancel(
                    {"credential_id": CONN_ID, "instance": where, "amc_execution_id": amc_execution_id}
                )


def client_of(conn_id: str) -> Client:
    return AmcHook.client_for(AmcHook.get_connection(conn_id))


# (AMC execution id, instance) of every run the current test started.
_started_runs: list[tuple[str, dict[str, str]]] = []


def submitted(conn_id: str, sql: str, where: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs `sql` as a saved workflow (AMC limits ad-hoc runs to 30 a day
    per instance; the other tests of the session need those)."""
    place = where or instance()
    workflow_id = "wf_trigger_" + hashlib.sha256(sql.encode()).hexdigest()[:12]
    client = client_of(conn_id)
    client.workflow_sync(
        {
            "credential_id": conn_id,
            "instance": place,
            "workflow": {"workflowId": workflow_id, "sqlQuery": sql},
        }
    )
    answer = client.execution_submit(
        {"credential_id": conn_id, "instance": place, "request": {"workflowId": workflow_id}}
    )
    _started_runs.append((str(answer["amc_execution_id"]), where or instance()))
    return answer


def submit(conn_id: str, sql: str, where: dict[str, str] | None = None) -> str:
    return str(submitted(conn_id, sql, where)["amc_execution_id"])


def status(conn_id: str, amc_execution_id: str, where: dict[str, str] | None = None) -> str:
    execution = client_of(conn_id).execution_get(
        {"credential_id": conn_id, "instance": where or instance(), "amc_execution_id": amc_execution_id}
    )
    return str(execution["status"])


def trigger(conn_id: str, amc_execution_id: str, **settings: Any) -> AmcExecutionTrigger:
    return AmcExecutionTrigger(
        amc_conn_id=conn_id,
        amc_execution_id=amc_execution_id,
        instance=settings.pop("instance", instance()),
        poll_interval=settings.pop("poll_interval", 2.0),
        first_poll_interval=settings.pop("first_poll_interval", 0.5),
        **settings,
    )


async def first_event(run: AmcExecutionTrigger) -> dict[str, Any]:
    generator = run.run()
    try:
        event = await generator.__anext__()
    finally:
        await generator.aclose()
        await run.cleanup()
    return dict(event.payload)


async def watching(run: AmcExecutionTrigger) -> asyncio.Future[Any]:
    """Starts run() as the triggerer would; returns once its watch is on."""
    task = asyncio.ensure_future(run.run().__anext__())
    while run._watch_id is None:
        await asyncio.sleep(0.05)
    return task


async def cancelled(task: asyncio.Future[Any]) -> None:
    """Cancels run() as the triggerer does when it stops or moves a trigger."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_serialization_round_trip_is_json_safe_and_carries_no_token() -> None:
    original = AmcExecutionTrigger(
        amc_conn_id="amc_prod",
        amc_execution_id="2f1b6c7e-0c1a-4f7e-9d55-5a8f0c3e9b21",
        instance=instance(INSTANCES[1]),
        execution_id="airflow_0123456789abcdef0123456789abcdef",
        poll_interval=90.0,
        first_poll_interval=5.0,
        deadline=1_900_000_000.5,
    )
    classpath, kwargs = original.serialize()
    assert classpath == "libamc_airflow.triggers.execution.AmcExecutionTrigger"
    # JSON-safe as it is, and through Airflow's serde as the triggerer stores it.
    stored = json.loads(json.dumps(serialize(kwargs)))
    again = import_string(classpath)(**deserialize(stored))
    assert isinstance(again, AmcExecutionTrigger)
    assert again.serialize() == (classpath, kwargs)
    assert set(kwargs) == {
        "amc_conn_id",
        "amc_execution_id",
        "instance",
        "execution_id",
        "poll_interval",
        "first_poll_interval",
        "deadline",
        "create_time",
        "cancel_on_kill",
    }
    text = json.dumps(kwargs)
    assert "Atza|" not in text and "Atzr|" not in text and "token" not in text.lower()


def test_success_event_from_the_poller(amc_conn: str) -> None:
    amc_execution_id = submit(amc_conn, "-- sandbox: duration=10m\nSELECT 1")
    event = asyncio.run(first_event(trigger(amc_conn, amc_execution_id)))
    assert event["status"] == "success", event
    assert event["amc_execution_id"] == amc_execution_id
    assert event["execution"]["status"] == "SUCCEEDED"


def test_failed_execution_gives_an_event_with_amc_reason(amc_conn: str) -> None:
    amc_execution_id = submit(
        amc_conn, '-- sandbox: duration=5m fail "Table dsp_gone does not exist"\nSELECT 1'
    )
    event = asyncio.run(first_event(trigger(amc_conn, amc_execution_id)))
    assert event["status"] == "failed", event
    assert event["reason"] == "Table dsp_gone does not exist"
    assert event["execution"]["status"] == "FAILED"


def test_unknown_execution_ends_with_a_clear_error(amc_conn: str) -> None:
    event = asyncio.run(first_event(trigger(amc_conn, "00000000-0000-4000-8000-000000000000")))
    assert event["status"] == "error" and event["error_status"] == "AMC_E_NOT_FOUND", event
    assert "00000000-0000-4000-8000-000000000000" in event["error"] or event["error"]


def test_deadline_gives_a_clear_timeout_error(amc_conn: str) -> None:
    amc_execution_id = submit(amc_conn, "-- sandbox: duration=10h\nSELECT 1")
    run = trigger(amc_conn, amc_execution_id, deadline=time.time() + 1.5)
    started = time.monotonic()
    event = asyncio.run(first_event(run))
    assert event["status"] == "error" and event["error_status"] == "AMC_E_TIMEOUT", event
    assert "had not finished by the trigger's deadline" in event["error"]
    assert amc_execution_id in event["error"]
    assert time.monotonic() - started < 30
    # The timeout cancels nothing: the run goes on in AMC.
    assert status(amc_conn, amc_execution_id) in {"PENDING", "RUNNING"}


def test_cleanup_unwatches(amc_conn: str) -> None:
    amc_execution_id = submit(amc_conn, "-- sandbox: duration=10h\nSELECT 1")
    run = trigger(amc_conn, amc_execution_id)

    async def drive() -> None:
        task = await watching(run)
        poller = run._poller
        assert poller is not None
        watched = poller.stats()["watched"]
        await cancelled(task)
        await run.cleanup()
        assert poller.stats()["watched"] == watched - 1
        assert run._watch_id is None

    asyncio.run(drive())
    # Unwatching is not cancelling: the execution keeps running.
    assert status(amc_conn, amc_execution_id) in {"PENDING", "RUNNING"}


def test_on_kill_cancels_the_execution(amc_conn: str) -> None:
    amc_execution_id = submit(amc_conn, "-- sandbox: duration=10h\nSELECT 1")
    run = trigger(amc_conn, amc_execution_id)

    async def drive() -> None:
        await cancelled(await watching(run))
        await run.on_kill()
        await run.cleanup()

    asyncio.run(drive())
    assert status(amc_conn, amc_execution_id) == "CANCELLED"


def test_on_kill_with_cancel_on_kill_off_leaves_the_run(amc_conn: str) -> None:
    amc_execution_id = submit(amc_conn, "-- sandbox: pending=1s duration=10h\nSELECT 3")
    run = trigger(amc_conn, amc_execution_id, cancel_on_kill=False)
    assert run.serialize()[1]["cancel_on_kill"] is False

    async def drive() -> None:
        await cancelled(await watching(run))
        await run.on_kill()
        await run.cleanup()

    asyncio.run(drive())
    assert status(amc_conn, amc_execution_id) != "CANCELLED"


@pytest.mark.parametrize(("user_action", "expected"), [(True, "CANCELLED"), (False, "RUNNING")])
def test_triggerer_calls_on_kill_only_for_a_user_kill(
    amc_conn: str, user_action: bool, expected: str
) -> None:
    """Through Airflow's own TriggerRunner.run_trigger: a cancellation with
    the user-action message (mark failed / clear) cancels the AMC run; a
    plain cancellation (triggerer shutdown, the trigger moving to another
    triggerer) only unwatches."""
    from airflow.jobs import triggerer_job_runner as runner_module

    amc_execution_id = submit(amc_conn, "-- sandbox: pending=1s duration=10h\nSELECT 1")
    run = trigger(amc_conn, amc_execution_id)
    runner = runner_module.TriggerRunner()

    async def drive() -> None:
        runner.triggers[1] = {"task": None, "name": "amc", "events": 0, "is_watcher": False}
        task = asyncio.ensure_future(runner.run_trigger(1, run, None))
        while run._watch_id is None:
            await asyncio.sleep(0.05)
        poller = run._poller
        assert poller is not None
        watched = poller.stats()["watched"]
        if user_action:
            task.cancel(msg=runner_module._USER_ACTION_CANCEL_MSG)
        else:
            task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert poller.stats()["watched"] == watched - 1  # cleanup() ran in both cases

    # Let the execution leave PENDING first, so "RUNNING" is what stays.
    deadline = time.monotonic() + 20
    while status(amc_conn, amc_execution_id) == "PENDING" and time.monotonic() < deadline:
        time.sleep(0.1)
    asyncio.run(drive())
    assert status(amc_conn, amc_execution_id) == expected


def test_one_poller_per_process_and_a_new_one_after_fork(amc_conn: str) -> None:
    connection = AmcHook.get_connection(amc_conn)
    config = trigger_module.poller_config(2.0, 0.5)
    first = trigger_module.shared_poller(AmcHook.client_for(connection), config)
    assert trigger_module.shared_poller(AmcHook.client_for(connection), config) is first
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        code = 1
        try:
            mine = trigger_module.shared_poller(AmcHook.client_for(connection), config)
            code = 0 if mine is not first and mine.stats()["watched"] == 0 else 2
        finally:
            os.write(writer, bytes([code]))
            os._exit(0)
    os.close(writer)
    answer = os.read(reader, 1)
    os.waitpid(child, 0)
    os.close(reader)
    assert answer == b"\x00"


def test_200_triggers_on_one_loop_do_not_block_it_and_read_less(sandbox: Sandbox, amc_conn: str) -> None:
    """200 deferred executions in one event loop: a 100 ms ticker measures
    the loop's lag, and nine ticks in ten are late by less than 100 ms
    (triggers that read AMC on the loop would block it for hundreds of ms
    at every round of polls; a loaded 2-core CI machine delays a few ticks
    that much without any blocking, so the tail is not judged), and the
    poller reads the executions' status fewer times than one coroutine per
    execution, polling at the same first interval, would have."""
    settings = sandbox.admin("GET", "settings")
    sandbox.admin("PUT", "settings", {"max_active_per_instance": 1000})
    try:
        where = [instance(name) for name in INSTANCES]
        # Durations of 3-6 simulated hours (18-36 s at time scale
        # 600): still running when the last of them is submitted (the
        # client's limiter allows 10 requests/s).
        runs = []
        for number in range(200):
            place = where[number % len(where)]
            sql = f"-- sandbox: pending=10s duration={180 + 60 * (number % 4)}m\nSELECT 1"
            answer = submitted(amc_conn, sql, place)
            runs.append(
                (str(answer["amc_execution_id"]), str(answer["execution"].get("createTime") or ""), place)
            )
        before = sandbox.admin("GET", "stats")["by_operation"]
        first_interval = 0.5
        waits: list[float] = []

        async def drive() -> tuple[list[dict[str, Any]], list[float]]:
            lags: list[float] = []
            stop = asyncio.Event()

            async def ticker() -> None:
                loop = asyncio.get_running_loop()
                expected = loop.time() + 0.1
                while not stop.is_set():
                    await asyncio.sleep(max(0.0, expected - loop.time()))
                    lags.append(max(0.0, loop.time() - expected))
                    expected += 0.1

            async def timed(amc_id: str, created: str, place: dict[str, str]) -> dict[str, Any]:
                started = time.monotonic()
                event = await first_event(
                    trigger(
                        amc_conn,
                        amc_id,
                        instance=place,
                        poll_interval=4.0,
                        first_poll_interval=first_interval,
                        create_time=created or None,
                    )
                )
                waits.append(time.monotonic() - started)
                return event

            ticking = asyncio.ensure_future(ticker())
            events = await asyncio.gather(*(timed(*run) for run in runs))
            stop.set()
            await ticking
            return events, lags

        started = time.monotonic()
        events, lags = asyncio.run(drive())
        elapsed = time.monotonic() - started
        after = sandbox.admin("GET", "stats")["by_operation"]
    finally:
        sandbox.admin(
            "PUT",
            "settings",
            {"max_active_per_instance": settings["max_active_per_instance"]},
        )
    assert [event["status"] for event in events] == ["success"] * 200, [
        e for e in events if e["status"] != "success"
    ][:3]
    _started_runs.clear()  # all ended: nothing to cancel
    lags.sort()
    p90 = lags[int(len(lags) * 0.9) - 1]
    assert len(lags) >= 10
    assert p90 < 0.100, (
        f"loop lag p90 {p90 * 1000:.1f} ms (median {statistics.median(lags) * 1000:.1f} ms, "
        f"max {lags[-1] * 1000:.1f} ms)"
    )

    def reads(counts: dict[str, Any]) -> int:
        return int(counts.get("getWorkflowExecution", 0)) + int(counts.get("listWorkflowExecutions", 0))

    status_reads = reads(after) - reads(before)
    # One coroutine per execution, reading every first_interval while it
    # waits (as a plain Python trigger does), makes at least wait / interval
    # reads for each execution.
    one_coroutine_each = sum(max(1, int(wait / first_interval)) for wait in waits)
    assert status_reads < one_coroutine_each, (status_reads, one_coroutine_each, elapsed)

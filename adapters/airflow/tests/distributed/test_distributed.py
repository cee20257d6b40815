"""The short version of issue 26's distributed runs: a real Airflow 3.3
deployment (deployment.py: PostgreSQL, Redis, CeleryExecutor, api-server,
scheduler, dag-processor, two Celery workers, two triggerers) running
deferrable AMC tasks against amc-sandbox over HTTPS.

- Scenario A, steady state: N mapped tasks over two instances all succeed;
  the sandbox counted exactly N creates and no cancel; neither triggerer's
  ``triggers.blocked_main_thread`` moved; with ``token_sharing: "variable"``
  one access-token refresh for the whole deployment.
- Scenario B, failover: one triggerer's whole process tree gets ``kill -9``
  while it runs triggers; they move to the other one and every task
  succeeds, with no second create and no cancel; then a user marks one
  deferred task failed and exactly that AMC execution is cancelled.
- Scenario C, worker SIGTERM: runs waiting in the workers survive a SIGTERM
  to a worker's whole tree (a pod eviction): no cancel, the retries
  re-attach; a user's mark-failed of a waiting retry cancels its run.

Run: ``bash adapters/airflow/test.sh tests/distributed`` (ctest:
airflow.distributed). AMC_DISTRIBUTED_TASKS sets N (default 40).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deployment import Deployment, wait_for

from conftest import ADVERTISER, INSTANCES, MARKETPLACE, Sandbox, connection_json

HERE = pathlib.Path(__file__).resolve().parent
DAG_ID = "amc_distributed"
WORKER_DAG_ID = "amc_distributed_in_worker"
TASKS = int(os.environ.get("AMC_DISTRIBUTED_TASKS", "40"))
# Generous: times double when the machine is shared (docs/airflow-deployment.md).
HEALTHY_TIMEOUT = 400.0
RUN_TIMEOUT = 600.0
# Airflow logs this line exactly where it counts triggers.blocked_main_thread
# (TriggerRunner.block_watchdog): one line per increment of the metric.
BLOCKED = re.compile(r"Triggerer's async thread was blocked for")


def durations(count: int, low: int, high: int) -> list[int]:
    """`count` simulated minutes spread evenly from `low` to `high`."""
    if count <= 1:
        return [low] * count
    return [low + (high - low) * index // (count - 1) for index in range(count)]


def plan(count: int, low: int, high: int) -> dict[str, Any]:
    """The run's conf: `count` runs split over the first two instances."""
    first = count // 2
    return {
        "instances": {
            INSTANCES[0]: durations(first, low, high),
            INSTANCES[1]: durations(count - first, low, high)[::-1],
        }
    }


class Harness:
    """The deployment plus the sandbox and the helpers the scenarios share."""

    def __init__(self, deployment: Deployment, sandbox: Sandbox) -> None:
        self.deployment = deployment
        self.sandbox = sandbox

    def operations(self) -> dict[str, int]:
        stats = self.sandbox.admin("GET", "stats")
        return {str(name): int(count) for name, count in (stats.get("by_operation") or {}).items()}

    def blocked(self) -> dict[str, int]:
        """Per triggerer: how often its loop was reported blocked so far."""
        return {
            process.name: len(BLOCKED.findall(process.output()))
            for process in self.deployment.processes
            if process.name.startswith("triggerer")
        }

    def trigger_run(self, conf: dict[str, Any], dag_id: str = DAG_ID) -> str:
        run = self.deployment.rest("POST", f"dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
        return str(run["dag_run_id"])

    def run_state(self, run_id: str, dag_id: str = DAG_ID) -> str:
        return str(self.deployment.rest("GET", f"dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_run(self, run_id: str, dag_id: str = DAG_ID) -> str:
        def finished() -> str | None:
            self.deployment.check_running()
            state = self.run_state(run_id, dag_id)
            return state if state in ("success", "failed") else None

        return str(wait_for(f"DAG run {run_id} finished", finished, RUN_TIMEOUT, 2.0))

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
        answer = self.deployment.rest("GET", f"dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")
        return [ti for ti in answer["task_instances"] if ti["task_id"].startswith("run_")]

    def trigger_watching(self, run_id: str, task_id: str, map_index: int) -> bool:
        """Whether a live triggerer runs this task instance's trigger and it
        watches its AMC run (its line in that triggerer's trigger log): only
        then can a user's kill reach the trigger's on_kill."""
        rows = self.deployment.sql(
            "SELECT t.triggerer_id, j.hostname FROM task_instance ti JOIN trigger t ON ti.trigger_id = t.id "
            "JOIN job j ON j.id = t.triggerer_id WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = %s "
            "AND ti.map_index = %s AND ti.state = 'deferred'",
            DAG_ID,
            run_id,
            task_id,
            map_index,
        )
        if not rows:
            return False
        job, node = rows[0]
        logs = (
            self.deployment.root
            / str(node)
            / "logs"
            / f"dag_id={DAG_ID}"
            / f"run_id={run_id}"
            / f"task_id={task_id}"
            / f"map_index={map_index}"
        )
        return any("Watching AMC execution" in log.read_text() for log in logs.glob(f"*.trigger.{job}.log"))

    def mark_failed(self, run_id: str, ti: dict[str, Any], dag_id: str = DAG_ID) -> None:
        """What a user does in the UI: mark one task instance failed."""
        self.deployment.rest(
            "PATCH",
            f"dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/{ti['map_index']}",
            {"new_state": "failed"},
        )

    def executions(self) -> list[dict[str, Any]]:
        """Every execution of the two instances, cancelled ones included."""
        found = []
        for instance in INSTANCES[:2]:
            found += self.sandbox_list(instance)
        return found

    def sandbox_list(self, instance: str) -> list[dict[str, Any]]:
        # The admin API has no execution listing: ask AMC's own list with a token
        # of a grant made for this read (counted under lwaToken, read before).
        import ssl
        import urllib.parse
        import urllib.request

        summary = self.sandbox.summary
        secret = (self.sandbox.directory / "client_secret").read_text()
        form = urllib.parse.urlencode(
            {
                "grant_type": "refresh_token",
                "refresh_token": self.sandbox.new_grant(),
                "client_id": summary["client_id"],
                "client_secret": secret,
            }
        ).encode()
        context = ssl.create_default_context(cafile=summary["ca_file"])
        with urllib.request.urlopen(summary["token_url"], data=form, context=context, timeout=30) as answer:
            token = json.loads(answer.read())["access_token"]
        headers = {
            "Amazon-Advertising-API-ClientId": summary["client_id"],
            "Authorization": f"Bearer {token}",
            "Amazon-Advertising-API-AdvertiserId": ADVERTISER,
            "Amazon-Advertising-API-MarketplaceId": MARKETPLACE,
        }
        executions: list[dict[str, Any]] = []
        next_token = ""
        while True:
            query = {"minCreationTime": "2000-01-01T00:00:00", "includeCancelled": "true", "limit": "100"}
            if next_token:
                query["nextToken"] = next_token
            base = f"{summary['url']}/amc/reporting/{instance}/workflowExecutions"
            url = f"{base}?{urllib.parse.urlencode(query)}"
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, context=context, timeout=30) as answer:
                page = json.loads(answer.read())
            executions += page.get("executions") or page.get("workflowExecutions") or []
            next_token = page.get("nextToken") or ""
            if not next_token:
                return executions


@pytest.fixture(scope="module")
def harness(sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The deployment, up and healthy; every process stopped by pid at the
    end, also when a test failed or the run is interrupted (SIGTERM from
    ctest's timeout)."""
    # 40 ad-hoc runs per instance in this module exceed AMC's 30 a day; the
    # deployment guide's pools keep the 10-at-once limit (max_active), which
    # stays at the sandbox's AMC default.
    sandbox.admin("PUT", "settings", {"adhoc_executions_per_day": 100000})
    root = pathlib.Path(tempfile.mkdtemp(prefix="amc-distributed-"))
    deployment = Deployment(root, HERE / "dags", provider_settings={})
    previous = signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    started = time.monotonic()
    failures = request.session.testsfailed
    try:
        deployment.start_postgres()
        deployment.start_redis()
        deployment.start_airflow()
        configure(deployment, sandbox)
        deployment.wait_healthy(HEALTHY_TIMEOUT)
        wait_for("the DAGs parsed", lambda: dag_known(deployment), HEALTHY_TIMEOUT, 1.0)
        print(f"\ndistributed: deployment healthy after {time.monotonic() - started:.1f} s")
        yield Harness(deployment, sandbox)
    finally:
        failed = request.session.testsfailed != failures or sys.exc_info()[0] is not None
        stopping = time.monotonic()
        leftovers = deployment.stop()
        print(
            f"distributed: teardown {time.monotonic() - stopping:.1f} s; "
            f"SIGKILL needed: {leftovers or 'none'}"
        )
        signal.signal(signal.SIGTERM, previous)
        if failed or os.environ.get("AMC_DISTRIBUTED_KEEP"):
            print(f"distributed: logs kept in {root / 'logs'}")
            for process in deployment.processes:
                if process.popen.returncode not in (0, -signal.SIGTERM, None):
                    print(
                        f"--- {process.name} (exit {process.popen.returncode}) ---\n"
                        f"{process.output()[-3000:]}"
                    )
        else:
            import shutil

            shutil.rmtree(root, ignore_errors=True)


def configure(deployment: Deployment, sandbox: Sandbox) -> None:
    """The connection and the pools, as docs/airflow-deployment.md tells
    users: one `amc` connection in Airflow's database (encrypted with the
    deployment's fernet_key), tokens shared through a Variable, and a pool per
    AMC instance whose slots count deferred tasks."""
    connection = json.loads(connection_json(sandbox, sandbox.new_grant(), pathlib.Path("unused")))
    # No store_path: each node keeps its own store under its AIRFLOW_HOME;
    # the access token is shared through a Variable.
    del connection["extra"]["store_path"]
    connection["extra"].update({"region": "na", "token_sharing": "variable"})
    deployment.run_airflow(
        "admin", "connections", "add", "amc_default", "--conn-json", json.dumps(connection)
    )
    for instance in INSTANCES[:2]:
        deployment.run_airflow(
            "admin", "pools", "set", f"amc_{instance}", "10", f"AMC instance {instance}", "--include-deferred"
        )


def dag_known(deployment: Deployment) -> bool:
    import urllib.error

    try:
        for dag_id in (DAG_ID, WORKER_DAG_ID):
            deployment.rest("GET", f"dags/{dag_id}")
        return True
    except urllib.error.HTTPError:
        return False


def test_a_steady_state(harness: Harness) -> None:
    before, blocked = harness.operations(), harness.blocked()
    started = time.monotonic()
    run_id = harness.trigger_run(plan(TASKS, 60, 300))
    state = harness.wait_run(run_id)
    tis = harness.task_instances(run_id)
    print(f"distributed A: {TASKS} tasks {state} in {time.monotonic() - started:.1f} s")
    after = harness.operations()
    assert state == "success", [(ti["task_id"], ti["map_index"], ti["state"]) for ti in tis]
    assert len(tis) == TASKS and all(ti["state"] == "success" for ti in tis)
    created = after.get("createWorkflowExecution", 0) - before.get("createWorkflowExecution", 0)
    cancels = after.get("UpdateWorkflowExecution", 0) - before.get("UpdateWorkflowExecution", 0)
    assert created == TASKS, f"{created} creates for {TASKS} tasks"
    assert cancels == 0
    assert harness.blocked() == blocked, "a triggerer's event loop was blocked"
    # token_sharing "variable": one access token for every worker and triggerer.
    assert after.get("lwaToken", 0) == 1, f"{after.get('lwaToken')} token refreshes"


def test_b_triggerer_failover(harness: Harness) -> None:
    deployment = harness.deployment
    before = harness.operations()

    def cancels() -> int:
        return harness.operations().get("UpdateWorkflowExecution", 0) - before.get(
            "UpdateWorkflowExecution", 0
        )

    started = time.monotonic()
    conf = plan(TASKS, 300, 600)
    # The run a user will kill: long enough (50 min, 300 s here) that AMC cannot
    # finish it first.
    conf["instances"][INSTANCES[0]][-1] = 3000
    to_kill: dict[str, Any] = {
        "task_id": f"run_{INSTANCES[0]}",
        "map_index": len(conf["instances"][INSTANCES[0]]) - 1,
    }
    run_id = harness.trigger_run(conf)
    jobs = deployment.triggerer_jobs()

    # Mid-run, with triggers running: kill -9 the triggerer that holds the most.
    def loaded() -> dict[int, set[int]] | None:
        deployment.check_running()
        by_job = deployment.triggers_by_job()
        return by_job if sum(len(ids) for ids in by_job.values()) >= 8 else None

    by_job = wait_for("triggers running", loaded, RUN_TIMEOUT, 0.5)
    victim_job = max(by_job, key=lambda job: len(by_job[job]))
    victim = next(name for name, job in jobs.items() if job == victim_job)
    survivor = next(name for name in jobs if name != victim)
    moved = move_away(
        deployment, victim_job, jobs[survivor], lambda: deployment.kill_tree(deployment.process(victim))
    )
    print(f"distributed B: kill -9 {victim}: {len(moved)} triggers moved to {survivor}")

    # The killed machine comes back; then the survivor stalls long enough to be
    # declared dead, and wakes up: its triggers moved meanwhile, and it cancels
    # them in its own loop, with Airflow's "user action" message (on_kill).
    # Neither may cancel an AMC run.
    deployment.airflow(victim, "triggerer", "--skip-serve-logs", name=f"{victim}-restarted")
    restarted_job = wait_for(
        f"{victim} back",
        lambda: (job := deployment.triggerer_jobs().get(victim)) != victim_job and job,
        300,
        1.0,
    )
    survivor_process = deployment.process(survivor)
    stalled = move_away(
        deployment, jobs[survivor], restarted_job, lambda: deployment.pause_tree(survivor_process, True)
    )
    deployment.pause_tree(survivor_process, False)
    print(f"distributed B: {survivor} stalled: {len(stalled)} triggers moved to the restarted {victim}")
    # The woken triggerer drops the triggers it lost within a few loops.
    time.sleep(15)
    assert cancels() == 0, "a failover or a stalled triggerer cancelled an AMC run"

    # A user marks the long task failed while a triggerer watches its run: its
    # AMC run is cancelled.
    wait_for(
        "the long task's trigger watching",
        lambda: harness.trigger_watching(run_id, str(to_kill["task_id"]), int(to_kill["map_index"])),
        RUN_TIMEOUT,
        0.5,
    )
    marked = to_kill
    harness.mark_failed(run_id, marked)
    state = harness.wait_run(run_id)
    print(f"distributed B: {TASKS} tasks {state} in {time.monotonic() - started:.1f} s")
    tis = harness.task_instances(run_id)
    after = harness.operations()
    others = [
        ti for ti in tis if (ti["task_id"], ti["map_index"]) != (marked["task_id"], marked["map_index"])
    ]
    assert len(others) == TASKS - 1
    assert all(ti["state"] == "success" for ti in others), [
        (ti["task_id"], ti["map_index"], ti["state"]) for ti in others
    ]
    created = after.get("createWorkflowExecution", 0) - before.get("createWorkflowExecution", 0)
    assert created == TASKS, f"{created} creates for {TASKS} tasks"
    wait_for("the marked task's AMC run cancelled", lambda: cancels() >= 1, 120, 1.0)
    time.sleep(3)
    assert cancels() == 1
    # The shared token outlived the failover: one refresh in the deployment's life.
    after = harness.operations()
    assert after.get("lwaToken", 0) == 1, f"{after.get('lwaToken', 0)} token refreshes"
    cancelled = [e for e in harness.executions() if e.get("status") == "CANCELLED"]
    assert len(cancelled) == 1, cancelled


def move_away(deployment: Deployment, from_job: int, to_job: int, act: Callable[[], None]) -> set[int]:
    """Does `act` (kill or stall the triggerer of `from_job`) and waits until
    none of its triggers is assigned to it any more; returns those seen moved
    to `to_job` (a trigger may also fire there before a read sees it)."""
    held = deployment.triggers_by_job().get(from_job, set())
    assert held, f"triggerer job {from_job} runs no trigger"
    act()
    seen: set[int] = set()

    def moved() -> bool:
        current = deployment.triggers_by_job()
        seen.update(held & current.get(to_job, set()))
        return not (held & current.get(from_job, set()))

    wait_for(f"the triggers of job {from_job} moved", moved, RUN_TIMEOUT, 0.5)
    assert seen, "no trigger was seen on the other triggerer"
    return seen


def test_c_worker_sigterm_costs_no_run(harness: Harness) -> None:
    """Runs that wait in the worker: SIGTERM to a worker's whole process tree
    (a pod eviction; the supervisor forwards it, the task's on_kill runs)
    cancels no AMC run, and the retries re-attach; a user's mark-failed of a
    running task still cancels its run."""
    deployment = harness.deployment
    before = harness.operations()
    count = 4  # two workers, two slots each

    def cancels() -> int:
        return harness.operations().get("UpdateWorkflowExecution", 0) - before.get(
            "UpdateWorkflowExecution", 0
        )

    def creates() -> int:
        return harness.operations().get("createWorkflowExecution", 0) - before.get(
            "createWorkflowExecution", 0
        )

    started = time.monotonic()
    run_id = harness.trigger_run({"instances": {INSTANCES[0]: [900] * count}}, WORKER_DAG_ID)

    def waiting() -> list[dict[str, Any]] | None:
        deployment.check_running()
        running = [ti for ti in harness.task_instances(run_id, WORKER_DAG_ID) if ti["state"] == "running"]
        return running if len(running) == count and creates() == count else None

    running = wait_for("every task waiting in a worker", waiting, RUN_TIMEOUT, 1.0)
    time.sleep(3)
    victim = str(running[0]["hostname"])
    on_victim = [ti for ti in running if ti["hostname"] == victim]
    worker = deployment.process(victim)
    deployment.kill_tree(worker, signal.SIGTERM)
    wait_for(f"{victim} shut down", lambda: worker.popen.poll() is not None, 180, 1.0)
    print(f"distributed C: SIGTERM to {victim} ({len(on_victim)} tasks waiting there) after the creates")
    deployment.airflow(
        victim, "celery", "worker", "-H", f"{victim}@%h", "--skip-serve-logs", name=f"{victim}-restarted"
    )
    assert cancels() == 0, "a worker's SIGTERM cancelled an AMC run"

    # The retries re-attach; then a user marks one running task failed.
    def retried() -> list[dict[str, Any]] | None:
        deployment.check_running()
        tis = harness.task_instances(run_id, WORKER_DAG_ID)
        again = [ti for ti in tis if ti["try_number"] > 1 and ti["state"] == "running"]
        return again or None

    marked = wait_for("a retry waiting in a worker", retried, RUN_TIMEOUT, 1.0)[0]
    time.sleep(3)
    assert cancels() == 0
    harness.mark_failed(run_id, marked, WORKER_DAG_ID)
    state = harness.wait_run(run_id, WORKER_DAG_ID)
    print(f"distributed C: {count} tasks {state} in {time.monotonic() - started:.1f} s")
    tis = harness.task_instances(run_id, WORKER_DAG_ID)
    others = [ti for ti in tis if ti["map_index"] != marked["map_index"]]
    assert all(ti["state"] == "success" for ti in others), [(ti["map_index"], ti["state"]) for ti in tis]
    assert {ti["map_index"] for ti in on_victim if ti["map_index"] != marked["map_index"]} <= {
        ti["map_index"] for ti in others if ti["try_number"] > 1
    }
    assert creates() == count, f"{creates()} creates for {count} tasks"
    wait_for("the marked task's AMC run cancelled", lambda: cancels() >= 1, 120, 1.0)
    time.sleep(3)
    assert cancels() == 1

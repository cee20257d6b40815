"""DAGs of the distributed deployment harness (tests/distributed): N
deferrable AMC runs through dynamic task mapping over two sandbox instances,
each instance's tasks in its own Airflow pool that counts deferred tasks
(docs/airflow-deployment.md: AMC runs at most 10 executions per instance),
once per connection the scenarios use; and runs that wait in the worker,
for a worker's SIGTERM.

The run's conf gives the instances and, per instance, the simulated
durations (minutes) of its runs: {"instances": {"id": [minutes, ...]}}.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from libamc_airflow.operators.amc import AmcRunWorkflowOperator

FIRST, SECOND = "amcairflow01", "amcairflow02"


@task
def plan(instance: str, **context: object) -> list[str]:
    """One ad-hoc SQL per run of this instance, its duration in a sandbox marker."""
    conf = context["dag_run"].conf  # type: ignore[attr-defined]
    minutes = conf["instances"].get(instance, [])
    return [f"SELECT {index} -- sandbox: duration={value}m" for index, value in enumerate(minutes)]


DAG_SETTINGS: dict[str, Any] = {
    "schedule": None,
    "start_date": datetime(2026, 1, 1),
    "catchup": False,
    "max_active_tasks": 128,
    "default_args": {"retries": 2, "retry_delay": timedelta(seconds=5)},
    "tags": ["amc", "test"],
}


# The scenarios' mapped runs: amc_default (token_sharing "variable"); scenario
# D's storms on a credential of their own (amc_storm, variable), so that its
# tokens have the short lifetime D sets; token_sharing "process" (amc_process).
for dag_id, conn_id in (
    ("amc_distributed", "amc_default"),
    ("amc_distributed_storm", "amc_storm"),
    ("amc_distributed_process", "amc_process"),
):
    with DAG(dag_id=dag_id, **DAG_SETTINGS):
        for instance in (FIRST, SECOND):
            AmcRunWorkflowOperator.partial(
                task_id=f"run_{instance}",
                amc_conn_id=conn_id,
                deferrable=True,
                poll_interval=2.0,
                wait_timeout=timedelta(minutes=20),
                instance={"instance_id": instance},
                pool=f"amc_{instance}",
            ).expand(sql=plan.override(task_id=f"plan_{instance}")(instance))

with DAG(dag_id="amc_distributed_in_worker", **DAG_SETTINGS):
    # Runs that wait in the worker (deferrable=False), for a worker's SIGTERM.
    AmcRunWorkflowOperator.partial(
        task_id="run_in_worker",
        deferrable=False,
        poll_interval=2.0,
        wait_timeout=timedelta(minutes=20),
        instance={"instance_id": FIRST},
        pool=f"amc_{FIRST}",
    ).expand(sql=plan.override(task_id="plan_in_worker")(FIRST))

"""DAGs of the harness's trigger comparison (issue 26 point 6, full version
only): the same mapped AMC runs deferred to libamc's trigger
(amc_bench_libamc) or to the pure-Python peer (amc_bench_peer), both from
bench/ (copied onto every node's PYTHONPATH by the harness), each run with
a loop-lag probe in the triggerer.

The run's conf: {"instances": {"id": [minutes, ...]}}; each run's plan is
written out in its SQL (PENDING 60 s, RUNNING the minutes, PUBLISHING 10 s,
simulated) so that the harness knows when AMC ended it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task
from airflow_trigger_bench import LoopLagProbeOperator, TriggerBenchOperator

INSTANCES = ("amcairflow01", "amcairflow02", "amcairflow03")


@task
def bench_plan(instance: str, **context: object) -> list[str]:
    conf = context["dag_run"].conf  # type: ignore[attr-defined]
    minutes = conf["instances"].get(instance, [])
    return [
        f"SELECT {index} -- sandbox: pending=60s duration={value}m publishing=10s"
        for index, value in enumerate(minutes)
    ]


for kind in ("libamc", "peer"):
    with DAG(
        dag_id=f"amc_bench_{kind}",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_tasks=4096,
        default_args={"retries": 0},
        tags=["amc", "test", "bench"],
    ):
        LoopLagProbeOperator(task_id="loop_lag")
        for instance in INSTANCES:
            TriggerBenchOperator.partial(
                task_id=f"bench_{instance}",
                trigger_kind=kind,
                deferrable=True,
                poll_interval=2.0,
                wait_timeout=timedelta(minutes=60),
                instance={"instance_id": instance},
            ).expand(sql=bench_plan.override(task_id=f"plan_{instance}")(instance))

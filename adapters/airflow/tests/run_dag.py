"""Runs one DAG in this process and prints a summary line
"DAG_TEST_SUMMARY {json}": the run's state, every task instance (task id,
map index, state, try number) and their XCom return values.

Usage: run_dag.py MODE DAG_ID LOGICAL_DATE CONF_JSON [TASK_ID]
(LOGICAL_DATE "none": a manual run without a logical date, mode test only)

  test    Airflow's dag.test(). It replaces any earlier run of the same
          logical date (and with it that run's task_state_store).
  retry   keeps the DAG run of that date and does what the scheduler does
          for a task whose process died (heartbeat timeout): the running
          task instance gets its next try; then it runs with the same
          function dag.test() uses (_run_task, triggers inline).
  clear   keeps the DAG run and clears TASK_ID as `airflow tasks clear`
          does (clear_task_instances), then runs it the same way.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from airflow.dag_processing.dagbag import DagBag
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import clear_task_instances
from airflow.models.xcom import XComModel
from airflow.sdk import TaskInstanceState
from airflow.sdk.definitions.dag import FINISHED_STATES, _run_task
from airflow.serialization.serialized_objects import DagSerialization
from airflow.utils.session import create_session


def summary(dag_id: str, run: DagRun) -> dict[str, Any]:
    tasks = []
    with create_session() as session:
        run = session.merge(run)
        for ti in run.get_task_instances(session=session):
            values = {}
            for key in ("return_value", "_link_AmcExecutionLink"):
                rows = (
                    session.query(XComModel)
                    .filter_by(
                        dag_id=dag_id, run_id=run.run_id, task_id=ti.task_id, map_index=ti.map_index, key=key
                    )
                    .all()
                )
                values[key] = XComModel.deserialize_value(rows[0]) if rows else None
            tasks.append(
                {
                    "task_id": ti.task_id,
                    "map_index": ti.map_index,
                    "state": str(ti.state),
                    "try_number": ti.try_number,
                    "xcom": values["return_value"],
                    "link": values["_link_AmcExecutionLink"],
                }
            )
        state = str(run.state)
    return {"state": state, "run_id": run.run_id, "tasks": tasks}


def run_again(dag: Any, dag_id: str, logical_date: datetime, task_id: str | None) -> DagRun:
    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id=dag_id, logical_date=logical_date).one()
        # The scheduler's view of the DAG, as dag.test() makes it.
        run.dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
        tis = run.get_task_instances(session=session)
        if task_id is not None:
            clear_task_instances([ti for ti in tis if ti.task_id == task_id], session, dag_run_state=False)
        session.commit()
        chosen = [
            ti
            for ti in run.get_task_instances(session=session)
            if ti.state not in FINISHED_STATES or ti.task_id == task_id
        ]
        for ti in chosen:
            # The next try, as the scheduler schedules it.
            ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
        session.commit()
        for ti in chosen:
            _run_task(ti=ti, task=dag.task_dict[ti.task_id], run_triggerer=True)
        scheduler_dag = run.dag
        session.expire_all()
        run = session.query(DagRun).filter_by(dag_id=dag_id, logical_date=logical_date).one()
        run.dag = scheduler_dag
        run.update_state(session=session)
        session.commit()
        return run


def run(
    mode: str, dag_id: str, logical_date: datetime | None, conf: dict[str, Any], task_id: str | None
) -> dict[str, Any]:
    bag = DagBag()
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id} in {sorted(bag.dag_ids)}"
    if mode == "test":
        dag_run = dag.test(logical_date=logical_date, run_after=logical_date, run_conf=conf)
    else:
        assert logical_date is not None, f"mode {mode} finds the DAG run by its logical date"
        dag_run = run_again(dag, dag_id, logical_date, task_id if mode == "clear" else None)
    return summary(dag_id, dag_run)


def main() -> None:
    mode, dag_id = sys.argv[1], sys.argv[2]
    logical_date = datetime.fromisoformat(sys.argv[3]) if sys.argv[3] != "none" else None
    task_id = sys.argv[5] if len(sys.argv) > 5 else None
    result = run(mode, dag_id, logical_date, json.loads(sys.argv[4]), task_id)
    print("DAG_TEST_SUMMARY " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()

"""Test DAG: the task process dies right after the AMC create call.

AMC_TEST_KILL="before_state:TASK" kills task TASK's process before the
execution id reaches task_state_store (only libamc's journal knows the run),
"after_state:TASK" just after (task_state_store knows it);
"raise_after_state:TASK" makes the first try fail there instead. Unset: runs
normally, as the retry does.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from libamc_airflow.operators.amc import AmcRunWorkflowOperator


class KilledAfterCreate(AmcRunWorkflowOperator):
    def _remember(self, context: Any, record: dict[str, Any]) -> None:
        kill, _, task_id = os.environ.get("AMC_TEST_KILL", "").partition(":")
        if task_id != self.task_id:
            kill = ""
        if kill == "before_state" and not record.get("finished"):
            os.kill(os.getpid(), signal.SIGKILL)
        super()._remember(context, record)
        if kill == "after_state" and not record.get("finished"):
            os.kill(os.getpid(), signal.SIGKILL)
        if kill == "raise_after_state" and not record.get("finished") and context["ti"].try_number == 1:
            raise RuntimeError("the worker went away right after the create call")


with DAG(dag_id="amc_killed_retry", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    for deferrable in (True, False):
        KilledAfterCreate(
            task_id="deferred" if deferrable else "in_worker",
            # An hour of simulated RUNNING (6 s here): still running when the retry comes.
            sql="-- sandbox: duration=1h\nSELECT COUNT(*) AS impressions FROM dsp_impressions",
            time_window_type="MOST_RECENT_DAY",
            deferrable=deferrable,
            poll_interval=2,
            retries=1,
            retry_delay=timedelta(0),
        )

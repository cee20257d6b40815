"""The first trigger's module path, kept for triggers already stored in an
Airflow database: they were serialized as
``libamc_airflow.triggers.amc.AmcExecutionTrigger`` with amc_conn_id,
amc_execution_id, execution_id, poll_interval and instance, all of which
the native-poller trigger accepts. New deferrals use
``libamc_airflow.triggers.execution.AmcExecutionTrigger``."""

from libamc_airflow.triggers.execution import AmcExecutionTrigger

__all__ = ["AmcExecutionTrigger"]

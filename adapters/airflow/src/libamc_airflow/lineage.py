"""OpenLineage for AMC runs, when apache-airflow-providers-openlineage is
installed (it is optional: without it nothing here is imported).

The OpenLineage provider calls ``get_openlineage_facets_on_complete`` of a
finished task. For an AMC run it says:

- the job's SQL (``SQLJobFacet``): the ad-hoc SQL, or the saved workflow's
  (one workflow read);
- AMC's execution id as the external query id (``ExternalQueryRunFacet``,
  source ``amc://<instance_id>``);
- the downloaded result files as output datasets, namespace
  ``amc://<instance_id>``, name ``<amc_execution_id>/<file name>``; without a
  download, one output dataset for the execution's result,
  ``<amc_execution_id>``.
"""

from __future__ import annotations

import pathlib
from typing import Any


def namespace(instance_id: str) -> str:
    """The OpenLineage namespace of an AMC instance."""
    return f"amc://{instance_id}"


def output_names(amc_execution_id: str, manifest: dict[str, Any] | None) -> list[str]:
    """The output datasets' names: one per result file, else the execution's result."""
    files = (manifest or {}).get("files") or []
    names = [f"{amc_execution_id}/{pathlib.PurePath(str(part.get('path', ''))).name}" for part in files]
    return [name for name in names if not name.endswith("/")] or [amc_execution_id]


def operator_lineage(
    *, sql: str | None, instance_id: str, amc_execution_id: str, manifest: dict[str, Any] | None
) -> Any:
    """The OpenLineage provider's OperatorLineage for one finished AMC run."""
    from airflow.providers.common.compat.openlineage.facet import (
        ExternalQueryRunFacet,
        OutputDataset,
        SQLJobFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    where = namespace(instance_id)
    return OperatorLineage(
        inputs=[],
        outputs=[
            OutputDataset(namespace=where, name=name) for name in output_names(amc_execution_id, manifest)
        ],
        run_facets={"externalQuery": ExternalQueryRunFacet(externalQueryId=amc_execution_id, source=where)},
        job_facets={"sql": SQLJobFacet(query=sql)} if sql else {},
    )


class AmcLineageMixin:
    """``get_openlineage_facets_on_complete`` for AmcRunWorkflowOperator. The
    facts are what the task kept of its finished run (``finished_run``: ids,
    instance, manifest; the same whether it deferred or not), not XCom:
    the OpenLineage listener calls this in a forked process, where a call
    back into Airflow's task API may hang."""

    sql: str | None
    workflow_id: str | None
    instance: dict[str, str] | None
    amc_conn_id: str
    finished_run: dict[str, Any] | None = None

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        result = self.finished_run
        if not result or not result.get("amc_execution_id"):
            return None
        instance_id = result.get("instance_id") or (self.instance or {}).get("instance_id") or "unknown"
        sql = self.sql if self.sql else None
        if sql is None and self.workflow_id:
            sql = self._saved_sql(str(instance_id))
        return operator_lineage(
            sql=sql,
            instance_id=str(instance_id),
            amc_execution_id=str(result["amc_execution_id"]),
            manifest=result.get("manifest"),
        )

    def _saved_sql(self, instance_id: str) -> str | None:
        """The saved workflow's SQL (one read; lineage must not fail the task)."""
        from libamc.exceptions import AmcError

        from libamc_airflow.hooks.amc import AmcHook

        hook = AmcHook(self.amc_conn_id)
        try:
            request = hook.request(workflow_id=self.workflow_id)
            request["instance"] = {**request["instance"], **(self.instance or {}), "instance_id": instance_id}
            workflow = hook.get_conn().workflow_get(request)
        except AmcError:
            return None
        query = workflow.get("sqlQuery") or (workflow.get("workflow") or {}).get("sqlQuery")
        return str(query) if query else None

"""Issue 25 points 5 and 8 in real Airflow 3.3: the provider as Airflow's
own commands and ProvidersManager see it. The distribution's name gives
the module Airflow 3.3 looks in for example DAGs (no traceback, the example
DAGs found), the connection form has a field for every documented extra,
provider info lists the trigger module deferrals use, and `airflow
connections test` works as the docs say to switch it on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, Sandbox

AIRFLOW = Path(sys.executable).with_name("airflow")
EXAMPLE_DAGS = {"example_amc", "example_amc_adhoc", "example_amc_fan_out"}


def airflow(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AIRFLOW), *arguments],
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_example_dags_are_found_without_a_traceback() -> None:
    """Airflow 3.3 (dag_processing/bundles/manager.py) imports the module
    named after the distribution, dashes to underscores
    (airflow_provider_libamc), to find a provider's example_dags; with
    examples on, the provider's become a bundle of their own. --verbose
    keeps the command's log lines, where the traceback of a module that
    does not import went."""
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "True"}
    bundle = "airflow-provider-libamc-example-dags"
    completed = airflow("dags", "report", "--verbose", "--bundle-name", bundle, "--output", "json", env=env)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    assert "Traceback" not in output and "Could not load provider module" not in output, output[-6000:]
    # The report is the one JSON line among --verbose's log lines.
    (report_line,) = [line for line in completed.stdout.splitlines() if line.startswith("[{")]
    found = {dag_id for entry in json.loads(report_line) for dag_id in entry["dags"]}
    assert found >= EXAMPLE_DAGS, report_line


def documented_extras() -> list[str]:
    """The extra fields docs/airflow.md's connection table lists."""
    text = (REPO / "docs" / "airflow.md").read_text()
    extras = re.findall(r"^\| [^|]+ \| `extra\.(\w+)` \|", text, flags=re.MULTILINE)
    assert len(extras) >= 10, "docs/airflow.md has no table of the connection's extra fields"
    return extras


def test_the_connection_form_sets_every_documented_extra() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    widgets = manager.connection_form_widgets
    missing = [name for name in documented_extras() if f"extra__amc__{name}" not in widgets]
    assert not missing, f"no form field for the documented extras {missing}"
    # The raw Extra field stays hidden: the form is the only way to set them.
    assert "extra" in manager.field_behaviours["amc"]["hidden_fields"]
    # token_sharing offers its two values.
    schema = widgets["extra__amc__token_sharing"].field["schema"]
    assert {"process", "variable"} <= set(schema.get("enum") or []), schema


def test_provider_info_lists_the_trigger_module_deferrals_use() -> None:
    from airflow.providers_manager import ProvidersManager

    from libamc_airflow.triggers.execution import AmcExecutionTrigger
    from libamc_airflow.triggers.workflow import AmcWorkflowRunTrigger

    listed = sorted(
        info.trigger_class_name
        for info in ProvidersManager().trigger
        if info.package_name == "airflow-provider-libamc"
    )
    # The modules the triggers' serialized classpaths name: the deferrals'
    # and the AssetWatcher's; no legacy alias module.
    modules = sorted(
        {
            AmcExecutionTrigger(amc_conn_id="c", amc_execution_id="e").serialize()[0].rsplit(".", 1)[0],
            AmcWorkflowRunTrigger.__module__,
        }
    )
    assert listed == modules, listed


def test_connections_test_works_as_the_docs_say(sandbox: Sandbox, airflow_env: dict[str, str]) -> None:
    # The top README links the provider's README, and says how to switch
    # connection tests on; docs/airflow.md says it too.
    readme = (REPO / "README.md").read_text()
    assert "(adapters/airflow/README.md)" in readme
    found = [
        re.search(r"export (AIRFLOW__CORE__TEST_CONNECTION)=(\w+)", text)
        for text in (readme, (REPO / "docs" / "airflow.md").read_text())
    ]
    assert all(found), "README.md and docs/airflow.md say how to switch connection tests on"
    ((name, value),) = {(match.group(1), match.group(2)) for match in found if match}
    completed = airflow("connections", "test", "amc_default", env={**airflow_env, name: value})
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0 and "Connection success!" in output, output[-4000:]

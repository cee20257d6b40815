"""The binding moved to the libamc distribution (libamc.binding, .poller,
.exceptions, .executions); the old libamc_airflow paths keep working, as the
very same modules, with a DeprecationWarning (CHANGELOG.md says so)."""

from __future__ import annotations

import subprocess
import sys

import pytest

MOVED = ["binding", "poller", "exceptions", "executions"]


@pytest.mark.parametrize("name", MOVED)
def test_the_old_path_is_the_moved_module_with_a_deprecation_warning(name: str) -> None:
    code = (
        "import importlib, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    old = importlib.import_module('libamc_airflow.{name}')\n"
        f"new = importlib.import_module('libamc.{name}')\n"
        "assert old is new, (old, new)\n"
        "messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]\n"
        f"assert any('libamc.{name}' in m for m in messages), messages\n"
        "print('ok')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.stdout.strip() == "ok", completed.stderr


def test_the_provider_itself_imports_nothing_deprecated() -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "import libamc_airflow.hooks.amc, libamc_airflow.operators.amc, libamc_airflow.sensors.amc\n"
        "import libamc_airflow.triggers.execution, libamc_airflow.shared_tokens\n"
        "import sys\n"
        "moved = [m for m in ('binding', 'poller', 'exceptions', 'executions')\n"
        "         if f'libamc_airflow.{m}' in sys.modules]\n"
        "print(moved)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert completed.stdout.strip().splitlines()[-1:] == ["[]"], completed.stderr


def test_the_provider_requires_libamc_at_its_own_version() -> None:
    from importlib.metadata import requires, version

    provider = version("airflow-provider-libamc")
    assert version("libamc") == provider
    assert f"libamc=={provider}" in (requires("airflow-provider-libamc") or [])

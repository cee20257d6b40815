"""Resource hygiene under valgrind memcheck (issue 23, Deliver point 5):
the C host example (adapters/c/host_example.c), `amcctl run` and a Python
session using the binding each run one workflow against the sandbox with
no memcheck error and no leak (definite or indirect) reported.

Only in a tree without sanitizers (tests/adapters/CMakeLists.txt). Python
runs with PYTHONMALLOC=malloc (so memcheck sees every allocation) and the
suppressions of tests/tools/valgrind-python.supp, which cover only what the
interpreter itself allocates and never frees (each entry says why): an
allocation made inside libamc is never suppressed."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import AMCCTL, HOST_EXAMPLE, LIBRARY, REPO, clean_env, fernet_key, store_put_credential

VALGRIND = os.environ.get("VALGRIND") or "valgrind"
SUPPRESSIONS = REPO / "tests" / "tools" / "valgrind-python.supp"
ERROR_EXIT = 97
MEMCHECK = [
    VALGRIND,
    "--tool=memcheck",
    f"--error-exitcode={ERROR_EXIT}",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect",
    "--errors-for-leak-kinds=definite,indirect",
    "--num-callers=40",
]
SQL = "-- sandbox: duration=2s parts=2 rows=20\nSELECT 1 AS one\n"


def memcheck(arguments, env, tmp_path, timeout=600):
    log = tmp_path / "memcheck.log"
    completed = subprocess.run([*MEMCHECK, f"--log-file={log}", *map(str, arguments)], capture_output=True,
                               text=True, env=env, timeout=timeout)
    report = log.read_text() if log.exists() else ""
    assert completed.returncode != ERROR_EXIT, f"memcheck found errors or leaks:\n{report}"
    assert "ERROR SUMMARY: 0 errors" in report, report
    return completed


@pytest.fixture(scope="module")
def valgrind():
    found = subprocess.run([VALGRIND, "--version"], capture_output=True, text=True)
    assert found.returncode == 0, "valgrind is needed (apt-get install valgrind; .ci/install-deps.sh has it)"


def setup(sandbox, tmp_path, credential_id):
    summary = sandbox.summary
    store = {"path": str(tmp_path / "credentials.json"), "fernet_keys": fernet_key()}
    grant = (sandbox.directory / "refresh_token").read_text().strip()
    store_put_credential(store, {"credential_id": credential_id, "client_id": summary["client_id"],
                                 "refresh_token": grant})
    config = {"endpoints": {"amc": summary["url"], "lwa_token": summary["token_url"],
                            "lwa_consent": summary["consent_url"]},
              "lwa": {"client_id": summary["client_id"],
                      "client_secret": (sandbox.directory / "client_secret").read_text().strip()},
              "tls": {"ca_file": summary["ca_file"]}, "store": store}
    who = {"credential_id": credential_id,
           "instance": {"instance_id": summary["instance_id"], "advertiser_id": summary["advertiser_id"],
                        "marketplace_id": summary["marketplace_id"]}}
    return config, who


def test_host_example_is_memcheck_clean(valgrind, sandbox, tmp_path):
    config, who = setup(sandbox, tmp_path, "host")
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "request.json").write_text(json.dumps(who))
    (tmp_path / "query.sql").write_text(SQL)
    completed = memcheck([HOST_EXAMPLE, tmp_path / "config.json", tmp_path / "request.json", tmp_path / "query.sql",
                          tmp_path / "out"], clean_env(AMC_LIBRARY=str(LIBRARY)), tmp_path)
    assert completed.returncode == 0, completed
    assert sorted(os.listdir(tmp_path / "out")) == ["part-1.csv", "part-2.csv"]


def test_amcctl_run_is_memcheck_clean(valgrind, sandbox, tmp_path):
    login = sandbox("auth", "login")
    assert login.code == 0, login
    (tmp_path / "query.sql").write_text(SQL)
    completed = memcheck([AMCCTL, "--sandbox", "--sandbox-dir", sandbox.directory, "run", "--sql",
                          tmp_path / "query.sql", "--out", tmp_path / "out"], clean_env(), tmp_path)
    assert completed.returncode == 0, completed
    assert "part-1.csv" in os.listdir(tmp_path / "out")


# The config holds the client secret and a key: it goes in a file, never on
# the command line (memcheck's log repeats the command).
PYTHON_SESSION = """
import json, pathlib, sys
import libamc
config, who = json.loads(pathlib.Path(sys.argv[1]).read_text()), json.loads(pathlib.Path(sys.argv[2]).read_text())
out = sys.argv[3]
with libamc.Client(config) as client:
    run = client.execution_submit({**who, "request": {"workflow": {"sqlQuery": sys.argv[4]}}})
    events = []
    with libamc.Poller(client, {"first_interval_ms": 200, "min_interval_ms": 100}) as poller:
        poller.watch({**who, "amc_execution_id": run["amc_execution_id"]}, None)
        while not (events and events[-1].get("terminal")):
            event = poller.next_event(30000)
            assert event is not None, "no event within 30 s"
            events.append(event)
    assert events[-1]["status"] == "SUCCEEDED", events[-1]
    client.execution_wait({**who, "amc_execution_id": run["amc_execution_id"]})
    manifest = client.results_download({**who, "amc_execution_id": run["amc_execution_id"], "directory": out})
    print("files", len(manifest["files"]))
"""


def test_a_python_session_is_memcheck_clean(valgrind, sandbox, tmp_path):
    config, who = setup(sandbox, tmp_path, "python")
    env = clean_env(AMC_LIBRARY=str(LIBRARY), PYTHONMALLOC="malloc",
                    PYTHONPATH=str(REPO / "adapters" / "python" / "src"))
    # Debian's interpreter (the one CI's venv links to), not a venv's link:
    # the session needs nothing but the standard library and libamc.
    python = pathlib.Path("/usr/bin/python3")
    if not python.exists():
        python = pathlib.Path(os.path.realpath(sys.executable))
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "request.json").write_text(json.dumps(who))
    completed = memcheck([f"--suppressions={SUPPRESSIONS}", python, "-c", PYTHON_SESSION, tmp_path / "config.json",
                          tmp_path / "request.json", tmp_path / "out", SQL], env, tmp_path)
    assert completed.returncode == 0, completed
    assert "files 2" in completed.stdout, completed

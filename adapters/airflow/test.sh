#!/usr/bin/env bash
# The Airflow provider's tests in real Apache Airflow 3.3.2:
#  1. a venv (build/airflow-venv) with Airflow, the build backend and the
#     checks, pinned by our constraints file; reinstalled only when the
#     pins change (a hash of them is kept in the venv), like .ci/install-deps.sh;
#  2. the wheel, built by scikit-build-core from this CMake project (tree
#     build/wheel, so a rebuild compiles only what changed), installed into
#     the venv;
#  3. a temporary AIRFLOW_HOME, `airflow db migrate`, and a check that
#     `airflow providers list` shows the provider;
#  4. ruff and mypy on the adapter; pytest against amc-sandbox (AMC_SANDBOX,
#     default build/release/src/sandbox/amc-sandbox).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
constraints="$here/constraints-3.3.2-py3.11.txt"
requirements="$here/requirements-test.txt"
venv="${AMC_AIRFLOW_VENV:-$repo/build/airflow-venv}"
export AMC_SANDBOX="${AMC_SANDBOX:-$repo/build/release/src/sandbox/amc-sandbox}"

wanted=$(cat "$constraints" "$requirements" | sha256sum | cut -c1-64)
if [ ! -x "$venv/bin/python" ]; then
  echo "airflow: creating $venv"
  "${AMC_PYTHON:-python3}" -m venv "$venv"
fi
if [ "$(cat "$venv/.constraints.sha256" 2>/dev/null)" != "$wanted" ]; then
  echo "airflow: installing Airflow 3.3.2 and the pinned tools (constraints-3.3.2-py3.11.txt)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$constraints" -r "$requirements"
  echo "$wanted" >"$venv/.constraints.sha256"
fi

echo "airflow: building the wheel"
dist="$repo/build/airflow-dist"
rm -rf "$dist"
"$venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps -w "$dist" "$here"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$dist"/*.whl

home=$(mktemp -d "${TMPDIR:-/tmp}/amc-airflow-home.XXXXXX")
trap 'rm -rf "$home"' EXIT
export AIRFLOW_HOME="$home"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# The DAGs the tests run: the package's example DAGs (as installed) and the
# test DAGs.
mkdir "$home/dags"
examples=$("$venv/bin/python" -c 'import libamc_airflow, pathlib; print(pathlib.Path(libamc_airflow.__file__).parent / "example_dags")')
ln -s "$examples" "$home/dags/examples"
ln -s "$here/tests/dags" "$home/dags/tests"
export AIRFLOW__CORE__DAGS_FOLDER="$home/dags"
export PATH="$venv/bin:$PATH"

echo "airflow: airflow db migrate"
airflow db migrate >"$home/migrate.log" 2>&1 || { cat "$home/migrate.log"; exit 1; }
if ! airflow providers list 2>/dev/null | grep -q "airflow-provider-libamc"; then
  echo "airflow providers list does not show airflow-provider-libamc"; airflow providers list; exit 1
fi

echo "airflow: ruff and mypy"
(cd "$here" && ruff check src tests && ruff format --check src tests && mypy)

echo "airflow: pytest"
cd "$here"
# No global capture (-s): Airflow configures its log handlers once per
# process, on the stream it finds then; the tests capture their DAG runs'
# output at the file descriptors (capfd) instead.
# tests/distributed (a whole deployment, a few minutes) runs as its own ctest
# test (airflow.distributed): `bash test.sh tests/distributed`.
[ $# -gt 0 ] || set -- tests --ignore=tests/distributed
exec pytest -q -s -p no:cacheprovider -p no:logging "$@"

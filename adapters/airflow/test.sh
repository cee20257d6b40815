#!/usr/bin/env bash
# The Airflow provider's tests in real Apache Airflow 3.3.2:
#  1. a venv (build/airflow-venv) with Airflow, the build backend and the
#     checks, pinned by our constraints file; reinstalled only when the
#     pins change (a hash of them is kept in the venv), like .ci/install-deps.sh;
#  2. the libamc wheel that adapters/python/test.sh built (build/python-dist)
#     and the provider's pure-Python wheel, installed into the venv;
#  3. an Airflow home, `airflow db migrate`, and a check that
#     `airflow providers list` shows the provider;
#  4. ruff and mypy on the adapter; pytest against amc-sandbox (AMC_SANDBOX,
#     default build/release/src/sandbox/amc-sandbox).
#
#   test.sh [pytest args]               all four, in a temporary Airflow home
#   test.sh --setup HOME                1-3 into the Airflow home HOME (kept)
#   test.sh --lint                      ruff and mypy
#   test.sh --home HOME [pytest args]   pytest in a temporary copy of HOME
#                                       (made by --setup), so that several
#                                       runs side by side share one setup but
#                                       no database
# ctest runs --setup once as a fixture, then --lint and pytest shards side
# by side (adapters/airflow/CMakeLists.txt).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
constraints="$here/constraints-3.3.2-py3.11.txt"
requirements="$here/requirements-test.txt"
venv="${AMC_AIRFLOW_VENV:-$repo/build/airflow-venv}"
export AMC_SANDBOX="${AMC_SANDBOX:-$repo/build/release/src/sandbox/amc-sandbox}"

mode=all
case "${1:-}" in
  --setup | --home) mode=${1#--}; template=$(realpath -m "${2:?"$1 needs an Airflow home directory"}"); shift 2 ;;
  --lint) mode=lint; shift ;;
esac

# 1 and 2: the venv and the wheel.
install_provider() {
  local wanted
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

  # Under ctest the libamc wheel is the one test python.wheel just built and
  # checked (fixture libamc_wheel, which sets AMC_LIBAMC_WHEEL_BUILT); run
  # alone, this builds it the same way, so it is never a stale one.
  local libamc_dist="$repo/build/python-dist"
  if [ "${AMC_LIBAMC_WHEEL_BUILT:-0}" != 1 ] || ! ls "$libamc_dist"/libamc-*manylinux*.whl >/dev/null 2>&1; then
    echo "airflow: building the libamc wheel (adapters/python/test.sh builds and checks it)"
    AMC_PYTHON_ONLY_WHEEL=1 bash "$repo/adapters/python/test.sh"
  fi
  echo "airflow: building the provider's wheel"
  local dist="$repo/build/airflow-dist"
  rm -rf "$dist"
  "$venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps -w "$dist" "$here"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall \
    "$dist"/*.whl "$libamc_dist"/libamc-*manylinux*.whl
}

# use_home DIR: the environment of an Airflow home DIR (its own SQLite
# database, the DAGs below).
use_home() {
  export AIRFLOW_HOME="$1"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  export AIRFLOW__CORE__DAGS_FOLDER="$1/dags"
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$1/airflow.db"
  export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$1/logs"
  export PATH="$venv/bin:$PATH"
}

# 3: make_home DIR: a migrated Airflow home in DIR with the DAGs the tests
# run: the package's example DAGs (as installed) and the test DAGs.
make_home() {
  local home=$1 examples
  use_home "$home"
  mkdir -p "$home/dags"
  examples=$("$venv/bin/python" -c 'import libamc_airflow, pathlib; print(pathlib.Path(libamc_airflow.__file__).parent / "example_dags")')
  ln -sfn "$examples" "$home/dags/examples"
  ln -sfn "$here/tests/dags" "$home/dags/tests"
  echo "airflow: airflow db migrate"
  airflow db migrate >"$home/migrate.log" 2>&1 || { cat "$home/migrate.log"; exit 1; }
  if ! airflow providers list 2>/dev/null | grep -q "airflow-provider-libamc"; then
    echo "airflow providers list does not show airflow-provider-libamc"; airflow providers list; exit 1
  fi
  # The DAGs parsed into the database once, here: two DAG runs started at
  # once on a database that has none both insert them, and one fails
  # (IntegrityError on table dag). Serial runs hid this, as earlier tests
  # had written them; every copy of this home now starts with them.
  echo "airflow: airflow dags reserialize"
  airflow dags reserialize >"$home/reserialize.log" 2>&1 || { cat "$home/reserialize.log"; exit 1; }
}

lint() {
  echo "airflow: ruff and mypy"
  (cd "$here" && "$venv/bin/ruff" check src tests && "$venv/bin/ruff" format --check src tests && "$venv/bin/mypy")
}

# 4: pytest in the current Airflow home.
run_pytest() {
  echo "airflow: pytest"
  cd "$here"
  # No global capture (-s): Airflow configures its log handlers once per
  # process, on the stream it finds then; the tests capture their DAG runs'
  # output at the file descriptors (capfd) instead.
  # tests/distributed (a whole deployment, a few minutes) runs as its own
  # ctest test (airflow.distributed): `bash test.sh tests/distributed`.
  [ $# -gt 0 ] || set -- tests --ignore=tests/distributed
  "$venv/bin/pytest" -q -s -p no:cacheprovider -p no:logging "$@"
}

# A temporary Airflow home, removed at exit.
temporary_home() {
  home=$(mktemp -d "${TMPDIR:-/tmp}/amc-airflow-home.XXXXXX")
  trap 'rm -rf "$home"' EXIT
}

case "$mode" in
  setup)
    install_provider
    rm -rf "$template"
    make_home "$template"
    ;;
  lint)
    lint
    ;;
  home)
    [ -f "$template/airflow.db" ] || { echo "airflow: $template is not a home made by test.sh --setup"; exit 1; }
    temporary_home
    cp -a "$template/." "$home/"
    # airflow.cfg, written by the migration, names the template's paths.
    [ ! -f "$home/airflow.cfg" ] || sed -i "s#$template#$home#g" "$home/airflow.cfg"
    use_home "$home"
    run_pytest "$@"
    ;;
  all)
    install_provider
    temporary_home
    make_home "$home"
    lint
    run_pytest "$@"
    ;;
esac

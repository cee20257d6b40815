#!/usr/bin/env bash
# Installs everything libamc needs to build and test on Debian 12, and the
# pinned Python packages into .venv. Idempotent: on a ready machine it only
# checks (no apt-get update, no pip install) and takes about a second.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  build-essential cmake ninja-build binutils pkg-config ca-certificates openssl
  libboost1.81-dev libssl-dev libfmt-dev nlohmann-json3-dev libcjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-venv wrk curl tzdata zsh
  abigail-tools
  # The fuzz targets (tests/fuzz): clang and its libFuzzer/ASan runtimes.
  clang libclang-rt-14-dev
  # Resource hygiene (issue 23): memcheck on the C host, amcctl and a Python session.
  valgrind
  # The distributed Airflow harness (adapters/airflow/tests/distributed): its
  # metadata database and Celery broker, each started on a free port by the test.
  postgresql redis-server
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python packages for the tests (and later the Airflow adapter), pinned in
# the repository, in a virtualenv of our own so the system stays untouched.
venv="$repo/.venv"
requirements=("$repo/tests/requirements.txt" "$repo/bench/requirements.txt")
wanted=$(cat "${requirements[@]}" | sha256sum | cut -c1-64)
if [ ! -x "$venv/bin/python" ]; then
  echo "install-deps: creating $venv"
  "${AMC_PYTHON:-python3}" -m venv "$venv"
fi
if [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
  echo "install-deps: installing pinned Python packages"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    $(printf -- '-r %s ' "${requirements[@]}")
  echo "$wanted" >"$venv/.requirements.sha256"
fi

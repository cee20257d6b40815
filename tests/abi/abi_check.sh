#!/usr/bin/env bash
# The ABI check of libamc.so.1 against the baseline committed in
# tests/abi/libamc.abi (abidw's XML of the C ABI at the current release),
# with libabigail's abidw and abidiff (Debian: abigail-tools).
#
#   abi_check.sh LIBRARY            compare LIBRARY with the baseline; fails on
#                                   a removed function, a changed function
#                                   signature, a changed public struct or enum
#                                   value; functions added (a minor version,
#                                   see tests/abi/symbols.txt) and status codes
#                                   appended are accepted and listed
#   abi_check.sh LIBRARY --self-test  the check itself: deliberately altered
#                                   copies of the baseline (a function removed
#                                   from the library, a struct that changed
#                                   layout, a renumbered status code) must
#                                   fail it; an added function and an appended
#                                   status code must pass
#   abi_check.sh LIBRARY --update   write the baseline from LIBRARY (a
#                                   deliberate, versioned change: see
#                                   docs/c-abi.md#abi-policy)
#
# LIBRARY must carry DWARF for capi/ (the test trees compile capi/ with -g,
# see capi/CMakeLists.txt). Only the C ABI is compared: the types amc.h
# defines and the amc_* functions; the handles (amc_client, ...) are opaque.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
baseline="$here/libamc.abi"
library=${1:?usage: abi_check.sh LIBRARY [--self-test|--update]}
mode=${2:-check}
for tool in abidw abidiff; do
  command -v "$tool" >/dev/null ||
    { echo "abi_check: $tool not found: install abigail-tools (bash .ci/install-deps.sh)"; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/amc-abi.XXXXXX")
trap 'rm -rf "$work"' EXIT

# dump LIBRARY OUT: the C ABI of LIBRARY as abidw XML, types outside
# include/amc dropped (opaque), no absolute paths (the baseline is the same
# on every machine).
dump() {
  abidw --exported-interfaces-only --headers-dir "$repo/include/amc" --drop-private-types \
    --no-comp-dir-path --no-show-locs --no-corpus-path --type-id-style hash "$1" |
    sed "s#path='$repo/#path='#" >"$2"
  if ! grep -q "<function-decl name='amc_free'" "$2"; then
    echo "abi_check: abidw found no type information for amc_free in $1: build it with -g for capi/"
    return 2
  fi
}

# compare OLD NEW: 0 when NEW keeps OLD's ABI (additions allowed), 1 when
# not; abidiff's report is printed either way when there is one.
compare() {
  local status=0 report
  report=$(abidiff "$1" "$2") || status=$?
  if ((status & 3)); then
    echo "$report"
    echo "abi_check: abidiff failed (status $status)"
    exit 2
  fi
  ((status == 0)) && return 0
  echo "$report"
  # Bit 8: an incompatible change (a function removed). Bit 4 alone: a
  # change to review; only additions pass.
  if ((status & 8)); then
    return 1
  fi
  if echo "$report" | grep -Eq '(summary|symbols changes summary): ([1-9][0-9]* Removed|[0-9]+ Removed, [1-9][0-9]* Changed)'; then
    return 1
  fi
  if echo "$report" | grep -Eq '^  \[[CD]\]'; then
    return 1
  fi
  return 0
}

current="$work/current.abi"
dump "$library" "$current"

case "$mode" in
  --update)
    cp "$current" "$baseline"
    echo "abi_check: wrote $baseline from $library"
    ;;
  check)
    if compare "$baseline" "$current"; then
      echo "abi_check: $library keeps the ABI of tests/abi/libamc.abi"
    else
      cat <<EOF
abi_check: $library breaks the ABI of tests/abi/libamc.abi (above).
  A 1.x host built against the baseline would misbehave with this library.
  If the change is deliberate, it is a new ABI major: see docs/c-abi.md#abi-policy.
EOF
      exit 1
    fi
    ;;
  --self-test)
    failed=0
    # expect NAME pass|fail ALTERED: the check of the library against the
    # ALTERED baseline must give the expected answer.
    expect() {
      local outcome=pass
      compare "$3" "$current" >"$work/$1.log" 2>&1 || outcome=fail
      if [ "$outcome" = "$2" ]; then
        echo "self-test: $1: the check says $outcome, as it must"
        grep -E 'summary: .*[1-9]|^  \[[ACD]\]|value changed|size changed' "$work/$1.log" | sed 's/^ */    /' || true
      else
        echo "self-test: $1: the check says $outcome, but it must say $2:"; sed 's/^/  /' "$work/$1.log"; failed=1
      fi
    }
    # The baseline has a function the library lacks (amc_free's twin).
    awk '/<elf-symbol name=.amc_free. / {print; gsub(/amc_free/, "amc_retired_call"); print; next}
         /<function-decl name=.amc_free. / {block = ""; inside = 1}
         inside {print; block = block $0 "\n"
                 if ($0 ~ /<\/function-decl>/) {inside = 0; gsub(/amc_free/, "amc_retired_call", block); printf "%s", block}
                 next}
         {print}' "$baseline" >"$work/removed.abi"
    # The baseline's amc_watch_options has no destroy_user and is one
    # pointer shorter: today's struct changed its layout.
    awk '/<class-decl name=.amc_watch_options. / {inside = 1; sub(/size-in-bits=.320./, "size-in-bits=\047256\047")}
         inside && /<data-member/ {member = $0; getline declaration; getline closing
                                   if (declaration !~ /name=.destroy_user./) {print member; print declaration; print closing}
                                   next}
         /<\/class-decl>/ {inside = 0}
         {print}' "$baseline" >"$work/struct.abi"
    # The baseline's AMC_E_INTERNAL has another number.
    sed -e "s/<enumerator name='AMC_E_INTERNAL' value='18'/<enumerator name='AMC_E_INTERNAL' value='17'/" \
      "$baseline" >"$work/renumbered.abi"
    for altered in removed struct renumbered; do
      cmp -s "$baseline" "$work/$altered.abi" && { echo "self-test: could not alter the baseline ($altered)"; exit 2; }
    done
    # The baseline lacks amc_poller_stats: the library added a function.
    sed -e "/<elf-symbol name='amc_poller_stats' /d" -e "/<function-decl name='amc_poller_stats' /,/<\/function-decl>/d" \
      "$baseline" >"$work/added.abi"
    # The baseline lacks the last status code: the library appended one.
    sed -e "/<enumerator name='AMC_E_OUT_OF_MEMORY' /d" "$baseline" >"$work/appended.abi"
    expect unchanged pass "$baseline"
    expect removed-function fail "$work/removed.abi"
    expect changed-struct fail "$work/struct.abi"
    expect renumbered-status fail "$work/renumbered.abi"
    expect added-function pass "$work/added.abi"
    expect appended-status pass "$work/appended.abi"
    exit $failed
    ;;
  *)
    echo "abi_check: unknown mode $mode"; exit 2
    ;;
esac

#!/usr/bin/env bash
# Unit tests under valgrind's memcheck: invalid reads and writes, uses of
# uninitialised values, and definite or indirect leaks all fail the run.
# Usage: scripts/valgrind.sh BUILD_DIR [TEST...]
#   BUILD_DIR  a build without sanitizers (valgrind cannot run ASan binaries)
#   TEST       unit test names (test_engine ...); default: every tests/unit/test_*.c
# Criterion runs each test in a process of its own, so children are traced;
# funneld itself, started by a few tests, is traced the same way. Every
# process writes its own log under BUILD_DIR/valgrind/; the ones with errors
# are printed. Suppressions (tests/valgrind.supp) cover system libraries only.
# Integration tests are not run: they start daemons and a broker for seconds
# at a time, which valgrind slows past their timeouts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${1:?usage: scripts/valgrind.sh BUILD_DIR [TEST...]}
shift
if grep -q '^FUNNELD_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "valgrind: $build is a sanitizer build; use a plain one" >&2
  exit 2
fi
if [ $# -gt 0 ]; then
  tests=("$@")
else
  tests=()
  for src in tests/unit/test_*.c; do
    tests+=("$(basename "$src" .c)")
  done
fi
logs="$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"

run_one() {
  local build=$1 logs=$2 name=$3 rc=0
  valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --trace-children=yes --suppressions=tests/valgrind.supp \
    --log-file="$logs/$name.%p.log" \
    "$build/$name" --jobs 1 -q >"$logs/$name.out" 2>&1 || rc=$?
  echo "$rc" >"$logs/$name.rc"
}
export -f run_one
start=$SECONDS
printf '%s\n' "${tests[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run_one "$@"' _ "$build" "$logs" {}

passed=0 failed=0
for name in "${tests[@]}"; do
  rc=$(cat "$logs/$name.rc")
  # a log with anything in it is an error report (--quiet prints nothing else)
  bad=$(find "$logs" -name "$name.*.log" -size +0 | sort)
  if [ "$rc" != 0 ] || [ -n "$bad" ]; then
    failed=$((failed + 1))
    echo "== valgrind: $name FAILED (test binary exit $rc)"
    cat "$logs/$name.out"
    for f in $bad; do
      echo "-- $f"
      cat "$f"
    done
  else
    passed=$((passed + 1))
    echo "valgrind: $name clean"
  fi
done
echo "valgrind: ${#tests[@]} unit test binaries in $((SECONDS - start)) s"
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

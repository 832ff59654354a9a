#!/usr/bin/env bash
# clang-tidy over src/ with the checks in .clang-tidy; exits non-zero on any
# finding, so a false positive needs `// NOLINT(check): reason` on its line.
# Usage: scripts/lint.sh [BUILD_DIR]   (default build-lint)
# Installs missing packages (scripts/deps.sh). The build directory supplies
# compile_commands.json and the generated protobuf-c headers; it is
# configured here when it has none, and only those headers are built.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${1:-build-lint}
jobs=$(nproc)

if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -DFUNNELD_WERROR=ON >/dev/null
fi
cmake --build "$build" --target funneld_proto -j"$jobs" >/dev/null

# only our sources: <root>/src/..., with the root's regex characters escaped
src_re="^$(printf '%s' "$PWD" | sed 's/[][\.*^$+?(){}|]/\\&/g')/src/"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
run-clang-tidy -p "$build" -j "$jobs" -quiet "$src_re" >"$out" 2>&1 || rc=$?

# run-clang-tidy echoes each command and clang-tidy counts what it suppressed
# (system headers, NOLINT): keep only what is worth reading
sed 's/\x1b\[[0-9;]*m//g' "$out" |
  grep -Ev '^(clang-tidy(-[0-9]+)? .* -p=|[0-9]+ warnings? generated\.$|Suppressed [0-9]+ warnings|Use -header-filter=|Use -system-headers)' || true
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -cE ': (warning|error): ' || true)
files=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -cE '^clang-tidy(-[0-9]+)? .* -p=' || true)
if [ "$files" -eq 0 ]; then
  echo "lint: clang-tidy checked no file (is $build/compile_commands.json empty?)" >&2
  exit 1
fi
if [ "$findings" -gt 0 ] || [ "$rc" -ne 0 ]; then
  echo "lint: $findings clang-tidy finding(s) in src/ over $files files (exit $rc)" >&2
  exit 1
fi
echo "lint: clang-tidy clean over $files files in src/"

#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs missing Debian packages,
# checks the include layering (scripts/layers.sh), builds with warnings as
# errors and runs every test (unit, config, proto, integration), then builds again under AddressSanitizer +
# UndefinedBehaviorSanitizer and runs every test again, then runs clang-tidy
# over src/ (scripts/lint.sh) and the unit tests under valgrind
# (scripts/valgrind.sh, on the plain build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "== layering (scripts/layers.sh)"
scripts/layers.sh

echo "== build (warnings are errors)"
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFUNNELD_WERROR=ON >/dev/null
cmake --build build-ci -j"$jobs"
echo "== tests"
ctest --test-dir build-ci --output-on-failure -j"$jobs"

echo "== build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFUNNELD_WERROR=ON -DFUNNELD_SANITIZE=ON \
      -DFUNNELD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== clang-tidy (src/)"
scripts/lint.sh build-ci
echo "== unit tests under valgrind"
scripts/valgrind.sh build-ci

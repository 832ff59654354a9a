#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs missing Debian packages,
# checks the include layering (scripts/layers.sh) and the alert rules
# (scripts/monitoring.sh: promtool check rules + test rules; the
# integration test test_observability also runs `promtool check metrics` on a
# real scrape and checks the rules' and the dashboard's metric names against
# it), builds with warnings as
# errors and runs every test (unit, config, proto, integration on the mock
# broker, then integration and kafka-only tests on Apache Kafka), then builds again under AddressSanitizer +
# UndefinedBehaviorSanitizer and runs every test again, then every libFuzzer
# target for 20 s (scripts/fuzz.sh), then runs clang-tidy
# over src/ (scripts/lint.sh) and the unit tests under valgrind
# (scripts/valgrind.sh, on the plain build). After the plain build's tests,
# the Debian package is built, linted, installed, checked and purged
# (scripts/deb.sh; root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)

echo "== layering (scripts/layers.sh)"
scripts/layers.sh

echo "== alert rules (scripts/monitoring.sh: promtool check rules, promtool test rules)"
scripts/monitoring.sh

# The real-broker tier (kafka/*: Apache Kafka from scripts/kafka.sh): in CI
# a missing Java, Maven or broker is a failure, so fetch them first;
# elsewhere it runs when java and mvn are installed and is skipped (with one
# line saying how to enable it) when they are not.
kafka_tier=AUTO
if [ "${CI:-}" = true ] || [ "${FUNNELD_KAFKA_TESTS:-}" = ON ]; then
	echo "== fetching Apache Kafka (scripts/kafka.sh fetch)"
	scripts/kafka.sh fetch
	kafka_tier=ON
fi

echo "== build (warnings are errors)"
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFUNNELD_WERROR=ON \
      -DFUNNELD_KAFKA_TESTS="$kafka_tier" >/dev/null
cmake --build build-ci -j"$jobs"
# The integration tests mostly wait (on brokers, joins, timers): one more
# at a time than there are cores keeps the cores busy.
echo "== tests (unit, config, proto; integration on the embedded mock broker)"
ctest --test-dir build-ci --output-on-failure -j"$((jobs + 1))" -LE kafka

# The sanitizer build compiles in the background, at low priority, while
# the Apache Kafka tier (which mostly waits on its brokers) runs.
echo "== build (ASan + UBSan), in the background"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFUNNELD_WERROR=ON -DFUNNELD_SANITIZE=ON \
      -DFUNNELD_BENCH=OFF -DFUNNELD_KAFKA_TESTS=OFF >/dev/null
nice -n 10 cmake --build build-asan -j1 >build-asan/background.log 2>&1 &
asan_build=$!

kafka_tests=$(ctest --test-dir build-ci -N -L kafka)
if grep -q 'kafka/' <<<"$kafka_tests"; then
	echo "== tests on Apache Kafka (kafka/*, one cluster per test, serial)"
	# A failed test runs once more: two of them (scaleout, compaction) each
	# failed once in one CI run with a cause not found yet (see the issue
	# notes); a second failure still fails CI.
	ctest --test-dir build-ci --output-on-failure -L kafka --repeat until-pass:2
else
	echo "== tests on Apache Kafka: skipped (no java or mvn; scripts/kafka.sh fetch installs them)"
fi

echo "== Debian package: build, lintian, install, check, purge (scripts/deb.sh)"
deb_start=$SECONDS
DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" scripts/deb.sh
echo "== Debian package: $((SECONDS - deb_start)) s"

echo "== build (ASan + UBSan): the rest"
if ! wait "$asan_build"; then
	cat build-asan/background.log
	exit 1
fi
cmake --build build-asan -j"$jobs"
echo "== tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$((jobs + 1))"

echo "== fuzz targets, 20 s each (scripts/fuzz.sh; crash inputs in tests/fuzz/crashes run first)"
scripts/fuzz.sh 20

echo "== clang-tidy (src/)"
scripts/lint.sh build-ci
echo "== unit tests under valgrind"
scripts/valgrind.sh build-ci

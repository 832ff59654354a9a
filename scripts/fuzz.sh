#!/usr/bin/env bash
# Builds every libFuzzer target in tests/fuzz (clang, AddressSanitizer +
# UndefinedBehaviorSanitizer, into build-fuzz/) and runs each for SECONDS
# (default 20).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 60 fuzz_json
#
# Per target: first every file in tests/fuzz/crashes/TARGET/ runs once as a
# regression input (one that still crashes fails the script, unless its name
# starts with known-: a defect found and not fixed yet, which is only
# reported); then the fuzzer runs from a scratch copy of
# tests/fuzz/corpus/NAME/ (the repository's seeds are never written to),
# with tests/fuzz/NAME.dict when there is one. It prints the executions
# and what was found, and exits non-zero on any crash, leak or timeout;
# the inputs that caused one are kept in build-fuzz/fuzz-artifacts/TARGET/,
# the fuzzer's output in build-fuzz/fuzz-logs/TARGET.log.
#
# Environment: FUNNELD_FUZZ_STRICT=1 is set for known- inputs: a target
# may keep the check of a known, unfixed defect behind it (none does today:
# every defect found so far is fixed). CC picks the compiler (a
# clang); otherwise clang, then the newest clang-NN. Missing Debian
# packages are installed (scripts/deps.sh, and the compiler's sanitizer
# and libFuzzer runtime, libclang-rt-NN-dev, which Debian 12's clang does
# not pull in).
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-20}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
	exit 64
fi
shift $(( $# > 0 ? 1 : 0 ))
build=build-fuzz

scripts/deps.sh

# ---- a clang with libFuzzer -------------------------------------------------
find_clang() {
	if [ -n "${CC:-}" ] && "$CC" --version 2>/dev/null | grep -q clang; then
		command -v "$CC"
		return
	fi
	if command -v clang >/dev/null; then
		command -v clang
		return
	fi
	local c
	c=$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -1 || true)
	if [ -n "$c" ]; then
		command -v "$c"
		return
	fi
	c=$(ls -d /usr/lib/llvm-*/bin/clang 2>/dev/null | sort -V | tail -1 || true)
	[ -n "$c" ] && echo "$c"
}
cc=$(find_clang || true)
if [ -z "$cc" ]; then
	echo "fuzz: no clang found: install clang (apt-get install clang) or set CC" >&2
	exit 1
fi
major=$("$cc" -dumpversion | cut -d. -f1)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/funneld-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	>"$scratch/probe.c"
probe() { "$cc" -fsanitize=fuzzer,address,undefined "$scratch/probe.c" -o "$scratch/probe" 2>"$scratch/probe.err"; }
if ! probe; then
	pkg=libclang-rt-$major-dev
	echo "fuzz: $cc cannot link a fuzzer (no libFuzzer/sanitizer runtime); installing $pkg" >&2
	if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null || true
	if ! probe; then
		cat "$scratch/probe.err" >&2
		echo "fuzz: $cc still cannot link -fsanitize=fuzzer,address,undefined (is $pkg installable?)" >&2
		exit 1
	fi
fi

# ---- build --------------------------------------------------------------------
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for src in tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		targets+=("$name")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -f "tests/fuzz/$t.c" ]; then
		echo "fuzz: no target $t (tests/fuzz/$t.c)" >&2
		exit 64
	fi
done

echo "== build ($cc, $build)"
cmake -S . -B "$build" -DFUNNELD_FUZZ=ON -DFUNNELD_SANITIZE=ON -DCMAKE_C_COMPILER="$cc" \
      -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >"$scratch/cmake.log" 2>&1 ||
	{ cat "$scratch/cmake.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >"$scratch/build.log" 2>&1 ||
	{ tail -50 "$scratch/build.log" >&2; exit 1; }

# ---- run ----------------------------------------------------------------------
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
common=(-timeout=10 -rss_limit_mb=2048)
mkdir -p "$build/fuzz-logs"
failed=0
summary=()

# The line that says what went wrong in a libFuzzer log.
what() {
	grep -m1 -E 'invariant broken|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|ALARM|out-of-memory' "$1" |
		sed -E 's/^==[0-9]+==//; s/^ +//' | cut -c1-160 || true
}

for t in "${targets[@]}"; do
	name=${t#fuzz_}
	artifacts=$build/fuzz-artifacts/$t
	log=$build/fuzz-logs/$t.log
	rm -rf "$artifacts"
	mkdir -p "$artifacts"

	# regression inputs
	if [ -d "tests/fuzz/crashes/$t" ]; then
		for f in "tests/fuzz/crashes/$t"/*; do
			[ -f "$f" ] || continue
			base=$(basename "$f")
			rlog=$scratch/regress.log
			if [[ $base == known-* ]]; then
				# with every check on: does the known defect still show?
				env FUNNELD_FUZZ_STRICT=1 "$build/$t" "${common[@]}" "$f" >"$rlog" 2>&1 && rc=0 || rc=$?
				if [ $rc -ne 0 ]; then
					summary+=("$t: $f: known defect, still reproduces: $(what "$rlog")")
				else
					summary+=("$t: $f: known defect no longer reproduces: drop the known- prefix to keep it as a regression input")
				fi
			else
				"$build/$t" "${common[@]}" "$f" >"$rlog" 2>&1 && rc=0 || rc=$?
				if [ $rc -ne 0 ]; then
					summary+=("$t: $f: REGRESSION, crashes again: $(what "$rlog")")
					cp "$rlog" "$artifacts/regression-$base.log"
					failed=1
				fi
			fi
		done
	fi

	# fuzzing, from a scratch copy of the seeds
	corpus=$scratch/corpus-$name
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -r "tests/fuzz/corpus/$name/." "$corpus/"
	fi
	# the shipped config as it is now (the seed copy ages)
	[ "$name" = config ] && cp config/funneld.conf "$corpus/shipped-current"
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	echo "== $t: ${secs}s"
	"$build/$t" "${common[@]}" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" >"$log" 2>&1 && rc=0 || rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
	if [ $rc -eq 0 ]; then
		printf '%-14s %10s execs  nothing found\n' "$t" "${execs:-?}"
	else
		failed=1
		found=$(ls "$artifacts" 2>/dev/null | grep -v '^regression-' | head -3 | sed "s|^|$artifacts/|" | tr '\n' ' ' || true)
		printf '%-14s %10s execs  FOUND (exit %d): %s\n' "$t" "${execs:-?}" "$rc" "$(what "$log")"
		printf '%-14s %10s        input: %s log: %s\n' "" "" "${found:-none}" "$log"
	fi
done

if [ ${#summary[@]} -gt 0 ]; then
	echo "== regression inputs (tests/fuzz/crashes)"
	printf '%s\n' "${summary[@]}"
fi
if [ $failed -ne 0 ]; then
	echo "fuzz: FAILED (reproduce one with: $build/TARGET INPUT)" >&2
	exit 1
fi
echo "fuzz: OK"

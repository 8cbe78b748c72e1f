#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz/ (clang, -Dfuzz=true, ASan and
# UBSan) and runs each for SECONDS seconds.
#
# usage: tests/fuzz/run.sh SECONDS [TARGET...]    TARGET: token config duration time broker
#
# For each target it first runs the saved crash inputs in
# tests/fuzz/regressions/TARGET/, then fuzzes from the seed corpus in
# tests/fuzz/corpus/TARGET/ with the dictionary in tests/fuzz/dict/, keeping
# what it finds in build-fuzz/fuzz-corpus/TARGET/. It prints
# "ok - fuzz-TARGET: N runs in S s" or "not ok - fuzz-TARGET: ..." per target,
# then "fuzz: N passed, N failed", and exits non-zero when any target
# crashed, broke an oracle or failed to build. Crash inputs go to
# build-fuzz/fuzz-artifacts/ and the full output to build-fuzz/fuzz-logs/.
#
# Must run as root: the token target loads a signing key, and libjitcore
# reads only root-owned key files. BUILD_FUZZ_DIR overrides build-fuzz.
set -uo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD_FUZZ_DIR:-build-fuzz}
all_targets=(token config duration time broker)

usage()
{
	echo "usage: tests/fuzz/run.sh SECONDS [TARGET...]   (TARGET: ${all_targets[*]})" >&2
	exit 2
}

[ $# -ge 1 ] && [[ $1 =~ ^[1-9][0-9]*$ ]] || usage
seconds=$1
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
	[ -f "tests/fuzz/fuzz_$target.c" ] || usage
done

if [ "$(id -u)" -ne 0 ]; then
	echo "fuzz: must run as root (the token target loads a root-owned key file)" >&2
	exit 1
fi

build_targets()
{
	local names=()

	if [ ! -f "$build/build.ninja" ]; then
		CC=clang meson setup "$build" -Dfuzz=true -Dtests=false || return 1
	elif ! grep -q 'tests/fuzz/fuzz-' "$build/build.ninja"; then
		meson configure "$build" -Dfuzz=true || return 1
	fi

	for target in "${targets[@]}"; do
		names+=("tests/fuzz/fuzz-$target")
	done
	ninja -C "$build" "${names[@]}"
}

# Runs the saved inputs of one target; each must now pass.
run_regressions()
{
	local target=$1 binary=$2 log=$3
	local inputs=(tests/fuzz/regressions/"$target"/*)

	[ -e "${inputs[0]}" ] || return 0
	"$binary" -runs=1 "${inputs[@]}" >"$log.regressions" 2>&1
}

# Prints the first line of a log that names the failure.
failure_reason()
{
	grep -m1 -E 'oracle failed|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' "$1" ||
		echo "exit status $2, see $1"
}

fuzz_target()
{
	local target=$1
	local binary=$build/tests/fuzz/fuzz-$target
	local log=$build/fuzz-logs/$target.log
	local corpus=$build/fuzz-corpus/$target
	local dict=() runs rc

	mkdir -p "$corpus" "$build/fuzz-logs" "$build/fuzz-artifacts"
	if ! run_regressions "$target" "$binary" "$log"; then
		echo "not ok - fuzz-$target: a saved input in tests/fuzz/regressions/$target fails: $(failure_reason "$log.regressions" 1)"
		return 1
	fi

	[ -f "tests/fuzz/dict/$target.dict" ] && dict=(-dict="tests/fuzz/dict/$target.dict")
	"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$build/fuzz-artifacts/$target-" \
		"$corpus" "tests/fuzz/corpus/$target" >"$log" 2>&1
	rc=$?

	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "not ok - fuzz-$target: $(failure_reason "$log" "$rc")"
		grep -m1 'Test unit written to' "$log" | sed 's/^/#   /'
		return 1
	fi
	echo "ok - fuzz-$target: ${runs:-? runs}"
}

if ! build_targets; then
	for target in "${targets[@]}"; do
		echo "not ok - fuzz-$target: the fuzz build failed"
	done
	echo "fuzz: 0 passed, ${#targets[@]} failed"
	exit 1
fi

passed=0
failed=0
for target in "${targets[@]}"; do
	if fuzz_target "$target"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

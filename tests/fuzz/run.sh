#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [-t SECONDS] NAME... - run the libFuzzer targets build-fuzz/fuzz_NAME
# (make fuzz-build makes them).
#
# For each NAME, in order:
#   1. every regression input, tests/fuzz/regress/NAME/* (the crashes found
#      so far; each must now pass), run once at its full length;
#   2. the seed corpus, tests/fuzz/corpus/NAME/, run once;
#   3. SECONDS (default 60; 0: skip) of fuzzing from the seeds and what
#      earlier runs found (build-fuzz/corpus/NAME/, kept between runs, never
#      in the source tree), with the target's own -max_len.
# A crash, a leak, a sanitizer report, a broken invariant, an input slower
# than 10 s or over 2 GB fails the target; its input is written to
# build-fuzz/artifacts/NAME/ and replayed with full output. Keep it as a
# regression test by copying it into tests/fuzz/regress/NAME/ (then fix the
# bug). The targets' own diagnostics are silenced while fuzzing
# (-close_fd_mask=2); sanitizer reports and failed invariants still show.
#
# With several names, one line each: PASS or FAIL with the time taken.
# Exit status: 0 when all pass, 1 otherwise.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=60
if [ "${1:-}" = -t ]; then
	secs=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: run.sh [-t SECONDS] NAME..." >&2; exit 2; }

# longest input per target: a little over what the code under test bounds,
# so that the bounds themselves are exercised
max_len() {
	case $1 in
	addr) echo 128 ;;               # ADDR_STRLEN + brackets, port, /len
	line|match|filterfile|rules) echo 4096 ;;
	config) echo 8192 ;;
	blockfile) echo 16384 ;;        # several lines over BLOCKFILE_LINE_MAX
	control) echo 70000 ;;          # over CONTROL_MAX_REQUEST
	*) echo 4096 ;;
	esac
}

# sanitizer reports are fatal; leaks are reported (libFuzzer checks them)
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

one() {     # one NAME: 0 passed, 1 failed
	name=$1
	bin=build-fuzz/fuzz_$name
	corpus=tests/fuzz/corpus/$name
	regress=tests/fuzz/regress/$name
	work=build-fuzz/corpus/$name
	art=build-fuzz/artifacts/$name
	len=$(max_len "$name")
	[ -x "$bin" ] || { echo "FAIL: $bin is not built (make fuzz-build)"; return 1; }
	[ -d "$corpus" ] || { echo "FAIL: no seed corpus $corpus"; return 1; }
	mkdir -p "$work" "$art"

	# -error_exitcode: libFuzzer's default (77) would read as "skipped"
	# -artifact_prefix: a failing input is written there, never into the tree
	common="-error_exitcode=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$art/"
	if [ -d "$regress" ] && [ -n "$(ls -A "$regress")" ]; then
		echo "== $name: regression inputs"
		# shellcheck disable=SC2086
		"$bin" $common "$regress"/* || { echo "FAIL: $name: a regression input fails"; return 1; }
	fi
	echo "== $name: seed corpus"
	# shellcheck disable=SC2086
	"$bin" $common -runs=0 -max_len="$len" "$corpus" || { echo "FAIL: $name: a seed input fails"; return 1; }
	[ "$secs" -gt 0 ] || return 0
	echo "== $name: fuzzing for ${secs}s"
	before=$(ls "$art" | wc -l)
	# shellcheck disable=SC2086
	if "$bin" $common -max_total_time="$secs" -max_len="$len" -close_fd_mask=2 "$work" "$corpus"; then
		return 0
	fi
	echo "FAIL: $name: the fuzzer found a failing input"
	for f in $(ls -t "$art" | head -n $(($(ls "$art" | wc -l) - before))); do
		echo "-- $art/$f ($(wc -c < "$art/$f") bytes); replayed:"
		"$bin" $common "$art/$f" 2>&1 | tail -n 60
		echo "-- keep it: mkdir -p $regress && cp $art/$f $regress/"
	done
	return 1
}

if [ $# -eq 1 ]; then
	one "$1"
	exit $?
fi
failed=0
for name in "$@"; do
	start=$(date +%s)
	mkdir -p tests/out
	log=tests/out/fuzz_$name.log
	if one "$name" > "$log" 2>&1; then
		echo "PASS  fuzz/$name ($(($(date +%s) - start))s)"
	else
		failed=$((failed + 1))
		echo "FAIL  fuzz/$name ($(($(date +%s) - start))s; log: $log)"
		grep -E 'invariant failed|ERROR: |runtime error|SUMMARY|FAIL' "$log" | head -n 20 | sed 's/^/    | /'
	fi
done
[ $failed -eq 0 ]

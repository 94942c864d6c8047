#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: unit tests, filter samples, then the network namespace
# integration tests, the packaging tests (tests/pkg/: make install and
# uninstall, the Debian package); then the same under the sanitizers: the
# unit tests built with ASan + UBSan ($ASAN_UNITS, "asan/test_X") and the netns tests
# against the ASan daemon ($ASAN_BIN, "asan/netns/test_X"), every report
# fatal; then each libFuzzer target for $FUZZ_SECONDS ("fuzz/NAME", with
# its regression inputs and seeds; tests/fuzz/run.sh). Prints one closing
# line "check: N passed, N failed, N skipped". Under CI=true a skipped test
# is a failure.
cd "$(dirname "$0")/.." || exit 1
mkdir -p tests/out
passed=0 failed=0 skipped=0 failures=""

run() {     # run NAME CMD...
	name=$1; shift
	log="tests/out/$(echo "$name" | tr '/ ' '__').log"
	if "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); echo "PASS  $name"
	elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
		skipped=$((skipped + 1)); echo "SKIP  $name ($(tail -n 1 "$log"))"
	else
		failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL  $name (exit $rc; log: $log)"; tail -n 30 "$log" | sed 's/^/    | /'
	fi
}

for t in "$@"; do
	run "unit/$(basename "$t")" env CK_DEFAULT_TIMEOUT=60 "$t"
	grep -h '^[0-9]*%: Checks' "tests/out/unit_$(basename "$t").log" 2>/dev/null | sed 's/^/      /'
done
run "docs/options-in-readme" sh tests/options-in-readme.sh
run "docs/seed-table" sh tests/seed-table.sh
run "pkg/build-deps" sh tests/build-deps.sh
run "docs/man-pages" sh tests/man.sh
run "demo" sh contrib/demo.sh
run "docs/readme-examples" sh tests/readme-examples.sh
run "docs/filters-guide-examples" env README=docs/filters.md sh tests/readme-examples.sh
run "docs/module-map" sh tests/module-map.sh
run "code/include-cycles" sh tests/include-cycles.sh
for f in filters/*.conf; do
	run "samples/$(basename "$f" .conf)" ./mailscreen test "$f"
done
run "cli/test-cmd-test" sh tests/cli/test-cmd-test.sh
run "cli/test-cmd-match" sh tests/cli/test-cmd-match.sh
run "cli/test-cmd-match-journal" sh tests/cli/test-cmd-match-journal.sh
run "cli/test-cmd-replay" sh tests/cli/test-cmd-replay.sh
run "cli/test-dedup" sh tests/cli/test-dedup.sh
run "cli/test-completion" sh tests/cli/test-completion.sh
run "cli/test-cmd-check" sh tests/cli/test-cmd-check.sh
run "cli/test-cmd-check-location" sh tests/cli/test-cmd-check-location.sh
run "cli/test-cmd-check-cluster" sh tests/cli/test-cmd-check-cluster.sh
run "cli/test-overrides" sh tests/cli/test-overrides.sh
run "cli/test-cmd-options" sh tests/cli/test-cmd-options.sh
run "cli/test-cmd-check-journal" sh tests/cli/test-cmd-check-journal.sh
run "cli/test-journal-log" sh tests/cli/test-journal-log.sh
run "pkg/test-install" sh tests/pkg/test-install.sh
run "pkg/test-deb" sh tests/pkg/test-deb.sh
run "cli/test-unit-score" sh tests/cli/test-unit-score.sh
for t in tests/netns/test_*.sh; do
	[ -e "$t" ] || continue
	run "netns/$(basename "$t" .sh)" sh tests/netns/run.sh "$t"
done

# ---- sanitizers: any report is fatal ----
san_env() {     # san_env REPORTDIR CMD...: run CMD with the sanitizers' options
	dir=$1; shift
	env ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$dir/asan" \
	    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$dir/ubsan" \
	    LSAN_OPTIONS="log_path=$dir/lsan" "$@"
}
# run CMD; fail if it fails or if any process it started wrote a report
# (a daemon's report at exit may not reach the test's own checks)
san_run() {     # san_run NAME CMD...
	dir=$PWD/tests/out/san/$(echo "$1" | tr '/ ' '__'); shift
	rm -rf "$dir" && mkdir -p "$dir"
	san_env "$dir" sh -c '"$@"; rc=$?
		for f in "$0"/*; do [ -e "$f" ] || continue; echo "sanitizer report $f:"; cat "$f"; rc=1; done
		exit $rc' "$dir" "$@"
}
for t in ${ASAN_UNITS:-}; do
	name="asan/$(basename "$t")"
	run "$name" san_run "$name" env CK_DEFAULT_TIMEOUT=120 "$t"
done
if [ -n "${ASAN_BIN:-}" ]; then
	for t in tests/netns/test_*.sh; do
		[ -e "$t" ] || continue
		name="asan/netns/$(basename "$t" .sh)"
		# ASan's shadow memory and quarantine cost ~200 MB: memory
		# bounds are proved by the plain run; here only a leash
		run "$name" san_run "$name" env MS_BIN="$PWD/$ASAN_BIN" MS_WAIT=15 MS_TEST_TIMEOUT=180 \
			MS_RSS_MAX_KB=1048576 \
			sh tests/netns/run.sh "$t"
	done
fi

# ---- fuzzing: regression inputs, seeds, then a short run per target ----
for f in tests/fuzz/fuzz_*.c; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .c)
	name=${name#fuzz_}
	run "fuzz/$name" sh tests/fuzz/run.sh -t "${FUZZ_SECONDS:-10}" "$name"
done

echo "check: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

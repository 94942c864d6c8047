#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: unit tests, filter samples, then the network namespace
# integration tests. Prints one closing line "check: N passed, N failed".
# Under CI=true a skipped test is a failure.
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
run "docs/options-in-readme" sh -c './mailscreen options | while IFS= read -r l; do
	[ -z "$l" ] || grep -qxF -- "$l" README.md || { echo "README.md lacks: $l"; exit 1; }; done'
for f in filters/*.conf; do
	run "samples/$(basename "$f" .conf)" sh tests/filters/run-samples.sh "$f"
done
for t in tests/netns/test_*.sh; do
	[ -e "$t" ] || continue
	run "netns/$(basename "$t" .sh)" sh tests/netns/run.sh "$t"
done

echo "check: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

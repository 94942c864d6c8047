#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh [TEST...] - run network namespace tests, each in namespaces of its own.
#
# Each TEST (tests/netns/test_*.sh; all of them when none is named) runs
# under `unshare --net --mount --pid --fork --kill-child`: a network
# namespace with nothing in it (lib.sh's ms_netns_setup adds lo, a veth pair
# and a peer namespace for the clients), a private mount namespace (the
# peer's namespace is bind-mounted there) and a PID namespace in which the
# test shell is PID 1. So when the test ends - passed, failed, or killed -
# the kernel kills everything it left running (daemon, listeners, tails),
# and the namespaces vanish with the daemon's nftables table in them. The
# host's network and ruleset are never touched. The temporary directory is
# removed here, outside, whatever happened. A test still running after
# MS_TEST_TIMEOUT seconds (default 90; a test that needs longer says so in
# a line "# netns-timeout: SECONDS", which counts when it is the larger) is
# stopped and fails.
#
# Output: the test's own ("ok - ..." per proved fact, "FAIL: ..." with the
# daemon log and the ruleset on failure). With several tests, one line
# each: PASS, FAIL or SKIP, and the time taken.
#
# Exit status: 0 passed; 1 failed; 77 skipped (not root, no namespaces, a
# missing tool), except under CI=true, where a skip is a failure (1).
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
export PATH

skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL: cannot run under CI=true: $*"
		exit 1
	fi
	echo "skip: $*"
	exit 77
}

# Can tests run here at all? Skips (or fails under CI=true) if not.
preflight() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, nftables)"
	for tool in unshare nsenter ip nft jq timeout tail mkfifo; do
		command -v "$tool" > /dev/null || skip "'$tool' is missing (make deps-test)"
	done
	[ -x "$repo/mailscreen" ] || { echo "FAIL: $repo/mailscreen is not built (make)"; exit 1; }
	[ -x "$repo/build/tests/tcpprobe" ] ||
		{ echo "FAIL: $repo/build/tests/tcpprobe is not built (make build/tests/tcpprobe)"; exit 1; }
	if ! why=$(unshare --net --mount --pid --fork --kill-child --mount-proc true 2>&1); then
		skip "cannot create network/mount/PID namespaces: $why"
	fi
}

# ---- several tests: one line each ----
if [ $# -ne 1 ]; then
	preflight
	[ $# -eq 0 ] && set -- "$here"/test_*.sh
	mkdir -p "$repo/tests/out"
	failed=0 skipped=0 passed=0
	for t in "$@"; do
		name=$(basename "$t" .sh)
		out=$repo/tests/out/netns_$name.log
		start=$(date +%s)
		sh "$0" "$t" > "$out" 2>&1
		rc=$?
		took=$(($(date +%s) - start))
		case $rc in
		0) passed=$((passed + 1)); echo "PASS  netns/$name (${took}s)" ;;
		77) skipped=$((skipped + 1)); echo "SKIP  netns/$name ($(tail -n 1 "$out"))" ;;
		*) failed=$((failed + 1)); echo "FAIL  netns/$name (exit $rc, ${took}s; log: $out)"
		   tail -n 30 "$out" | sed 's/^/    | /' ;;
		esac
	done
	echo "netns: $passed passed, $failed failed, $skipped skipped"
	[ $failed -gt 0 ] && exit 1
	[ $passed -eq 0 ] && [ $skipped -gt 0 ] && exit 77
	exit 0
fi

# ---- one test ----
test=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -f "$test" ] || { echo "run.sh: no test '$1'"; exit 2; }
preflight

limit=${MS_TEST_TIMEOUT:-90}
own=$(sed -n 's/^# netns-timeout: *\([0-9][0-9]*\)$/\1/p' "$test" | head -n 1)
[ -n "$own" ] && [ "$own" -gt "$limit" ] && limit=$own

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailscreen-netns.XXXXXX") || exit 1
child=
cleanup() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# PID 1 ignores signals it has no handler for, hence its traps.
MS_REPO=$repo MS_TMP=$tmp timeout -k 5 "$limit" \
	unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
	sh -c '
		trap "exit 130" INT
		trap "exit 143" TERM
		. "$MS_REPO/tests/netns/lib.sh"
		ms_netns_setup || { echo "FAIL: cannot set up the test network"; exit 1; }
		. "$1"
		exit 0
	' sh "$test" &
child=$!
wait "$child"
rc=$?
child=
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "FAIL: $(basename "$test") did not finish within ${limit}s"
	exit 1
fi
if [ $rc -eq 77 ] && [ "${CI:-}" = true ]; then
	echo "FAIL: skipped under CI=true"
	exit 1
fi
exit $rc

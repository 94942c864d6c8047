# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# lib.sh - what the benchmarks that run in private namespaces (cluster.sh,
# spray.sh) share: the checks and set-up before the namespaces
# (bench_outside), running the script again inside them (bench_ns), and
# its first steps there (bench_inside). Sourced by bash (PIPESTATUS),
# with ROOT set to the source tree.
#
# The namespaces are those of tests/netns/run.sh: network, mount and PID,
# the script PID 1 in them, so everything it starts dies with it and
# nothing touches the host's network or ruleset. Must never run a
# benchmark in the host's namespaces.

# bench_outside NAME LABEL TOOL... - before the namespaces: cd to ROOT; BIN
# (default ./mailscreen) made absolute; skip (77, "LABEL: ...") when not
# root or a TOOL is missing, fail (1) when BIN is not built; W the output
# directory (BENCH_DIR, default tests/out/bench) made and absolute; tmp a
# temporary directory, removed on exit. NAME names the run (its report,
# W/NAME.txt, and tmp).
bench_outside() {
	BENCH_NAME=$1 BENCH_LABEL=$2
	shift 2
	cd "$ROOT" || exit 1
	BIN=${BIN:-./mailscreen}
	case $BIN in /*) ;; *) BIN=$ROOT/${BIN#./} ;; esac
	[ "$(id -u)" = 0 ] || { echo "$BENCH_LABEL: needs root (namespaces, nftables); skipped"; exit 77; }
	[ -x "$BIN" ] || { echo "$BENCH_LABEL: '$BIN' not built (make)"; exit 1; }
	for tool in unshare "$@"; do
		command -v "$tool" >/dev/null || { echo "$BENCH_LABEL: '$tool' missing (make deps-test); skipped"; exit 77; }
	done
	BENCH_DIR=${BENCH_DIR:-tests/out/bench}
	mkdir -p "$BENCH_DIR" || exit 1
	W=$(cd "$BENCH_DIR" && pwd)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailscreen-$BENCH_NAME.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
}

# bench_ns SECONDS [VAR=VALUE...] - run this script again, as "$0 --inner",
# in private namespaces, with BIN, W, MS_REPO (ROOT), MS_TMP (tmp) and the
# VARs in its environment, for SECONDS at most; its output goes to stdout
# and to W/NAME.txt. Exits with its status (124 when it ran out of time).
bench_ns() {
	bn_limit=$1
	shift
	env BIN="$BIN" W="$W" MS_REPO="$ROOT" MS_TMP="$tmp" "$@" timeout -k 5 "$bn_limit" \
		unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
		bash "$0" --inner 2>&1 | tee "$W/$BENCH_NAME.txt"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && echo "$BENCH_LABEL: did not finish in time"
	exit "$rc"
}

# bench_inside - first thing in the namespaces: PID 1 ignores signals it
# has no handler for, hence the traps; lo up; tests/netns/lib.sh sourced,
# with MS_BIN the benchmark's BIN.
bench_inside() {
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ip link set lo up 2>/dev/null
	# shellcheck source=tests/netns/lib.sh
	. "$MS_REPO/tests/netns/lib.sh"
	MS_BIN=$BIN
}

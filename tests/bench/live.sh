#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# live.sh - one measurement of the live pipeline: `mailscreen run` follows a
# mail log, blocks with real nftables and (optionally) closes sessions, while
# a whole corpus is appended to that log at once.
#
#   sh tests/bench/live.sh BIN CORPUS LINES DIR CLOSE_SESSIONS [PIN...]
#
# Run by bench.sh as `unshare --net sh tests/bench/live.sh ...`: it refuses to
# run in the host's network namespace (it would create a table there), and
# checks that it is alone in its own (no interface but lo). In DIR it writes
# a configuration (the shipped filters and rules, one file source, no allow
# list, [nftables] close_sessions = CLOSE_SESSIONS), starts the daemon in the
# foreground (PIN..., e.g. `taskset -c 0`, in front), waits until it has
# started, appends CORPUS to the followed log in one `cat`, and polls
# `mailscreen status --json` until the daemon has read LINES lines. The
# daemon's CPU time over that span (utime + stime from /proc/PID/stat, its
# start-up excluded) is the figure; the wall time too, status polls (every
# 50 ms) included.
#
# Output: one line for bench.sh,
#   live cpu_s=X wall_s=Y lines=N blocks=B closed=C scans=S
# or `live error: ...` (exit 1). The daemon's log is DIR/daemon.log.

set -u
BIN=$1 CORPUS=$2 LINES=$3 DIR=$4 CLOSE=$5
shift 5
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac       # the daemon wants absolute paths

die() {
	echo "live error: $*"
	[ -n "${PID:-}" ] && kill -TERM "$PID" 2>/dev/null
	exit 1
}

# never in the host's network namespace: ours has nothing but lo
[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
	die "not in a private network namespace (run under unshare --net)"
[ "$(ip -o link show | wc -l)" -eq 1 ] || die "the network namespace is not a fresh one (or no ip program)"
ip link set lo up 2>/dev/null

rm -rf "$DIR"
mkdir -p "$DIR/state" || die "cannot create $DIR"
LOG=$DIR/mail.log SOCK=$DIR/control CONF=$DIR/mailscreen.conf
: >"$LOG"
cat >"$CONF" <<EOF
[daemon]
filters = $(pwd)/filters
rules = $(pwd)/rules
state_dir = $DIR/state
control = $SOCK
deny_file = $DIR/denied-accounts
blocklist = $DIR/blocklist

[source mail]
path = $LOG
filters = postfix dovecot

[nftables]
close_sessions = $CLOSE
EOF

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat" 2>/dev/null; }
status() { "$BIN" status -s "$SOCK" --json 2>/dev/null; }
# a top-level number of status --json: its first "KEY": N (nested objects
# reuse some keys, e.g. "lines", and come after the top-level ones)
field() { printf '%s\n' "$1" | grep -o "\"$2\": [0-9][0-9]*" | head -n 1 | sed 's/.*: //'; }

# shellcheck disable=SC2086 # PIN words
"$@" "$BIN" run -c "$CONF" --foreground 2>"$DIR/daemon.log" &
PID=$!
n=0
until grep -q '^mailscreen: started with ' "$DIR/daemon.log" 2>/dev/null; do
	kill -0 "$PID" 2>/dev/null || die "the daemon did not start: $(tail -n 3 "$DIR/daemon.log")"
	n=$((n + 1))
	[ $n -lt 200 ] || die "the daemon did not start within 10 s"
	sleep 0.05
done
TICK=$(getconf CLK_TCK)
c0=$(cpu_ticks)
t0=$(date +%s%N)
cat "$CORPUS" >>"$LOG"
lines=0
while :; do
	s=$(status)
	lines=$(field "$s" lines)
	[ "${lines:-0}" -ge "$LINES" ] && break
	kill -0 "$PID" 2>/dev/null || die "the daemon died: $(tail -n 3 "$DIR/daemon.log")"
	# a daemon reading at 10,000 lines/s is broken, not slow
	[ $(($(date +%s%N) - t0)) -lt $((LINES * 100000 + 60000000000)) ] ||
		die "the daemon read only ${lines:-0} of $LINES lines"
	sleep 0.05
done
t1=$(date +%s%N)
c1=$(cpu_ticks)
blocks=$(field "$s" blocks)
closed=$(field "$s" sessions_closed)
scans=$(field "$s" session_scans)
kill -TERM "$PID"
wait "$PID"
PID=
awk -v c0="$c0" -v c1="$c1" -v hz="$TICK" -v t0="$t0" -v t1="$t1" -v n="$lines" \
	-v b="${blocks:-?}" -v k="${closed:-?}" -v s="${scans:--}" 'BEGIN {
	printf "live cpu_s=%.2f wall_s=%.2f lines=%d blocks=%s closed=%s scans=%s\n",
		(c1 - c0) / hz, (t1 - t0) / 1e9, n, b, k, s }'

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# spray.sh - the live daemon under a spray of distinct keys: how long the
# control socket keeps a client waiting, and how much memory the daemon
# takes, while it counts SPRAY_LINES authentication failures, each from an
# IPv6 /64 of its own (2001:db8:XXXX:YYYY::1) and each for a user name of
# its own, SPRAY_USERLEN (200) bytes long. Half are Dovecot imap-login
# failures (user and session), half Postfix SASL failures (sasl_username).
#
# The daemon (./mailscreen run, the shipped filters and rules, built-in
# defaults otherwise: state saved every 5 s while it changes) runs in
# private network, mount and PID namespaces, as tests/netns/run.sh makes
# them, so nothing touches the host's network or ruleset. Meanwhile
# ctltime (tests/bench/ctltime.c) sends a status request every 5 ms and
# times each answer, from connect to its end. The spray is appended to the
# log in big writes; the run ends once the daemon has read it all and
# saved its state SPRAY_SAVES (2) more times with every key in it (the
# heaviest snapshots), or after SPRAY_TIMEOUT seconds.
#
# Prints the slowest control answer (and the median, the 99th percentile,
# how many were made, and the slowest while the spray was read and while
# the state was saved), the daemon's peak RSS (VmHWM) and its RSS at the
# end, the most memory a snapshot child had of its own (Private_* of
# smaps_rollup, sampled), what status shows of the tables and their
# evictions, the size of the state file, and the goals beside them
# (< 100 ms, < 64 MB), printed, never asserted.
#
# Environment:
#   BIN             mailscreen binary (default ./mailscreen)
#   CTLTIME         the timing client (default build/bench/ctltime)
#   SPRAY_LINES     failures written (default 100000)
#   SPRAY_USERLEN   bytes per user name (default 200)
#   SPRAY_SAVES     saves with every key to wait for (default 2)
#   SPRAY_TIMEOUT   seconds before giving up (default 180)
#   SPRAY_CONF      extra [daemon] lines for the configuration (e.g.
#                   "max_accounts = 1000000"), one per line
#   BENCH_DIR       output directory (default tests/out/bench)
#
# Exit status: 0; 1 when the daemon fails or the run times out; 77 when it
# cannot run here (not root, no namespaces).

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"

# goals (printed beside the results, never asserted)
G_SLOWEST_MS=100
G_RSS_KB=65536

if [ "${1:-}" != --inner ]; then
	bench_outside spray spray awk
	CTLTIME=${CTLTIME:-build/bench/ctltime}
	case $CTLTIME in /*) ;; *) CTLTIME=$ROOT/${CTLTIME#./} ;; esac
	[ -x "$CTLTIME" ] || { echo "spray: '$CTLTIME' not built (make $CTLTIME)"; exit 1; }
	# the spray itself, written before the daemon starts (generating it
	# must not compete with the daemon for the CPUs)
	LINES=${SPRAY_LINES:-100000}
	ULEN=${SPRAY_USERLEN:-200}
	awk -v n="$LINES" -v ulen="$ULEN" -v now="$(date '+%b %e %T')" 'BEGIN {
		pad = ""
		while (length(pad) < ulen)
			pad = pad "abcdefghijklmnopqrstuvwxyz0123456789"
		for (i = 0; i < n; i++) {
			ip = sprintf("2001:db8:%x:%x::1", 1 + int(i / 65536), i % 65536)
			id = sprintf("u%08d.", i)
			user = id substr(pad, 1, ulen - length(id))
			if (i % 2)
				printf "%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=2001:db8::1, TLS, session=<S%015d>\n", now, user, ip, i
			else
				printf "%s mx postfix/smtpd[%d]: warning: unknown[%s]: SASL PLAIN authentication failed: authentication failure, sasl_username=%s\n", now, 1000 + i, ip, user
		}
	}' >"$tmp/spray.log" || exit 1
	bench_ns $((${SPRAY_TIMEOUT:-180} + 30)) CTLTIME="$CTLTIME"
fi

# ---- inside the namespaces: PID 1 here, so everything dies with us ----
bench_inside
LINES=${SPRAY_LINES:-100000}
ULEN=${SPRAY_USERLEN:-200}
SAVES=${SPRAY_SAVES:-2}
TIMEOUT=${SPRAY_TIMEOUT:-180}
MS_WAIT=10
STATE=$MS_TMP/state/state

ms_config
if [ -n "${SPRAY_CONF:-}" ]; then
	printf '%s\n' "$SPRAY_CONF" >"$MS_TMP/extra"
	sed -i "/^state_dir = /r $MS_TMP/extra" "$MS_CONF"
fi
"$MS_BIN" check -c "$MS_CONF" -q || fail "the configuration does not check"
: >"$MS_LOG"
ms_start >/dev/null

vm() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$MS_PID/status"; }
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
mtime() { stat -c %Y.%y "$STATE" 2>/dev/null; }
# the daemon's CPU time so far (user + system), in ms
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%d", ($12 + $13) * 1000 / hz }' "/proc/$MS_PID/stat"; }

echo "mailscreen spray: $LINES failures, each from its own IPv6 /64 with its own $ULEN-byte user name"
echo "  daemon: ./mailscreen run, shipped filters and rules, state_interval 5s${SPRAY_CONF:+, $(echo "$SPRAY_CONF" | tr '\n' ',' | sed 's/,$//')}"
echo "  before: VmRSS $(vm VmRSS) kB"
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
if awk -v l="${load:-0}" 'BEGIN { exit !(l >= 0.5) }'; then
	echo "note: load average $load before starting: other work shares the CPUs, latencies are noisy"
fi

# the status loop: a status request every 5 ms, each timed from connect
# to the end of the answer (microseconds, one line each), until the stop
# file appears
STOP=$MS_TMP/stop
TIMES=$MS_TMP/times
"$CTLTIME" "$MS_SOCK" "$STOP" 5 >"$TIMES" &
loop=$!

# the snapshot writer's own memory: a child shares the daemon's pages
# (copy-on-write) and owns only those the daemon changed meanwhile, and
# its buffer; sampled every 20 ms while there is one
CHILDMAX=$MS_TMP/childmax
echo 0 >"$CHILDMAX"
(
	max=0
	while [ ! -e "$STOP" ]; do
		kids=
		read -r kids <"/proc/$MS_PID/task/$MS_PID/children" 2>/dev/null
		for c in $kids; do
			p=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' "/proc/$c/smaps_rollup" 2>/dev/null)
			if [ "${p:-0}" -gt "$max" ]; then
				max=$p
				echo "$max" >"$CHILDMAX"
			fi
		done
		sleep 0.02
	done
) &
sampler=$!

t_start=$(now_us)
cpu_start=$(cpu_ms)
cat "$MS_TMP/spray.log" >>"$MS_LOG"
size=$(stat -c %s "$MS_LOG")

caught_up() {
	ms_ctl status --json || return 1
	printf '%s\n' "$MS_OUT" | jq -e --argjson n "$LINES" --argjson size "$size" '
		.lines >= $n and ([.sources[].files[] | select(.offset == $size)] | length) == 1
	' >/dev/null
}
deadline=$(($(date +%s) + TIMEOUT))
rc=0
until caught_up; do
	ms_alive || { echo "FAIL: the daemon died"; rc=1; break; }
	[ "$(date +%s)" -le "$deadline" ] || { echo "FAIL: not read within ${TIMEOUT}s"; rc=1; break; }
	sleep 0.2
done
t_read=$(now_us)
cpu_read=$(cpu_ms)
# then SAVES snapshots holding every key: the state file changes that often
saves=0
last=$(mtime)
while [ $rc -eq 0 ] && [ $saves -lt "$SAVES" ]; do
	ms_alive || { echo "FAIL: the daemon died"; rc=1; break; }
	[ "$(date +%s)" -le "$deadline" ] || { echo "FAIL: no save within ${TIMEOUT}s"; rc=1; break; }
	# keep the state changing, so that the timer saves again
	sasl_fail 198.51.100.$((saves + 1)) 1
	while [ "$(mtime)" = "$last" ] && [ "$(date +%s)" -le "$deadline" ]; do
		sleep 0.1
	done
	last=$(mtime)
	saves=$((saves + 1))
done
t_end=$(now_us)
: >"$STOP"
wait $loop $sampler
ms_ctl status --json
st=$MS_OUT
hwm=$(vm VmHWM)
rss=$(vm VmRSS)

hr() { echo "------------------------------------------------------------------------------"; }
hr
if grep -q '^error' "$TIMES"; then
	echo "status errors: $(grep -c '^error' "$TIMES") (first: $(grep -m1 '^error' "$TIMES"))"
	rc=1
fi
grep -v '^error' "$TIMES" | sort -n >"$MS_TMP/sorted"
n=$(wc -l <"$MS_TMP/sorted")
pick() { awk -v q="$1" -v n="$n" 'NR == (int(n * q) > 0 ? int(n * q) : 1) { printf "%.1f", $1 / 1000; exit }' "$MS_TMP/sorted"; }
# the slowest answer to a request sent in [FROM, TO) (wall clock, us)
slowest_in() { awk -v a="$1" -v b="$2" '$2 >= a && $2 < b && $1 > m { m = $1 } END { printf "%.1f", m / 1000 }' "$MS_TMP/sorted"; }
slowest=$(tail -n 1 "$MS_TMP/sorted" | awk '{ printf "%.1f", $1 / 1000 }')
echo "read in $(((t_read - t_start) / 1000)) ms (the daemon's CPU: $((cpu_read - cpu_start)) ms), then $saves saves" \
	"with every key in $(((t_end - t_read) / 1000)) ms"
echo "status answers: $n, median $(pick 0.5) ms, p99 $(pick 0.99) ms (connect to the answer's end)"
echo "slowest answer while the spray was read: $(slowest_in "$t_start" "$t_read") ms; while the full state was saved: $(slowest_in "$t_read" "$t_end") ms"
j() { printf '%s\n' "$st" | jq -r "$1"; }
echo "status: lines $(j .lines), tracked keys $(j .tracked_keys), evictions $(j .evictions)$(printf '%s\n' "$st" |
	jq -r 'if .tables then ", " + ([.tables | to_entries[] | "\(.key) \(.value.keys) (max \(.value.max), evicted \(.value.evictions))"] | join(", ")) else "" end')"
echo "state file: $(stat -c %s "$STATE" 2>/dev/null || echo '?') bytes; RSS now $((rss / 1024)) MB;" \
	"snapshot child's own memory at most $(awk '{ printf "%.1f MB", $1 / 1024 }' "$CHILDMAX")"
hr
met() { if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; then echo met; else echo "NOT met"; fi; }
printf '  slowest control answer: %-12s goal < %d ms: %s\n' "$slowest ms" $G_SLOWEST_MS "$(met "$slowest" $G_SLOWEST_MS)"
printf '  peak RSS (VmHWM):       %-12s goal < %d MB: %s\n' "$(awk -v k="$hwm" 'BEGIN { printf "%.1f MB", k / 1024 }')" \
	$((G_RSS_KB / 1024)) "$(met "$hwm" $G_RSS_KB)"
ms_stop >/dev/null
exit $rc

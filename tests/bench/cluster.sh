#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cluster.sh - how fast a block made on one node of a cluster is enforced
# by the others. Three nodes (a, b, c: ./mailscreen run, the shipped
# filters and rules, [cluster] with default sharing) and a real
# redis-server, each in a network namespace of its own, the nodes reaching
# Redis over TCP on veth links (tests/netns/cluster_lib.sh: nothing
# touches the host's network or ruleset). Node a blocks CLUSTER_N (2000)
# distinct IPv6 /64s (2001:db8:1:N::/64): with CLUSTER_MAKE=log (the
# default) by a burst of 5 Postfix SASL failures from each, appended to its
# log in one write (the shipped auth-ip rule blocks them), with
# CLUSTER_MAKE=cli by `mailscreen block` on its control socket in a tight
# loop (one CLI process and one request per block). `nft monitor new elements` runs in each node's
# namespace and every line it prints is timestamped on arrival, so each
# element has the time it entered a's kernel set and the times it entered
# b's and c's.
#
# Prints: the rate at which a made the blocks; the decisions per second
# propagated (CLUSTER_N over the time from a's first element to the last
# one present on b and c); the propagation latency (element in a's kernel
# -> element in b's or c's kernel) p50, p99 and max, per node and over
# both. Then the polling design for comparison: a polling client reads the
# snapshot hash (PREFIX:current) every CLUSTER_POLL (10) seconds - what
# CrowdSec's bouncers do by default - on the same blocks in the same run,
# and its latency (a's element -> first poll that sees it) is printed next
# to the analytical one for a poll period P (uniform in [0, P]: p50 P/2,
# p99 0.99 P), with the ratios polling / push. Nothing is asserted: the
# figures depend on the machine (and on what else runs on it).
#
# Environment:
#   BIN           mailscreen binary (default ./mailscreen)
#   CLUSTER_N     blocks made on node a (default 2000)
#   CLUSTER_MAKE  log (a burst of log lines, default) or cli (block commands)
#   CLUSTER_POLL  the polling client's period in seconds (default 10)
#   BENCH_DIR     output directory (default tests/out/bench)
#
# Exit status: 0; 1 when a node fails or the run times out; 77 when it
# cannot run here (not root, no namespaces, no redis-server).

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C
# shellcheck source=tests/bench/lib.sh
. "$ROOT/tests/bench/lib.sh"

if [ "${1:-}" != --inner ]; then
	bench_outside cluster "cluster bench" nsenter nft ip jq perl stdbuf redis-server redis-cli
	bench_ns 300
fi

# ---- inside the namespaces: PID 1 here, so everything dies with us ----
bench_inside
MS_WAIT=30
# shellcheck source=tests/netns/cluster_lib.sh
. "$MS_REPO/tests/netns/cluster_lib.sh"
# quietly CMD... - CMD's "ok" lines kept out of the report; if it fails
# (fail: what did not happen, the daemon's log), all it said, then exit
quietly() {
	( "$@" ) > "$MS_TMP/step.out" 2>&1 || { cat "$MS_TMP/step.out" >&2; exit 1; }
}
N=${CLUSTER_N:-2000}
POLL=${CLUSTER_POLL:-10}
MAKE=${CLUSTER_MAKE:-log}
# the burst, written before the nodes start (generating it must not compete
# with them for the CPUs)
awk -v n="$N" -v now="$(date '+%b %e %T')" 'BEGIN {
	for (i = 1; i <= n; i++)
		for (k = 0; k < 5; k++)
			printf "%s mx postfix/smtpd[%d]: warning: unknown[2001:db8:1:%x::1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n", now, 1000 + i, i
}' > "$MS_TMP/burst.log"

redis_start >/dev/null
for n in a b c; do
	node_setup $n
	node_start $n >/dev/null
done
for n in a b c; do
	quietly node_wait_log $n 0 'cluster: read the snapshot'
done

# the element's /64 index, from any text naming 2001:db8:1:N::/64
# shellcheck disable=SC2016
STAMP='$| = 1; while (<STDIN>) { my $t = sprintf "%.6f", Time::HiRes::time(); print "$t $1\n" while /2001:db8:1:([0-9a-f]+)::\/64/g }'
for n in a b c; do
	nsenter --net="$MS_TMP/node.$n/netns" stdbuf -oL nft monitor new elements 2>/dev/null |
		perl -MTime::HiRes -e "$STAMP" > "$MS_TMP/mon.$n" &
done
# the polling client: every POLL seconds, the snapshot's fields
( while :; do
	rcli HKEYS mailscreen:current | perl -MTime::HiRes -e "$STAMP"
	sleep "$POLL"
  done ) > "$MS_TMP/mon.poll" &
POLLER=$!
# a probe block (index ffff, left out of the figures): once every monitor
# saw it, they are all listening
"$MS_BIN" block -s "$MS_TMP/node.a/control" 2001:db8:1:ffff::/64 1h > /dev/null || fail "the probe block on node a"
probed() { grep -q ' ffff$' "$MS_TMP/mon.a" && grep -q ' ffff$' "$MS_TMP/mon.b" && grep -q ' ffff$' "$MS_TMP/mon.c"; }
quietly wait_until "every node's monitor saw the probe" probed

say "node a blocks $N /64s ($MAKE)"
sock=$MS_TMP/node.a/control
t0=${EPOCHREALTIME}
if [ "$MAKE" = cli ]; then
	for i in $(seq 1 "$N"); do
		"$MS_BIN" block -s "$sock" "2001:db8:1:$(printf %x "$i")::/64" 1h > /dev/null || fail "block $i on node a"
	done
else
	cat "$MS_TMP/burst.log" >> "$MS_TMP/node.a/mail.log"
fi

# seen NODE - how many distinct elements NODE's monitor saw
seen() { awk '$2 != "ffff" && !s[$2]++ { n++ } END { print n + 0 }' "$MS_TMP/mon.$1"; }
all_arrived() { [ "$(seen a)" -ge "$N" ] && [ "$(seen b)" -ge "$N" ] && [ "$(seen c)" -ge "$N" ]; }
MS_WAIT=120
quietly wait_until "all $N elements in every node's kernel" all_arrived
t1=$(awk '$1 > m { m = $1 } END { print m }' "$MS_TMP/mon.a")
poll_done() { [ "$(seen poll)" -ge "$N" ]; }
MS_WAIT=$((POLL * 2 + 30))
quietly wait_until "the polling client sees all $N" poll_done
kill "$POLLER" 2>/dev/null

# lat NODE - latency in ms of each element, NODE's arrival - a's arrival
lat() {
	awk '$2 == "ffff" { next } FNR == NR { if (!($2 in a)) a[$2] = $1; next }
	     !($2 in b) { b[$2] = $1; if ($2 in a) printf "%.3f\n", ($1 - a[$2]) * 1000 }' \
		"$MS_TMP/mon.a" "$MS_TMP/mon.$1"
}
for n in b c poll; do lat $n | sort -n > "$MS_TMP/lat.$n"; done
sort -n "$MS_TMP/lat.b" "$MS_TMP/lat.c" > "$MS_TMP/lat.bc"
# pct FILE Q - the Q quantile (nearest rank) of a sorted file
pct() { awk -v q="$2" '{ v[NR] = $1 } END { r = int(NR * q + 0.999999); if (r < 1) r = 1; printf "%.1f", v[r] }' "$1"; }
a_first=$(awk '$2 != "ffff" && (m == "" || $1 < m) { m = $1 } END { print m }' "$MS_TMP/mon.a")
a_last=$(awk '$1 > m { m = $1 } END { print m }' "$MS_TMP/mon.a")
bc_last=$(awk '$1 > m { m = $1 } END { print m }' "$MS_TMP/mon.b" "$MS_TMP/mon.c")
made_rate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
a_rate=$(awk -v n="$N" -v a="$a_first" -v b="$a_last" 'BEGIN { printf "%.0f", n / (b - a) }')
prop_rate=$(awk -v n="$N" -v a="$a_first" -v b="$bc_last" 'BEGIN { printf "%.0f", n / (b - a) }')
tail_ms=$(awk -v a="$a_last" -v b="$bc_last" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
st=$("$MS_BIN" status -s "$MS_TMP/node.b/control" --json)

echo
echo "cluster: 3 nodes + redis-server (TCP over veth), $N blocks made on node a, $(nproc) CPUs"
if [ "$MAKE" = cli ]; then how="block commands, one CLI call each"; else how="$((5 * N)) log lines in one write"; fi
printf '  blocks made on a (%s): %s/s (%.2f s from the start to the last in its set)\n' "$how" "$made_rate" \
	"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
printf '  elements entering a'"'"'s kernel set:                  %s/s\n' "$a_rate"
printf '  decisions propagated (a first -> last on b and c):   %s/s; the last arrived %s ms after a'"'"'s last\n' \
	"$prop_rate" "$tail_ms"
printf '  node b: applied %s, rejected %s\n' "$(printf '%s\n' "$st" | jq .cluster.applied)" \
	"$(printf '%s\n' "$st" | jq .cluster.rejected)"
echo
printf '  %-34s %10s %10s %10s %8s\n' "latency, element in a -> in" p50 p99 max n
for n in b c bc; do
	name=$n
	[ $n = bc ] && name="b and c"
	printf '  %-34s %10s %10s %10s %8s\n' "node $name (push, ms)" "$(pct "$MS_TMP/lat.$n" 0.5)" \
		"$(pct "$MS_TMP/lat.$n" 0.99)" "$(tail -n 1 "$MS_TMP/lat.$n")" "$(wc -l < "$MS_TMP/lat.$n")"
done
printf '  %-34s %10s %10s %10s %8s\n' "poll every ${POLL}s, measured (ms)" "$(pct "$MS_TMP/lat.poll" 0.5)" \
	"$(pct "$MS_TMP/lat.poll" 0.99)" "$(tail -n 1 "$MS_TMP/lat.poll")" "$(wc -l < "$MS_TMP/lat.poll")"
printf '  %-34s %10s %10s %10s\n' "poll every ${POLL}s, model U[0,P] (ms)" "$((POLL * 500)).0" "$((POLL * 990)).0" "$((POLL * 1000)).0"
p50=$(pct "$MS_TMP/lat.bc" 0.5) p99=$(pct "$MS_TMP/lat.bc" 0.99)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0fx", a / b; else print "-" }'; }
echo
printf '  polling / push, p50: measured %s, model %s; p99: measured %s, model %s\n' \
	"$(ratio "$(pct "$MS_TMP/lat.poll" 0.5)" "$p50")" "$(ratio $((POLL * 500)) "$p50")" \
	"$(ratio "$(pct "$MS_TMP/lat.poll" 0.99)" "$p99")" "$(ratio $((POLL * 990)) "$p99")"
echo "  (the measured polling client starts polling just before the blocks; its latency depends on"
echo "   where the blocks fall in its period, the model assumes they fall anywhere in it)"
for n in a b c; do node_kill $n >/dev/null; done
redis_stop >/dev/null
exit 0

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_backoff.sh - a Redis that takes the connection but refuses
# what the node asks (here the stream key made a string, as anyone with
# the ACL can; an ACL without XREAD does the same) is retried with the
# back-off, twice as long each time, not every 100 ms: the back-off starts
# again only once Redis answered a command, not once it took AUTH.
# netns-timeout: 90
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"
MS_WAIT=30

reconnects() { "$MS_BIN" status -s "$MS_TMP/node.a/control" --json | jq -r '.cluster.reconnects'; }
reconnects_at_least() { [ "$(reconnects)" -ge "$1" ]; }

redis_start
node_setup a
node_start a
node_wait_log a 0 'cluster: read the snapshot'

say "the stream key made a string: every read is refused"
rcli DEL mailscreen:decisions > /dev/null
rcli SET mailscreen:decisions x > /dev/null
wait_until "a's first reconnection" reconnects_at_least 1
t0=$(now_ms)
first=$(reconnects)
wait_until "five reconnections more" reconnects_at_least $((first + 5))
took=$(($(now_ms) - t0))
# waits of 200, 400, 800, 1600 ms at least (each drawn in [3/4, 1] of it)
[ "$took" -ge 2000 ] || fail "five reconnections in $took ms: no back-off"
ok "five reconnections took $took ms (the back-off doubles)"

say "the key back as a stream: a reads again"
rcli DEL mailscreen:decisions > /dev/null
off=$(node_log_size a)
node_wait_log a "$off" 'cluster: read the snapshot|cluster: resuming the stream'

node_kill a
redis_stop

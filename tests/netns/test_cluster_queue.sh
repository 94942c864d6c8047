#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_queue.sh - Redis away: node a goes on blocking on its own,
# and what it must publish waits in a queue of at most 10,000 decisions
# (CLUSTER_QUEUE_MAX); the decisions past it are dropped and counted
# (status: queued, dropped). When Redis is back the queue is sent: node b
# then holds the first decision queued and never the ones dropped.
# netns-timeout: 240
. "$MS_REPO/tests/netns/cluster_lib.sh"
MS_WAIT=60

redis_start
node_setup a
node_setup b
node_start a
node_start b
redis_stop

# 10,050 IPv6 /64s fail 5 times each on node a: 10,050 blocks by auth-ip
say "Redis away: 10,050 blocks on node a"
awk -v stamp="$(date '+%b %e %T')" 'BEGIN {
	for (i = 0; i < 10050; i++)
		for (k = 0; k < 5; k++)
			printf "%s mx postfix/smtpd[%d]: warning: unknown[2001:db8:%x:%x::9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n",
				stamp, 30000 + i, 100 + int(i / 256), i % 256
}' >> "$MS_TMP/node.a/mail.log"
a_status() { "$MS_BIN" status -s "$MS_TMP/node.a/control" --json; }
queue_full() { a_status | jq -e '.cluster.connected == false and .cluster.queued == 10000 and .cluster.dropped == 50' > /dev/null; }
wait_until "node a: 10,000 decisions queued, 50 dropped" queue_full
node_wait_element a 2001:db8:64::/64
node_wait_element a 2001:db8:8b:41::/64
node_assert_no_element b 2001:db8:64::/64

say "Redis back: the queue is sent, the dropped ones never"
redis_start
sent() { a_status | jq -e '.cluster.connected and .cluster.queued == 0 and .cluster.published >= 10000' > /dev/null; }
wait_until "node a: the queue sent" sent
node_wait_element b 2001:db8:64::/64
node_wait_element b 2001:db8:8b:9::/64
node_assert_no_element b 2001:db8:8b:41::/64
a_status | jq -e '.cluster.dropped == 50' > /dev/null || fail "node a: dropped is no longer 50: $(a_status | jq -c .cluster)"
ok "node a: 50 dropped, and said so"

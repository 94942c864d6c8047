#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_counts_refused.sh - a shared rule still blocks when Redis
# takes the events but refuses the counting script (an ACL without its
# commands, a Redis out of memory): the events of a refused batch are
# judged by the node's own count, as while Redis is away; and a decided
# marker another node wrote for an address (without expiry, as one
# sharing the Redis can) does not shield it from a node whose own count
# reached the limit.
# netns-timeout: 90
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"

shared_rule

redis_start
rcli ACL SETUSER mailscreen -zadd > /dev/null || fail "ACL SETUSER"
node_setup a "share = blocks counts"
node_start a
node_wait_log a 0 'cluster: read the snapshot'

say "five failures on node a, each batch refused by Redis"
off=$(node_log_size a)
sasl_fail 203.0.113.6 5 "$MS_TMP/node.a/mail.log"
node_wait_log a "$off" 'cluster: Redis refused a batch of shared counts'
node_wait_element a 203.0.113.6

say "a decided marker without expiry, forged: five failures on node a still block there"
rcli ACL SETUSER mailscreen +zadd > /dev/null || fail "ACL SETUSER"
rcli SET mailscreen:decided:auth-shared:203.0.113.7 1 > /dev/null
sent_events() { "$MS_BIN" status -s "$MS_TMP/node.a/control" --json | jq -r '.cluster.count_events'; }
before=$(sent_events)
sasl_fail 203.0.113.7 5 "$MS_TMP/node.a/mail.log"
wait_until "node a sent the 5 events to the shared count" sh -c "[ \$('$MS_BIN' status -s '$MS_TMP/node.a/control' --json | jq -r .cluster.count_events) -ge $((before + 5)) ]"
node_wait_element a 203.0.113.7

node_kill a
redis_stop

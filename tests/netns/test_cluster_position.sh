#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_position.sh - a node resumes from its read position only if
# the stream still holds it: a position the stream does not hold (Redis
# restarted empty after an entry with an ID far in the future was added,
# as a hostile node sharing the Redis can, or as a promoted replica with
# a clock behind gives) makes it read the snapshot, rather than wait
# forever for IDs past it.
# netns-timeout: 90
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"

two_nodes

say "an entry with an ID far in the future moves the nodes' position there"
rcli XADD mailscreen:decisions 9999999999999-0 v 1 node x kind nuke > /dev/null || fail "XADD"
wait_until "b read up to 9999999999999-0" sh -c "'$MS_BIN' status -s '$MS_TMP/node.b/control' --json |
	jq -e '.cluster.last_id == \"9999999999999-0\"' > /dev/null"

say "Redis restarted empty: b does not hold on to a position the stream does not hold"
off=$(node_log_size b)
redis_stop
redis_start
node_wait_log b "$off" 'cluster: read connection to Redis ready'
node_ctl a block 203.0.113.70 1h
node_wait_element b 203.0.113.70

say "stopped and started again, b resumes from a position the stream holds"
node_kill b
off=$(node_log_size b)
node_start b
node_wait_log b "$off" 'cluster: resuming the stream after [0-9]+-[0-9]+'
node_ctl a block 203.0.113.71 1h
node_wait_element b 203.0.113.71

node_kill a
node_kill b
redis_stop

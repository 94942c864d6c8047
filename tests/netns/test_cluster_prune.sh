#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_prune.sh - the snapshot (PREFIX:current) does not keep the
# decisions long over while every node follows the stream: a node also
# removes them when its publish connection is made (and every hour), not
# only when it reads the snapshot, which a node resuming from its
# position never does; a decision in force stays.
# netns-timeout: 90
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"

two_nodes
node_ctl a block 203.0.113.80 1h
node_wait_element b 203.0.113.80

say "a decision over long ago, in the snapshot while both nodes follow the stream"
stale=$(printf 'v\0371\037node\037x\037kind\037block\037target\037203.0.113.99\037duration\03760000\037ts\0371000')
rcli HSET mailscreen:current b:203.0.113.99 "$stale" > /dev/null
offa=$(node_log_size a)
offb=$(node_log_size b)
rcli CLIENT KILL USER mailscreen > /dev/null
node_wait_log a "$offa" 'cluster: resuming the stream after'
node_wait_log b "$offb" 'cluster: resuming the stream after'
wait_until "the stale entry is gone from the snapshot" sh -c "[ \"\$(redis-cli -s '$MS_REDIS_SOCK' --user admin --pass admin-secret --no-auth-warning HEXISTS mailscreen:current b:203.0.113.99)\" = 0 ]"
[ "$(rcli HEXISTS mailscreen:current b:203.0.113.80)" = 1 ] || fail "the block in force left the snapshot"
ok "the block in force is still in the snapshot"
pruned() {
	"$MS_BIN" status -s "$MS_TMP/node.a/control" --json | jq -r .cluster.pruned
	"$MS_BIN" status -s "$MS_TMP/node.b/control" --json | jq -r .cluster.pruned
}
[ "$(pruned | awk '{ n += $1 } END { print n }')" = 1 ] || fail "pruned, a and b: $(pruned | tr '\n' ' ')"
ok "one removal counted, on the node that made it"

node_kill a
node_kill b
redis_stop

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_reconfigure.sh - what a reload does to the link to Redis:
# a password rotated in the same password_file is read again and used at
# the next connection (the link is made again), not the old one kept; a
# read position belongs to one stream: a node moved to another prefix, by a
# reload or by a restart with its saved state, reads that stream's snapshot
# rather than skip the entries older than its position in the old stream.
# netns-timeout: 120
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"

two_nodes

say "the password rotated in the same file, then a reload: b connects with the new one"
rcli ACL SETUSER mailscreen resetpass '>rotated-secret-9' > /dev/null || fail "ACL SETUSER"
printf '%s\n' 'rotated-secret-9' > "$MS_TMP/redis.pw"
offa=$(node_log_size a)
off=$(node_log_size b)
kill -HUP "$(node_pid a)" "$(node_pid b)"
node_wait_log a "$offa" '^mailscreen: reloaded '
node_wait_log b "$off" '^mailscreen: reloaded '
# every connection made again from here on must use the password of the file
rcli CLIENT KILL USER mailscreen > /dev/null
node_wait_log b "$off" 'cluster: read connection to Redis ready'
node_ctl a block 203.0.113.50 1h
node_wait_element b 203.0.113.50
tail -c +$((off + 1)) "$MS_TMP/node.b/daemon.log" | grep -q WRONGPASS &&
	fail "b used the old password: $(tail -c +$((off + 1)) "$MS_TMP/node.b/daemon.log")"
ok "b authenticated with the rotated password"

# read_up_to NODE PREFIX - wait until NODE read the last entry of PREFIX's stream
read_up_to() {
	ru_id=$(rcli XREVRANGE "${2}decisions" + - COUNT 1 | head -n 1)
	[ -n "$ru_id" ] || fail "no entry in ${2}decisions"
	wait_until "node $1 read up to $ru_id" sh -c "'$MS_BIN' status -s '$MS_TMP/node.$1/control' --json |
		jq -e '.cluster.last_id == \"$ru_id\"' > /dev/null"
}

say "b moved by a reload to the stream of another prefix applies what it holds"
offa=$(node_log_size a)
node_setup a "prefix = mailscreen:two:"
kill -HUP "$(node_pid a)"
node_wait_log a "$offa" 'cluster: read the snapshot'
node_ctl a block 203.0.113.60 1h
read_up_to a mailscreen:two:
# b's position in its own stream, later than a's entry in the other
node_ctl b block 203.0.113.61 1h
read_up_to b mailscreen:
off=$(node_log_size b)
node_setup b "prefix = mailscreen:two:"
kill -HUP "$(node_pid b)"
node_wait_log b "$off" 'cluster: read the snapshot \(1 entries\)'
node_wait_element b 203.0.113.60

say "b restarted on the stream of another prefix, with a saved position of the old one"
offa=$(node_log_size a)
node_setup a "prefix = mailscreen:three:"
kill -HUP "$(node_pid a)"
node_wait_log a "$offa" 'cluster: read the snapshot'
node_ctl a block 203.0.113.62 1h
read_up_to a mailscreen:three:
node_ctl b block 203.0.113.63 1h
read_up_to b mailscreen:two:
node_kill b
grep -q '^cluster ' "$MS_TMP/node.b/state/state" || fail "b's state holds no cluster position"
off=$(node_log_size b)
node_setup b "prefix = mailscreen:three:"
node_start b
node_wait_log b "$off" 'cluster: read the snapshot \(1 entries\)'
node_wait_element b 203.0.113.62

node_kill a
node_kill b
redis_stop

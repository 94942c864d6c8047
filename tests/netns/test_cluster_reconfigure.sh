#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_reconfigure.sh - what a reload does to the link to Redis:
# a password rotated in the same password_file is read again and used at
# the next connection (the link is made again), not the old one kept.
# netns-timeout: 120
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"

redis_start
node_setup a
node_setup b
node_start a
node_start b
node_wait_log a 0 'cluster: read the snapshot'
node_wait_log b 0 'cluster: read the snapshot'

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

node_kill a
node_kill b
redis_stop

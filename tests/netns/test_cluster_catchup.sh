# SPDX-License-Identifier: GPL-2.0-or-later
# test_cluster_catchup.sh - what a node missed reaches it: node b, stopped
# while a blocks, resumes the stream from the position in its saved state;
# a new node c starts from the snapshot; while Redis is down a node keeps
# blocking on its own and queues, and after Redis returns (empty: no
# persistence) the others get what it queued; forged stream entries (bad
# address, /0, unknown kind, a huge field, an allow not accepted) are
# rejected, logged, and change nothing. The nodes here reach Redis over its
# unix socket (test_cluster.sh covers TCP over veth links).
# netns-timeout: 120
MS_REDIS_TRANSPORT=unix
. "$MS_REPO/tests/netns/cluster_lib.sh"

redis_start
node_setup a "share = blocks allows accounts"
node_setup b
node_start a
node_start b
node_wait_log a 0 'cluster: read the snapshot'
node_wait_log b 0 'cluster: read the snapshot'

say "b is stopped while a blocks; started again, it catches up from its saved position"
node_ctl a block 203.0.113.10 1h
node_wait_element b 203.0.113.10
node_kill b
node_ctl a block 203.0.113.11 1h
node_ctl a block 203.0.113.12 1h
node_ctl a unblock 203.0.113.10
grep -q '^cluster [0-9]*-[0-9]* mailscreen:decisions@unix:' "$MS_TMP/node.b/state/state" || fail "b's state holds no cluster position"
ok "b's state holds its stream position: $(grep '^cluster ' "$MS_TMP/node.b/state/state")"
off=$(node_log_size b)
node_start b
node_wait_log b "$off" 'cluster: resuming the stream after [0-9]+-[0-9]+'
node_wait_element b 203.0.113.11
node_wait_element b 203.0.113.12
node_wait_no_element b 203.0.113.10

say "a new node starts from the snapshot (and removes what is long over from it)"
stale=$(printf 'v\0371\037node\037x\037kind\037block\037target\037203.0.113.99\037duration\03760000\037ts\0371000')
rcli HSET mailscreen:current b:203.0.113.99 "$stale" > /dev/null
node_setup c
node_start c
# 3 entries, or 2 when the publish connection's pruning (it removes what is
# long over, as the reader does) came first
node_wait_log c 0 'cluster: read the snapshot \([23] entries\)'
wait_until "the stale entry is gone from the snapshot" sh -c "[ \"\$(redis-cli -s '$MS_REDIS_SOCK' --user admin --pass admin-secret --no-auth-warning HEXISTS mailscreen:current b:203.0.113.99)\" = 0 ]"
node_assert_no_element c 203.0.113.99
node_wait_element c 203.0.113.11
node_wait_element c 203.0.113.12
node_assert_no_element c 203.0.113.10

say "Redis killed: a blocks on its own and queues; Redis back (empty), everyone converges"
redis_stop
node_ctl a block 203.0.113.20 1h
node_wait_element a 203.0.113.20
node_ctl a block-account eve@example.org 1h
wait_until "a denies eve@example.org at once" grep -F -x -q eve@example.org "$MS_TMP/node.a/denied"
a_queues() {
	"$MS_BIN" status -s "$MS_TMP/node.a/control" --json |
		jq -e '.cluster.connected == false and .cluster.queued == 2' > /dev/null
}
wait_until "a's status: not connected, 2 decisions queued" a_queues
redis_start
node_wait_element b 203.0.113.20
node_wait_element c 203.0.113.20
wait_until "b denies eve@example.org" grep -F -x -q eve@example.org "$MS_TMP/node.b/denied"

say "forged entries are rejected and logged; nothing is applied"
off=$(node_log_size b)
rcli XADD mailscreen:decisions '*' v 1 node x kind block target 203.0.113.300 duration 60000 ts $(now_ms) > /dev/null
rcli XADD mailscreen:decisions '*' v 1 node x kind block target 0.0.0.0/0 duration 60000 ts $(now_ms) > /dev/null
rcli XADD mailscreen:decisions '*' v 1 node x kind nuke target 203.0.113.31 duration 60000 ts $(now_ms) > /dev/null
rcli XADD mailscreen:decisions '*' v 1 node x kind block target 203.0.113.32 duration 60000 ts $(now_ms) \
	reason "$(head -c 3000 /dev/zero | tr '\0' a)" > /dev/null
rcli XADD mailscreen:decisions '*' v 1 node x kind allow target 192.0.2.0/24 duration 60000 ts $(now_ms) > /dev/null
rcli XADD mailscreen:decisions '*' v 9 node x kind block target 203.0.113.33 duration 60000 ts $(now_ms) > /dev/null
rcli XADD mailscreen:decisions '*' v 1 node x kind block target 203.0.113.34 duration 60000 ts $(now_ms) > /dev/null
node_wait_element b 203.0.113.34        # the good one after them: the others were read
for why in "target '203.0.113.300'" 'a range wider than /8' "unknown kind 'nuke'" 'a field of 3000 bytes' \
	'a allow, which this node does not accept' "unknown version '9'"; do
	tail -c +$((off + 1)) "$MS_TMP/node.b/daemon.log" | grep -F -q "$why" ||
		fail "b did not log the rejection '$why': $(tail -c +$((off + 1)) "$MS_TMP/node.b/daemon.log")"
	ok "b rejected and logged: $why"
done
for t in 203.0.113.31 203.0.113.32 203.0.113.33; do
	node_assert_no_element b $t
done
node_ctl b list blocks
printf '%s\n' "$MS_OUT" | grep -q '0.0.0.0' && fail "b lists a block of everything: $MS_OUT"
ok "b blocks nothing it was handed by a forged entry"

say "a reload that changes [cluster] remakes the link, which resumes where the old one was"
off=$(node_log_size b)
node_setup b "accept = blocks allows accounts"
kill -HUP "$(node_pid b)"
node_wait_log b "$off" 'cluster: resuming the stream after [0-9]+-[0-9]+'
off=$(node_log_size b)
node_ctl a allow 198.51.100.77 1h
node_wait_log b "$off" 'cluster: allow 198.51.100.77 from a'
node_ctl b list allows
printf '%s\n' "$MS_OUT" | grep -q '198.51.100.77' || fail "b does not list the allow it accepts now: $MS_OUT"
ok "b lists the allow it accepts since the reload"

say "a node with a wrong password: refused by Redis, said, retried; it still blocks on its own"
printf 'not-the-password\n' > "$MS_TMP/wrong.pw"
chmod 600 "$MS_TMP/wrong.pw"
node_setup d "password_file = $MS_TMP/wrong.pw"
node_start d
node_wait_log d 0 'cluster: Redis refused AUTH: WRONGPASS'
node_ctl d block 203.0.113.40 1h
node_wait_element d 203.0.113.40
d_down() {
	"$MS_BIN" status -s "$MS_TMP/node.d/control" --json | jq -e '.cluster.connected == false and .cluster.queued == 1' > /dev/null
}
wait_until "d's status: not connected, its block queued" d_down
node_assert_no_element a 203.0.113.40
node_kill d

node_kill a
node_kill b
node_kill c
redis_stop

# SPDX-License-Identifier: GPL-2.0-or-later
# test_cluster.sh - three nodes, each in its own network namespace with its
# own nftables table, share their decisions through a real redis-server
# (TCP over a veth link from each node's namespace to the server's own,
# ACL user with a password file): a block made by a rule on
# node a reaches b's and c's kernel sets (the latency is printed); a
# manual block and its unblock, an account block and its unblock
# propagate; an allow (and its end by reset allows) is applied by the node that accepts allows and
# rejected (logged) by one that does not.
# netns-timeout: 120
. "$MS_REPO/tests/netns/cluster_lib.sh"

redis_start
node_setup a "share = blocks allows accounts"
node_setup b "[metrics]
listen = 127.0.0.1:9154"
node_setup c "accept = blocks allows accounts"
node_start a
node_start b
node_start c
for n in a b c; do
	node_wait_log $n 0 'cluster: read the snapshot'
done

say "a block by a rule on node a"
sasl_fail 203.0.113.5 5 "$MS_TMP/node.a/mail.log"
node_wait_element a 203.0.113.5
t1=$(now_ms)
node_wait_element b 203.0.113.5 "$t1"
node_wait_element c 203.0.113.5 "$t1"
p0=$(now_ms)
node_has c 203.0.113.5
say "one look at a node's set costs $(($(now_ms) - p0)) ms of those; node b read the entry $("$MS_BIN" status -s "$MS_TMP/node.b/control" --json | jq .cluster.lag_ms) ms after Redis stored it"
node_ctl b list blocks
printf '%s\n' "$MS_OUT" | grep -q 'cluster:a' || fail "node b's list does not show origin cluster:a: $MS_OUT"
ok "node b lists the block with origin cluster:a"

say "a manual block on node b, then its unblock"
t1=$(now_ms)
node_ctl b block 198.51.100.0/24 10m
node_wait_element a 198.51.100.0/24 "$t1"
node_wait_element c 198.51.100.0/24 "$t1"
node_ctl b unblock 198.51.100.0/24
node_wait_no_element a 198.51.100.0/24
node_wait_no_element c 198.51.100.0/24
node_ctl a history 198.51.100.0/24
printf '%s\n' "$MS_OUT" | grep -q 'cluster:b' || fail "node a's history does not show origin cluster:b: $MS_OUT"
ok "node a's history shows the ended block with origin cluster:b"

say "an account block on node c, then its unblock"
node_ctl c block-account mallory@example.org 1h
wait_until "node a denies mallory@example.org" grep -F -x -q mallory@example.org "$MS_TMP/node.a/denied"
wait_until "node b denies mallory@example.org" grep -F -x -q mallory@example.org "$MS_TMP/node.b/denied"
node_ctl c unblock-account mallory@example.org
wait_until "node a lifted mallory@example.org" sh -c "! grep -F -x -q mallory@example.org '$MS_TMP/node.a/denied'"

say "reset blocks on node a: its blocks and account blocks are lifted everywhere"
node_ctl a block-account trudy@example.org 1h
wait_until "node b denies trudy@example.org" grep -F -x -q trudy@example.org "$MS_TMP/node.b/denied"
node_ctl a reset blocks
node_wait_no_element b 203.0.113.5
node_wait_no_element c 203.0.113.5
wait_until "node b lifted trudy@example.org" sh -c "! grep -F -x -q trudy@example.org '$MS_TMP/node.b/denied'"

say "an allow on node a: c accepts allows, b does not"
off_b=$(node_log_size b)
off_c=$(node_log_size c)
node_ctl a allow 203.0.113.77 1h
node_wait_log c "$off_c" 'cluster: allow 203.0.113.77 from a'
node_wait_log b "$off_b" 'rejected stream entry .*: a allow, which this node does not accept'
say "b blocks it: a (its own allow) and c (the allow it took) refuse the block"
off_a=$(node_log_size a)
off_c=$(node_log_size c)
node_ctl b block 203.0.113.77 1h
node_wait_element b 203.0.113.77
node_wait_log a "$off_a" 'cluster: block 203.0.113.77 from b not applied: .*allow'
node_wait_log c "$off_c" 'cluster: block 203.0.113.77 from b not applied: .*allow'
node_assert_no_element a 203.0.113.77
node_assert_no_element c 203.0.113.77
say "reset allows on node a: c drops the allow it took, and takes b's block"
off_c=$(node_log_size c)
node_ctl a reset allows
node_wait_log c "$off_c" 'cluster: unallow 203.0.113.77 from a'
node_ctl b unblock 203.0.113.77
node_wait_no_element b 203.0.113.77
node_ctl b block 203.0.113.77 1h
node_wait_element c 203.0.113.77
node_ctl b unblock 203.0.113.77
node_wait_no_element c 203.0.113.77

say "status: connected, counters (b rejected a's allow and its unallow), the peers and their heartbeats"
b_sees_peers() {
	"$MS_BIN" status -s "$MS_TMP/node.b/control" --json |
		jq -e '.cluster.connected and (.cluster.peers | has("a") and has("c")) and .cluster.rejected >= 1 and
		       .cluster.applied >= 3 and .cluster.published >= 2' > /dev/null
}
wait_until "node b's status: connected, peers a and c, entries applied, published and rejected" b_sees_peers
node_ctl b status
printf '%s\n' "$MS_OUT" | grep -E '^cluster: node b, Redis 192\.0\.2\.100:6379, connected; read up to [0-9]+-[0-9]+' > /dev/null ||
	fail "node b's status text lacks its cluster line: $MS_OUT"
ok "node b's status: $(printf '%s\n' "$MS_OUT" | grep '^cluster:')"

metrics=$(nsenter --net="$MS_TMP/node.b/netns" curl -s http://127.0.0.1:9154/metrics) || fail "node b's metrics"
for m in 'mailscreen_cluster_connected 1' 'mailscreen_cluster_rejected_total 2' \
	'mailscreen_cluster_peer_heartbeat_age_seconds{node="a"}'; do
	printf '%s\n' "$metrics" | grep -F -q "$m" || fail "node b's metrics lack '$m': $(printf '%s\n' "$metrics" | grep cluster)"
	ok "node b's metrics: $m"
done
if command -v promtool > /dev/null; then
	printf '%s\n' "$metrics" | promtool check metrics > "$MS_TMP/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$MS_TMP/promtool.out")"
	ok "promtool accepts node b's metrics"
fi

node_kill a
node_kill b
node_kill c
redis_stop

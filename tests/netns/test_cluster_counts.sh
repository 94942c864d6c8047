# SPDX-License-Identifier: GPL-2.0-or-later
# test_cluster_counts.sh - shared counting: three nodes run one auth rule
# with shared = yes and limit 5; an attacker failing twice on each node is
# blocked on all three, the decision made by exactly one node (the one
# whose events crossed the limit in Redis). With Redis stopped, each node
# counts alone: five failures on one node block there; with Redis back,
# the nodes count together again.
# netns-timeout: 120
. "$MS_REPO/tests/netns/cluster_lib.sh"

shared_rule

# sent_events NAME - the events node NAME sent to the shared count
sent_events() { "$MS_BIN" status -s "$MS_TMP/node.$1/control" --json | jq -r '.cluster.count_events'; }
sent_at_least() { [ "$(sent_events "$1")" -ge "$2" ]; }
fallbacks_at_least() {
	[ "$("$MS_BIN" status -s "$MS_TMP/node.$1/control" --json | jq -r '.cluster.count_fallbacks')" -ge "$2" ]
}
# connected NAME true|false - node NAME's link to Redis
connected() { [ "$("$MS_BIN" status -s "$MS_TMP/node.$1/control" --json | jq -r '.cluster.connected')" = "$2" ]; }

redis_start
node_setup a "share = blocks counts"
node_setup b "share = blocks counts"
node_setup c "share = blocks counts
[metrics]
listen = 127.0.0.1:9154"
for n in a b c; do
	node_start $n
done
for n in a b c; do
	node_wait_log $n 0 'cluster: read the snapshot'
done

say "two failures on each of three nodes, limit 5"
sasl_fail 203.0.113.5 2 "$MS_TMP/node.a/mail.log"
wait_until "node a sent its 2 events" sent_at_least a 2
wait_until "Redis counts 2" sh -c "[ \"\$(redis-cli -s '$MS_REDIS_SOCK' --user admin --pass admin-secret --no-auth-warning zcard mailscreen:count:auth-shared:203.0.113.5)\" = 2 ]"
sasl_fail 203.0.113.5 2 "$MS_TMP/node.b/mail.log"
wait_until "Redis counts 4" sh -c "[ \"\$(redis-cli -s '$MS_REDIS_SOCK' --user admin --pass admin-secret --no-auth-warning zcard mailscreen:count:auth-shared:203.0.113.5)\" = 4 ]"
node_assert_no_element a 203.0.113.5
node_assert_no_element b 203.0.113.5
sasl_fail 203.0.113.5 2 "$MS_TMP/node.c/mail.log"
for n in a b c; do
	node_wait_element $n 203.0.113.5
done
decided=$(cat "$MS_TMP/node.a/daemon.log" "$MS_TMP/node.b/daemon.log" "$MS_TMP/node.c/daemon.log" |
	grep -c 'rule auth-shared: the shared count of 203.0.113.5 reached 5')
[ "$decided" = 1 ] || fail "$decided nodes decided (expected exactly one)"
ok "exactly one node decided"
grep -q 'rule auth-shared: the shared count of 203.0.113.5 reached 5' "$MS_TMP/node.c/daemon.log" ||
	fail "node c (the fifth failure) did not decide"
grep -q '^mailscreen: block 203.0.113.5 for 1h: rule auth-shared' "$MS_TMP/node.c/daemon.log" ||
	fail "node c did not block through the rule: $(tail -n 5 "$MS_TMP/node.c/daemon.log")"
ok "node c, which saw the fifth failure, decided and blocked"
for n in a b; do
	grep -q '^mailscreen: block 203.0.113.5 ' "$MS_TMP/node.$n/daemon.log" && fail "node $n blocked by its own rule"
done
ok "nodes a and b applied the block they were told of"
rule_stat() { "$MS_BIN" status -s "$MS_TMP/node.$1/control" --json | jq -r ".rules[\"auth-shared\"].$2"; }
[ "$(rule_stat c shared_decisions)" = 1 ] && [ "$(rule_stat a shared_decisions)" = 0 ] &&
	[ "$(rule_stat a shared_events_sent)" = 2 ] ||
	fail "status of the shared rule: $("$MS_BIN" status -s "$MS_TMP/node.c/control" --json | jq -c '.rules')"
ok "status: node c made the rule's one shared decision, node a sent its 2 events"
metrics=$(nsenter --net="$MS_TMP/node.c/netns" curl -s http://127.0.0.1:9154/metrics) || fail "node c's metrics"
for m in 'mailscreen_cluster_count_decisions_total 1' 'mailscreen_cluster_count_events_total 2' \
	'mailscreen_cluster_count_fallbacks_total 0'; do
	printf '%s\n' "$metrics" | grep -F -x -q "$m" ||
		fail "node c's metrics lack '$m': $(printf '%s\n' "$metrics" | grep count)"
	ok "node c's metrics: $m"
done

rcli info commandstats | grep -q '^cmdstat_evalsha:calls=[1-9]' ||
	fail "no batch was sent by EVALSHA: $(rcli info commandstats | grep eval)"
ok "batches after the first go by EVALSHA"

say "Redis stopped: each node counts alone"
redis_stop
wait_until "node b sees Redis away" connected b false
sasl_fail 198.51.100.7 4 "$MS_TMP/node.b/mail.log"
sasl_fail 198.51.100.7 4 "$MS_TMP/node.a/mail.log"
sasl_fail 198.51.100.7 1 "$MS_TMP/node.b/mail.log"
node_wait_element b 198.51.100.7
wait_until "node a counted its 4 events alone" fallbacks_at_least a 4
node_assert_no_element a 198.51.100.7
fb=$("$MS_BIN" status -s "$MS_TMP/node.b/control" --json | jq -r '.cluster.count_fallbacks')
[ "$fb" -ge 5 ] || fail "node b counted $fb events alone (expected 5)"
[ "$(rule_stat b shared_events_alone)" = 5 ] || fail "node b's rule counted $(rule_stat b shared_events_alone) events alone"
ok "node b counted its 5 events alone and blocked"
say "Redis back: shared counting resumes"
redis_start
wait_until "node a reconnected" connected a true
wait_until "node c reconnected" connected c true
sasl_fail 192.0.2.9 3 "$MS_TMP/node.a/mail.log"
wait_until "Redis counts 3" sh -c "[ \"\$(redis-cli -s '$MS_REDIS_SOCK' --user admin --pass admin-secret --no-auth-warning zcard mailscreen:count:auth-shared:192.0.2.9)\" = 3 ]"
sasl_fail 192.0.2.9 2 "$MS_TMP/node.c/mail.log"
node_wait_element c 192.0.2.9
node_wait_element a 192.0.2.9
rcli info errorstats | grep -q '^errorstat_NOSCRIPT:count=[1-9]' ||
	fail "the restarted Redis was never asked for the script by its SHA1: $(rcli info errorstats)"
ok "the restarted Redis answered NOSCRIPT, and the batch went again with the script"
for n in a b c; do
	node_kill $n
done

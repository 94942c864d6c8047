# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_flush_notify.sh - when another process flushes the ruleset (a
# firewall reload running "nft flush ruleset"), the daemon hears of it from
# the kernel's nftables notifications and, with no new log line to read and
# no block of its own to send, puts its table and every block back within a
# second, with the time each has left, and logs why; the attacker is
# dropped again. Another table's changes make it restore nothing, and one
# element deleted by hand is taken as meant: logged, not put back.
# Run by run.sh, which has sourced lib.sh.

# now_ms - monotonic enough for a bounded poll: wall clock milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }

ms_listen $SERVER4 25
ms_config
ms_start

sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25

log_mark
# another table's life is none of the daemon's business
nft add table inet other && nft add chain inet other c && nft add rule inet other c counter &&
	nft delete table inet other || fail "cannot make and delete table inet other"

nft flush ruleset
start=$(now_ms)
# no line written, no command sent: only the notification can bring it back
while [ -z "$(element_timeout $ATTACKER)" ]; do
	[ $(($(now_ms) - start)) -lt 2000 ] ||
		fail "table inet mailscreen and $ATTACKER not back 2 s after the flush: $(nft list ruleset | tr '\n' ' ')"
	sleep 0.02
done
took=$(($(now_ms) - start))
[ $took -le 1000 ] || fail "the block came back after $took ms, not within a second"
ok "table and block of $ATTACKER back $took ms after the flush"
wait_log "^mailscreen: warning: nftables: table inet mailscreen deleted by another process; restored table inet mailscreen with 1 blocks$"
n=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -c 'restored table')
assert_eq "restores logged (none for table inet other)" 1 "$n"
t=$(element_timeout $ATTACKER)
[ "$t" -gt 3000 ] && [ "$t" -le 3600 ] || fail "restored block of $ATTACKER has timeout $t s, expected its remaining time (3000-3600 s)"
ok "the restored block keeps its remaining time ($t s)"
expect_dropped $ATTACKER $SERVER4 25
expect_connect $COLLEAGUE $SERVER4 25

# one element deleted by hand: an admin's unblock, left alone
log_mark
nft delete element inet mailscreen block4 "{ $ATTACKER }" || fail "cannot delete element $ATTACKER"
wait_log "nftables: element $ATTACKER deleted from set block4 by another process; not put back, and forgotten"
assert_no_element $ATTACKER
expect_connect $ATTACKER $SERVER4 25
ctl_ok list blocks --json
printf '%s\n' "$MS_OUT" | jq -e --arg a "$ATTACKER" 'all(.[]; .target != $a)' > /dev/null ||
	fail "the daemon still lists $ATTACKER after it was deleted by hand"
ok "the daemon forgot the block too: a later restore will not bring it back"
# its own restore (another pid here: a PID namespace) set off no other
assert_eq "restores in the whole run" 1 "$(grep -c 'restored table' "$MS_DLOG")"
ms_stop

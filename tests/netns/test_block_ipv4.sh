# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_block_ipv4.sh - SASL failures in the mail log block an IPv4 client
# in the kernel, exactly at the limit, only on the mail ports (or on every
# port with `ports = all`), and never an allow-listed one.
#
# With the shipped filters and rules (auth-ip: 5 auth-fail in 10m -> 1h):
#   - 4 failures from 203.0.113.5 do not block; 10 from the allow-listed
#     192.0.2.10 do not block either (a barrier proves they were read);
#   - the 5th failure does: the daemon logs the decision, 203.0.113.5 is in
#     block4 with a 1h kernel timeout, and its SYN to 192.0.2.1:25 goes
#     unanswered, while 192.0.2.10 and 198.51.100.20 still connect, and
#     the blocked address still reaches port 8080 (not a mail port);
#   - with `ports = all`, port 8080 is dropped for it too;
#   - tables that are not the daemon's (one inet, one ip, made before it
#     starts) are left exactly as they were.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25 8080
nft -f - <<'EOF' || fail "cannot create the bystander tables"
table inet other {
	set friends { type ipv4_addr; elements = { 198.51.100.1 } }
	chain input { type filter hook input priority 0; policy accept; ip saddr @friends counter accept; counter; }
}
table ip legacy {
	chain input { type filter hook input priority 10; policy accept; tcp dport 2525 drop; }
}
EOF
others() { nft -s list table inet other; nft -s list table ip legacy; }
others_before=$(others)

say "before any block, the attacker connects (the network works)"
expect_connect $ATTACKER $SERVER4 25
expect_connect $ATTACKER $SERVER4 8080

ms_config
ms_start

say "4 failures from $ATTACKER and 10 from the allow-listed $COLLEAGUE block nobody"
sasl_fail $ATTACKER 4
sasl_fail $COLLEAGUE 10
barrier 198.51.100.77
assert_no_element $ATTACKER
assert_no_element $COLLEAGUE
log_has "block $ATTACKER " && fail "the daemon blocked $ATTACKER after 4 failures"
expect_connect $ATTACKER $SERVER4 25

say "the 5th failure blocks $ATTACKER for 1h"
log_mark
sasl_fail $ATTACKER
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 5 auth-fail within 10m; line: .*unknown\[203\.0\.113\.5\]: SASL LOGIN authentication failed"
ok "the daemon logged the block with its rule, count and line"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 3600

say "the kernel drops the attacker on the mail port, nobody else"
expect_dropped $ATTACKER $SERVER4 25
expect_connect $COLLEAGUE $SERVER4 25
expect_connect $BYSTANDER $SERVER4 25
expect_connect $ATTACKER $SERVER4 8080

say "the colleague keeps failing; still never blocked"
sasl_fail $COLLEAGUE 10
barrier 198.51.100.78
assert_no_element $COLLEAGUE
log_has "block $COLLEAGUE" && fail "the daemon logged a block of the allow-listed $COLLEAGUE"
expect_connect $COLLEAGUE $SERVER4 25
ms_stop

say "second case: ports = all (a fresh table)"
nft delete table inet mailscreen || fail "cannot delete the first case's table"
rm -rf "$MS_TMP/state"      # and a fresh daemon: no blocks or counts restored from the first case
expect_connect $ATTACKER $SERVER4 8080
ms_config "[nftables]
ports = all"
ms_start
log_mark
sasl_fail $ATTACKER 5
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 5 auth-fail"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 3600
expect_dropped $ATTACKER $SERVER4 25
expect_dropped $ATTACKER $SERVER4 8080
expect_connect $COLLEAGUE $SERVER4 8080
expect_connect $BYSTANDER $SERVER4 8080
ms_stop
[ "$(others)" = "$others_before" ] || fail "the tables inet other and ip legacy changed: $(others)"
ok "the other tables are untouched"

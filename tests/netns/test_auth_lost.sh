# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_auth_lost.sh - "SASL ... authentication failed: Connection lost to
# authentication server" counts as a failure after an address's counted
# failures (Dovecot's auth penalty outlasting smtpd's 10 s wait, as a
# password guesser sees it), and never by itself (a Dovecot restart).
#
# With the shipped filters and rules (auth-ip: 5 auth-fail in 10m -> 1h):
#   - a Dovecot restart: 20 clients (IPv4 and IPv6, smtp and submission)
#     lose the auth server once each, none with an earlier failure:
#     nothing is counted (list failures is empty, status counts 20
#     only_if_counted_skipped), nobody is blocked (barrier-proved); and
#     four more restarts in a row (every client losing it five times in
#     all) still block no one: 198.51.100.20 and 2001:db8:1:9::10, two of
#     them, still connect;
#   - a password guesser, 203.0.113.5: 3 ordinary failures, then 4 lost
#     attempts: the 2nd lost one is its 5th failure and blocks it (logged
#     with that line), the kernel drops it; the two after the block start
#     no new count.
# Run by run.sh, which has sourced lib.sh.

V6CLIENT=2001:db8:1:9::10

# sasl_lost ADDR [PROG] - smtpd gave up on the auth server during ADDR's
# attempt: one line, a session of its own
sasl_lost() {
	new_pid
	mail_line "${2:-postfix/smtpd}[$MS_PID_NEW]: warning: unknown[$1]: SASL LOGIN authentication failed: Connection lost to authentication server"
}

# The 20 clients of the restart: 198.51.100.11..20 and 2001:db8:1:1..10::10
# (each in a /64 of its own); every other one on submission.
restart() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sasl_lost 198.51.100.$((10 + i))
		sasl_lost 2001:db8:1:$i::10 postfix/submission/smtpd
	done
}

peer_addr $V6CLIENT/64 || fail "cannot add $V6CLIENT to the peer"
ms_listen $SERVER4 25
ms_listen $SERVER6 25
ms_config
ms_start

say "a Dovecot restart: 20 clients lose the auth server, none had failed"
restart
barrier 203.0.113.60
assert_eq "counted failures besides the barrier's" "0" \
	"$(ctl_json '[.[] | select(.key != "203.0.113.60")] | length' list failures)"
assert_eq "status: only_if_counted_skipped" "20" "$(ctl_json .only_if_counted_skipped status)"
assert_eq "blocks (only the barrier)" "203.0.113.60" "$(ctl_json '[.[].target] | join(" ")' list blocks)"

say "four more restarts in a row: still nobody is counted or blocked"
log_mark
restart
restart
restart
restart
barrier 203.0.113.61
assert_eq "status: only_if_counted_skipped" "100" "$(ctl_json .only_if_counted_skipped status)"
assert_eq "counted failures besides the barriers'" "0" \
	"$(ctl_json '[.[] | select(.key | test("^203\\.0\\.113\\.6[01]$") | not)] | length' list failures)"
assert_eq "blocks (only the barriers)" "203.0.113.60 203.0.113.61" \
	"$(ctl_json '[.[].target] | sort | join(" ")' list blocks)"
log_has "Connection lost" && fail "a decision was made on a 'Connection lost' line: $(grep 'Connection lost' "$MS_DLOG")"
expect_connect $BYSTANDER $SERVER4 25
expect_connect $V6CLIENT $SERVER6 25

say "a password guesser: 3 failures, then attempts smtpd gave up on"
log_mark
sasl_fail $ATTACKER 3
sasl_lost $ATTACKER
barrier 203.0.113.62
assert_eq "auth-ip count of $ATTACKER after 3 failures and 1 lost attempt" "4/5" \
	"$(ctl_json ".[] | select(.rule == \"auth-ip\" and .key == \"$ATTACKER\") | \"\(.count)/\(.limit)\"" list failures)"
assert_no_element $ATTACKER
expect_connect $ATTACKER $SERVER4 25
sasl_lost $ATTACKER postfix/submission/smtpd
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 5 auth-fail within 10m; line: .*postfix/submission/smtpd\[[0-9]+\]: warning: unknown\[203\.0\.113\.5\]: SASL LOGIN authentication failed: Connection lost to authentication server"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 3600
expect_dropped $ATTACKER $SERVER4 25

say "the lost attempts after the block start no new count"
sasl_lost $ATTACKER
sasl_lost $ATTACKER
barrier 203.0.113.63
assert_eq "counted failures of $ATTACKER" "0" \
	"$(ctl_json "[.[] | select(.key == \"$ATTACKER\")] | length" list failures)"
assert_eq "status: only_if_counted_skipped" "102" "$(ctl_json .only_if_counted_skipped status)"
ms_stop

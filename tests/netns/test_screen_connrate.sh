# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_screen_connrate.sh - a connection flood blocks the address (rule
# conn-rate: more than 30 connections within 1 minute -> 1h), SMTP and
# IMAP alike, unless the address logged in lately.
#
#   - 30 Postfix connects from 203.0.113.5 do not block it (a barrier
#     proves they were read); the 31st does, logged with rule conn-rate,
#     and the kernel drops the address;
#   - 198.51.100.20 sends a message after a successful SASL login, then
#     connects 40 times: not blocked (exempt_authenticated), and nothing
#     is counted for it;
#   - 30 IMAP connections that never log in (Dovecot login-process lines)
#     from 203.0.113.7 block it too: IMAP connects count;
#   - 15 SMTP + 16 IMAP connections from 203.0.113.8 are one count of 31;
#   - 30 clients from 203.0.113.9 that pass postscreen (postscreen's
#     CONNECT and PASS, then smtpd's connect: two connect lines each) are
#     30 connections, not 60: not blocked; the 31st blocks.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config
ms_start

say "30 SMTP connections from $ATTACKER: counted, not blocked"
smtp_connect $ATTACKER 30
barrier 198.51.100.41
assert_no_element $ATTACKER
assert_eq "conn-rate count of $ATTACKER" "30/31" \
	"$(ctl_json ".[] | select(.rule == \"conn-rate\" and .key == \"$ATTACKER\") | \"\(.count)/\(.limit)\"" list failures)"
expect_connect $ATTACKER $SERVER4 25

say "the 31st connection within the minute blocks it"
log_mark
smtp_connect $ATTACKER
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule conn-rate, 31 connect within 1m; line: .*connect from unknown\[203\.0\.113\.5\]"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 3600
expect_dropped $ATTACKER $SERVER4 25

say "an address that logged in is exempt from its connection flood"
log_mark
new_pid
smtp_login $BYSTANDER $MS_PID_NEW bob@example.org
smtp_connect $BYSTANDER 40
barrier 198.51.100.42
assert_no_element $BYSTANDER
log_has "block $BYSTANDER " && fail "the daemon blocked $BYSTANDER, which logged in"
assert_eq "conn-rate entries for $BYSTANDER" "0" \
	"$(ctl_json "[.[] | select(.key == \"$BYSTANDER\")] | length" list failures)"
expect_connect $BYSTANDER $SERVER4 25

say "31 IMAP connections without a login block the address"
log_mark
imap_idle 203.0.113.7 30
barrier 198.51.100.43
assert_no_element 203.0.113.7
imap_idle 203.0.113.7
wait_log "^mailscreen: block 203\.0\.113\.7 for 1h: rule conn-rate, 31 connect within 1m; line: .*imap-login: .*rip=203\.0\.113\.7"
wait_for_element 203.0.113.7

say "SMTP and IMAP connections add up"
log_mark
smtp_connect 203.0.113.8 15
imap_idle 203.0.113.8 16
wait_log "^mailscreen: block 203\.0\.113\.8 for 1h: rule conn-rate, 31 connect within 1m"
wait_for_element 203.0.113.8

say "a client that passes postscreen is one connection"
postscreen_pass() {     # postscreen_pass ADDR N
	pp_n=$2
	while [ "$pp_n" -gt 0 ]; do
		MS_SEQ=$((MS_SEQ + 1))
		mail_line "postfix/postscreen[1900]: CONNECT from [$1]:$((40000 + MS_SEQ)) to [$SERVER4]:25"
		mail_line "postfix/postscreen[1900]: PASS OLD [$1]:$((40000 + MS_SEQ))"
		smtp_connect "$1"
		pp_n=$((pp_n - 1))
	done
}
log_mark
postscreen_pass 203.0.113.9 30
barrier 198.51.100.44
assert_no_element 203.0.113.9
assert_eq "conn-rate count of 203.0.113.9" "30/31" \
	"$(ctl_json ".[] | select(.rule == \"conn-rate\" and .key == \"203.0.113.9\") | \"\(.count)/\(.limit)\"" list failures)"
assert_eq "connect lines counted before (status duplicate_events)" "30" "$(ctl_json '.duplicate_events' status)"
postscreen_pass 203.0.113.9 1
wait_log "^mailscreen: block 203\.0\.113\.9 for 1h: rule conn-rate, 31 connect within 1m"
wait_for_element 203.0.113.9

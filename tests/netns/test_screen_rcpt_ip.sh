# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_screen_rcpt_ip.sh - per-address SMTP screens across sessions
# (rules/smtp.conf): rcpt-ip counts unknown-recipient rejects and rset-ip
# RSETs per client address, whatever sessions they came in, so a
# harvester that reconnects before a session's limit is still blocked;
# sessions that logged in are not counted.
#
#   - rcpt-ip with limit = 6 (set in this test's copy): 5 rejects spread
#     over 3 sessions (each closed by its disconnect line) do not block;
#     the 6th, in a 4th session, blocks the address with rule rcpt-ip;
#   - IPv6: 3 + 3 rejects from two addresses of one /64 block the /64;
#   - a session that logged in (SASL client= line first) with 8 rejects:
#     no block, and no rcpt-ip count for the address;
#   - rset-ip (shipped: 100 in 10m): rset=19 in 5 sessions (95) does not
#     block, a 6th session's rset=5 does, with rule rset-ip.
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
sed -i '/^\[rcpt-ip\]/,/^\[/ s/^limit *=.*/limit       = 6/' "$MS_RULES/smtp.conf"
grep -A 4 '^\[rcpt-ip\]' "$MS_RULES/smtp.conf" | grep -q '^limit *= 6$' ||
	fail "could not set limit = 6 in [rcpt-ip] (is the rule shipped?)"
grep -A 4 '^\[rcpt-session\]' "$MS_RULES/smtp.conf" | grep -q '^limit *= 5$' ||
	fail "the edit changed [rcpt-session] too"
ms_config
ms_start

say "a harvester: 5 unknown recipients over 3 sessions, none over the session limit: not blocked"
for n in 2 1 2; do
	new_pid
	smtp_connect_pid=$MS_PID_NEW
	mail_line "postfix/smtpd[$smtp_connect_pid]: connect from unknown[$ATTACKER]"
	smtp_rcpt_fail $ATTACKER $smtp_connect_pid $n
	smtp_disconnect $ATTACKER $smtp_connect_pid "ehlo=1 mail=1 rcpt=0/$n quit=1 commands=3/$((n + 3))"
done
barrier 198.51.100.41
assert_no_element $ATTACKER
assert_eq "rcpt-ip count of $ATTACKER" "5/6" \
	"$(ctl_json ".[] | select(.rule == \"rcpt-ip\" and .key == \"$ATTACKER\") | \"\(.count)/\(.limit)\"" list failures)"

say "the 6th, in a 4th session, blocks the address: rule rcpt-ip"
log_mark
new_pid
p4=$MS_PID_NEW
mail_line "postfix/smtpd[$p4]: connect from unknown[$ATTACKER]"
smtp_rcpt_fail $ATTACKER $p4
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule rcpt-ip, 6 rcpt-fail within 10m; line: .*postfix/smtpd\[$p4\]: NOQUEUE: reject: RCPT from unknown\[203\.0\.113\.5\]"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 3600

say "IPv6: 3 + 3 rejects from two addresses of one /64 block the /64"
log_mark
new_pid
smtp_rcpt_fail 2001:db8:1::5 $MS_PID_NEW 3
new_pid
smtp_rcpt_fail 2001:db8:1::6 $MS_PID_NEW 3
wait_log "^mailscreen: block 2001:db8:1::/64 for 1h: rule rcpt-ip, 6 rcpt-fail within 10m"
wait_for_element 2001:db8:1::/64

say "a session that logged in: 8 unknown recipients, not counted"
new_pid
pa=$MS_PID_NEW
smtp_login 203.0.113.31 $pa bob@example.org
smtp_rcpt_fail 203.0.113.31 $pa 8
barrier 198.51.100.42
assert_no_element 203.0.113.31
log_has "block 203\.0\.113\.31 " && fail "the daemon blocked a session that logged in"
assert_eq "rcpt-ip entries of 203.0.113.31" "0" \
	"$(ctl_json "[.[] | select(.rule == \"rcpt-ip\" and .key == \"203.0.113.31\")] | length" list failures)"

say "RSET: rset=19 in 5 sessions (95) does not block; rset=5 in a 6th does: rule rset-ip"
for i in 1 2 3 4 5; do
	new_pid
	smtp_disconnect 203.0.113.32 $MS_PID_NEW "ehlo=1 mail=1 rcpt=0/1 rset=19 quit=1 commands=22/23"
done
barrier 198.51.100.43
assert_no_element 203.0.113.32
log_mark
new_pid
smtp_disconnect 203.0.113.32 $MS_PID_NEW "ehlo=1 rset=5 quit=1 commands=7"
wait_log "^mailscreen: block 203\.0\.113\.32 for 1h: rule rset-ip, (100|5) rset within 10m; line: .*disconnect from unknown\[203\.0\.113\.32\]"
wait_for_element 203.0.113.32

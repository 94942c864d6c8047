# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_screen_session.sh - per-session SMTP screens: recipient harvesting
# (rcpt-session: 5 unknown recipients in one smtpd session -> 1h) and RSET
# abuse (rset-session: 20 RSETs in one session -> 1h), counted per
# session (postfix/smtpd[PID]), closed by the session's disconnect line,
# skipped for sessions that logged in; limit = 0 switches a rule off.
#
#   - 4 rejects in one session do not block; the 5th in it does, logged
#     with rule rcpt-session;
#   - 4 + 4 rejects in two sessions of one address at once: no block;
#   - 4 rejects, the disconnect, then 4 more under the same PID (a new
#     session of a reused process): no block - the disconnect closed the
#     count (and list failures no longer shows it);
#   - a session that logged in (SASL client= line first) with 10 rejects:
#     no block;
#   - a disconnect summary with rset=19: no block; rset=25: blocked, and
#     rset=20 exactly too;
#   - with rset-session's limit = 0 (reload), rset=1000 blocks nothing
#     (rset-ip, the per-address screen, is switched off there too: it
#     would block 1000 RSETs; test_screen_rcpt_ip.sh covers it).
# rcpt-ip, the per-address recipient screen, is switched off here: this
# test proves what the per-session screens count on their own (4 + 4
# rejects of one address would reach rcpt-ip's 6; test_screen_rcpt_ip.sh
# covers that).
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
sed -i '/^\[rcpt-ip\]/,/^\[/ s/^limit *=.*/limit       = 0/' "$MS_RULES/smtp.conf"
grep -A 4 '^\[rcpt-ip\]' "$MS_RULES/smtp.conf" | grep -q '^limit *= 0$' ||
	fail "could not set limit = 0 in [rcpt-ip]"
ms_config
ms_start

say "4 unknown recipients in one session: counted, not blocked"
new_pid
p1=$MS_PID_NEW
smtp_rcpt_fail $ATTACKER $p1 4
barrier 198.51.100.41
assert_no_element $ATTACKER
assert_eq "rcpt-session count of postfix/smtpd[$p1]" "4/5" \
	"$(ctl_json ".[] | select(.rule == \"rcpt-session\" and .key == \"postfix/smtpd[$p1]\") | \"\(.count)/\(.limit)\"" list failures)"

say "the 5th in the same session blocks the address"
log_mark
smtp_rcpt_fail $ATTACKER $p1
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule rcpt-session, 5 rcpt-fail within 1h; line: .*postfix/smtpd\[$p1\]: NOQUEUE: reject: RCPT from unknown\[203\.0\.113\.5\]"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 3600

say "4 + 4 in two sessions of one address at once: no block"
new_pid
pa=$MS_PID_NEW
new_pid
pb=$MS_PID_NEW
smtp_rcpt_fail 203.0.113.21 $pa 2
smtp_rcpt_fail 203.0.113.21 $pb 2
smtp_rcpt_fail 203.0.113.21 $pa 2
smtp_rcpt_fail 203.0.113.21 $pb 2
barrier 198.51.100.42
assert_no_element 203.0.113.21

say "4, the disconnect, 4 more under the same PID: no block"
new_pid
pc=$MS_PID_NEW
smtp_rcpt_fail 203.0.113.22 $pc 4
smtp_disconnect 203.0.113.22 $pc "ehlo=1 mail=1 rcpt=0/4 quit=1 commands=3/7"
barrier 198.51.100.43
assert_eq "rcpt-session entries of postfix/smtpd[$pc] after its disconnect" "0" \
	"$(ctl_json "[.[] | select(.key == \"postfix/smtpd[$pc]\")] | length" list failures)"
smtp_rcpt_fail 203.0.113.22 $pc 4
barrier 198.51.100.44
assert_no_element 203.0.113.22

say "a session that logged in: 10 unknown recipients, no block"
new_pid
pd=$MS_PID_NEW
smtp_login 203.0.113.23 $pd bob@example.org
smtp_rcpt_fail 203.0.113.23 $pd 10
barrier 198.51.100.45
assert_no_element 203.0.113.23
log_has "block 203\.0\.113\.23 " && fail "the daemon blocked a session that logged in"
ok "no block for the session that logged in"

say "RSET: rset=19 in a disconnect summary does not block, rset=25 does"
new_pid
smtp_disconnect 203.0.113.24 $MS_PID_NEW "ehlo=1 mail=1 rcpt=0/1 rset=19 quit=1 commands=22/23"
barrier 198.51.100.46
assert_no_element 203.0.113.24
log_mark
new_pid
smtp_disconnect 203.0.113.25 $MS_PID_NEW "ehlo=1 mail=1 rcpt=0/1 rset=25 quit=1 commands=28/29"
wait_log "^mailscreen: block 203\.0\.113\.25 for 1h: rule rset-session, (20|25) rset within 1h; line: .*disconnect from unknown\[203\.0\.113\.25\]"
wait_for_element 203.0.113.25
log_mark
new_pid
smtp_disconnect 203.0.113.26 $MS_PID_NEW "ehlo=1 rset=20 quit=1 commands=22"
wait_log "^mailscreen: block 203\.0\.113\.26 for 1h: rule rset-session, 20 rset within 1h"
wait_for_element 203.0.113.26

say "limit = 0 in rset-session (and rset-ip): never blocks"
sed -i '/^\[rset-session\]/,/^\[/ s/^limit *=.*/limit       = 0/' "$MS_RULES/smtp.conf"
sed -i '/^\[rset-ip\]/,/^\[/ s/^limit *=.*/limit       = 0/' "$MS_RULES/smtp.conf"
grep -A 4 '^\[rset-ip\]' "$MS_RULES/smtp.conf" | grep -q '^limit *= 0$' ||
	fail "could not set limit = 0 in [rset-ip]"
grep -A 4 '^\[rset-session\]' "$MS_RULES/smtp.conf" | grep -q '^limit *= 0$' ||
	fail "could not set limit = 0 in [rset-session]"
grep -A 4 '^\[rcpt-session\]' "$MS_RULES/smtp.conf" | grep -q '^limit *= 5$' ||
	fail "the edit changed [rcpt-session] too"
log_mark
ctl_ok reload
wait_log '^mailscreen: reloaded '
new_pid
smtp_disconnect 203.0.113.27 $MS_PID_NEW "ehlo=1 rset=1000 quit=1 commands=1002"
barrier 198.51.100.47
assert_no_element 203.0.113.27
log_has "block 203\.0\.113\.27 " && fail "rset-session with limit = 0 blocked"
ok "rset=1000 blocked nothing with both RSET screens at limit = 0"

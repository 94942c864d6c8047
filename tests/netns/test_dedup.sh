# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_dedup.sh - one attempt, one count, with Dovecot's auth_verbose = yes
# (each attempt logged by the auth process, then summed up by the login
# process, or logged again by Postfix for SMTP AUTH through Dovecot SASL).
# Shipped filters and rules (auth-ip: 5 per address in 10m; auth-account:
# 10 per account), lines as Dovecot 2.3.19 and Postfix write them to syslog:
#   - 203.0.113.5 fails 3 times in one IMAP session, then once in another:
#     4 auth lines and two summaries ("3 attempts", "1 attempts"): count
#     4/5, not 8, and not blocked;
#   - 203.0.113.7 fails 5 times in one session that stays open: blocked at
#     the 5th auth line, before any summary (counted as it happens);
#   - carol is guessed over SMTP AUTH from 10 addresses, once each: the
#     auth line names her, Postfix's line does not (before 3.9): the
#     account is blocked at the 10th, and each address counts 1, not 2;
#   - an attempt logged twice by the auth process (passdb chain: "trying
#     the next passdb", then pam) and by pam_unix counts once.
# Run by run.sh, which has sourced lib.sh.

ms_config
ms_start

auth_line() {   # auth_line USER ADDR [SESSION] - a failure, Dovecot auth process
	if [ -n "${3:-}" ]; then
		mail_line "dovecot: auth: passwd-file($1,$2,<$3>): Password mismatch"
	else
		mail_line "dovecot: auth: passwd-file($1,$2): Password mismatch"
	fi
}
summary() {     # summary ADDR USER N SESSION - the login process's summary
	mail_line "dovecot: imap-login: Disconnected: Connection closed (auth failed, $3 attempts in 9 secs): user=<$2>, method=PLAIN, rip=$1, lip=$SERVER4, TLS, session=<$4>"
}
count_of() {    # count_of RULE KEY
	ctl_json ".[] | select(.rule == \"$1\" and .key == \"$2\") | \"\(.count)/\(.limit)\"" list failures
}

say "3 attempts in one session and 1 in another: counted 4 times, not 8"
auth_line bob $ATTACKER kF8nx8Q5lOTAqAAB
auth_line bob $ATTACKER kF8nx8Q5lOTAqAAB
auth_line alice $ATTACKER kF8nx8Q5lOTAqAAB
summary $ATTACKER alice 3 kF8nx8Q5lOTAqAAB
auth_line bob $ATTACKER Zs1/H+4QrOwgAAAB
summary $ATTACKER bob 1 Zs1/H+4QrOwgAAAB
barrier 198.51.100.41
assert_eq "auth-ip count of $ATTACKER" "4/5" "$(count_of auth-ip $ATTACKER)"
assert_no_element $ATTACKER

say "an open session's 5th failure blocks at once"
log_mark
for i in 1 2 3 4 5; do
	auth_line "user$i" 203.0.113.7 q1w2e3r4t5y6u7i8
done
wait_log "^mailscreen: block 203\.0\.113\.7 for 1h: rule auth-ip, 5 auth-fail within 10m; line: .*passwd-file\(user5,203\.0\.113\.7,"
wait_for_element 203.0.113.7
summary 203.0.113.7 user5 5 q1w2e3r4t5y6u7i8

say "SMTP AUTH through Dovecot SASL: the auth line names the account, Postfix's line counts 0"
log_mark
for i in 1 2 3 4 5 6 7 8 9; do
	auth_line carol 203.0.113.2$i
	mail_line "postfix/submission/smtpd[$((31000 + i))]: warning: unknown[203.0.113.2$i]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
done
barrier 198.51.100.42
assert_eq "carol's count" "9/10" \
	"$(ctl_json '.failures[] | select(.key == "carol" and .rule == "auth-account") | "\(.count)/\(.limit)"' list accounts)"
assert_eq "auth-ip count of 203.0.113.21" "1/5" "$(count_of auth-ip 203.0.113.21)"
auth_line carol 203.0.113.30
mail_line "postfix/submission/smtpd[31010]: warning: unknown[203.0.113.30]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
wait_log "^mailscreen: block account 'carol' for 1h: rule auth-account, 10 auth-fail within 10m"
wait_until "carol in the deny file" grep -qx 'carol' "$MS_DENY"

say "one attempt written by pam_unix and twice by the auth process counts once"
mail_line "auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=dave rhost=203.0.113.40  user=dave"
mail_line "dovecot: auth: passwd-file(dave,203.0.113.40,<Aa1Bb2Cc3Dd4Ee5F>): unknown user - trying the next passdb"
mail_line "dovecot: auth-worker(1234): pam(dave,203.0.113.40,<Aa1Bb2Cc3Dd4Ee5F>): pam_authenticate() failed: Authentication failure (password mismatch?)"
summary 203.0.113.40 dave 1 Aa1Bb2Cc3Dd4Ee5F
barrier 198.51.100.43
assert_eq "auth-ip count of 203.0.113.40" "1/5" "$(count_of auth-ip 203.0.113.40)"

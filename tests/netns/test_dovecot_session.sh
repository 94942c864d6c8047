# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_dovecot_session.sh - a Dovecot process serves many clients, so its
# lines have no session unless they carry session=<...>: one user's login
# must not exempt the other clients of that process. Only Postfix smtpd's
# filters say "session = pid" (one process per client).
#
# A rule counting failed logins with exempt_authenticated = yes, limit 5.
# Lines as Dovecot writes them through the journal (one tag and pid,
# dovecot[812], for every client) with login_log_format_elements lacking
# %{session}:
#   - bob logs in from 198.51.100.30; then 203.0.113.5 fails 5 times on
#     the same process: blocked, and its connections to port 25 dropped
#     (before, the login made the session "dovecot[812]" authenticated, and
#     every failure on that process was exempt);
#   - 198.51.100.30 itself, which logged in, fails 5 times: still exempt
#     (by its address, for authenticated_ttl), proved with a barrier.
# Postfix smtpd sessions (postfix/smtpd[PID], session = pid in its shipped
# filters) are proved in test_screen_session.sh.
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" || fail "cannot make $MS_RULES"
cat > "$MS_RULES/exempt.conf" <<'EOF' || fail "cannot write the rule file"
[auth-exempt]
events      = auth-fail
per         = ip
limit       = 5
window      = 10m
block       = 1h
exempt_authenticated = yes
EOF
ms_listen $SERVER4 25
ms_config
ms_start

dovecot_login() {       # dovecot_login ADDR USER
	mail_line "dovecot[812]: imap-login: Login: user=<$2>, method=PLAIN, rip=$1, lip=$SERVER4, mpid=4247, TLS"
}
dovecot_fail() {        # dovecot_fail ADDR USER N
	df_n=$3
	while [ "$df_n" -gt 0 ]; do
		mail_line "dovecot[812]: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<$2>, method=PLAIN, rip=$1, lip=$SERVER4, TLS"
		df_n=$((df_n - 1))
	done
}

say "bob logs in from 198.51.100.30 on dovecot[812]; 203.0.113.5 fails 5 times there"
expect_connect $ATTACKER $SERVER4 25
log_mark
dovecot_login 198.51.100.30 bob
dovecot_fail $ATTACKER admin 5
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-exempt, 5 auth-fail within 10m; line: .*dovecot\[812\]: imap-login: Disconnected \(auth failed"
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25

say "198.51.100.30, which logged in, stays exempt by its address"
dovecot_fail 198.51.100.30 bob 5
barrier 198.51.100.41
assert_no_element 198.51.100.30


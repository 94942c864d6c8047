# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_logging_events.sh - [logging] allow_hits, auth_failures,
# auth_successes and connections: each line appears when its switch is on
# and not when it is off (the default), with the attacker's text escaped;
# a flood gives at most lines_per_second lines a second, and every line
# left out is counted in a "suppressed" line.
#
#   - defaults: a failed login, a successful one, a connection and a
#     failure from the allow-listed colleague are read (a barrier proves
#     it) and none of them is logged;
#   - all four on (SIGHUP): each is logged with address, account, service
#     and filter; an account with a control character comes out as \xNN;
#     the colleague's failure names its [allow] entry;
#   - lines_per_second = 5, 300 failures at once: fewer than 300 lines, and
#     lines + the suppressed counts = 300 exactly, and status counts them.
# Run by run.sh, which has sourced lib.sh.

ms_config
ms_start

events() {
	sasl_fail 203.0.113.7
	imap_login 198.51.100.8 "$(printf 'ann\001x')"
	smtp_connect 198.51.100.9
	sasl_fail $COLLEAGUE
}

say "the defaults: none of these events is logged"
events
barrier 198.51.100.31
for re in '^mailscreen: login failed: 203\.0\.113\.7' '^mailscreen: login: ' '^mailscreen: connection: ' \
	'^mailscreen: exempt '; do
	log_has "$re" && fail "logged with the switch off: /$re/"
done
ok "no event line with the switches off"

say "all four switches on"
ms_config "[logging]
allow_hits = yes
auth_failures = yes
auth_successes = yes
connections = yes"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
log_mark
events
wait_log '^mailscreen: login failed: 203\.0\.113\.7, service smtp, filter postfix-sasl$'
wait_log "^mailscreen: login: 198\.51\.100\.8, account 'ann\\\\x01x', service imap, filter "
wait_log '^mailscreen: connection: 198\.51\.100\.9, service smtp, filter '
wait_log '^mailscreen: exempt auth-fail: 192\.0\.2\.10, service smtp, filter postfix-sasl \(allow list entry 192\.0\.2\.10, \[allow\]\)$'
ok "each event logged, the account escaped"

say "lines_per_second = 5: a flood of 300 failures"
ms_config "[logging]
auth_failures = yes
lines_per_second = 5"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
log_mark
i=0
while [ $i -lt 300 ]; do
	printf '%s mx postfix/smtpd[%d]: warning: unknown[198.51.100.%d]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
		"$(date '+%b %e %T')" $((40000 + i)) $((100 + i % 100))
	i=$((i + 1))
done >> "$MS_LOG"
counted() {
	lines=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -c '^mailscreen: login failed: ')
	supp=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" |
		sed -n 's/^mailscreen: logging: \([0-9]*\) event lines suppressed (lines_per_second = 5)$/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	[ $((lines + supp)) -eq 300 ]
}
wait_until "300 failures: every one logged or counted as suppressed" counted
[ "$lines" -lt 300 ] || fail "all 300 failures were logged"
ok "300 failures: $lines lines, $supp counted as suppressed"
assert_eq "status: log_lines_suppressed" "$supp" "$(ctl_json .log_lines_suppressed status)"
ms_stop

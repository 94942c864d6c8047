# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_source_format.sh - a file source that names its format counts the
# lines of another in status (sources[].not_format), and still matches
# them as auto would: with `format = postlog`, a syslog line (host, tag,
# pid) is its own, a Dovecot log_path line (no host) and an RFC 3339 line
# are not; the failures of all three count, so 5 block the address.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config "[source mail]
format = postlog"
ms_start
assert_eq "status format" "postlog" "$(ctl_json '.sources[0].format' status)"
assert_eq "status not_format at start" "0" "$(ctl_json '.sources[0].not_format' status)"

log_mark
sasl_fail $ATTACKER 3
printf '%s imap-login: Info: a line of Dovecot log_path\n' "$(date '+%Y-%m-%d %T')" >> "$MS_LOG"
printf '%s mx postfix/smtpd[4242]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
	"$(date -u '+%Y-%m-%dT%T.000000Z')" $ATTACKER >> "$MS_LOG"
printf '%s mx postfix/smtpd[4243]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
	"$(date -u '+%Y-%m-%dT%T.000000Z')" $ATTACKER >> "$MS_LOG"
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 5 auth-fail within 10m"
ok "the lines not in the source's format were matched all the same"
assert_eq "status not_format" "3" "$(ctl_json '.sources[0].not_format' status)"
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -q ', format postlog (3 lines not in it)' ||
	fail "status text does not show the format's count: $MS_OUT"
ok "status names the format and counts the lines not in it"

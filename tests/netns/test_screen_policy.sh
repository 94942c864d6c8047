# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_screen_policy.sh - the log-on policy screen (rules/policy.conf,
# rule logon-policy): where every account is a full e-mail address, one
# log-on attempt with a bare name ("admin") blocks the address. Off by
# default.
#
#   - shipped rules: a failed IMAP login as "admin" from 203.0.113.5 blocks
#     nothing (a barrier proves it was read);
#   - a copy of the rules with enabled = yes, reloaded: one failed IMAP
#     login as "admin" from 203.0.113.31 blocks it (rule logon-policy),
#     and so does one Postfix SASL failure naming "test" (Postfix >= 3.9
#     logs the name) from 203.0.113.32;
#   - failures with full addresses (bob@example.org, 3 of them) block
#     nobody, nor do failures that name no user (Postfix < 3.9: the
#     barrier's own lines, blocked by auth-ip, never by logon-policy).
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
grep -q '^enabled *= *no$' "$MS_RULES/policy.conf" || fail "rules/policy.conf: expected 'enabled = no'"
ms_config
ms_start

say "off by default: a bare name failing once blocks nothing"
imap_fail $ATTACKER admin
barrier 198.51.100.41
assert_no_element $ATTACKER
log_has "rule logon-policy," && fail "the daemon applied logon-policy, which is off by default"
ok "no logon-policy decision"

say "switched on (enabled = yes, reload)"
sed -i 's/^enabled *= *no$/enabled     = yes/' "$MS_RULES/policy.conf"
log_mark
ctl_ok reload
wait_log '^mailscreen: reloaded '

say "one bare-name attempt blocks, over IMAP and over SMTP AUTH"
log_mark
imap_fail 203.0.113.31 admin
wait_log "^mailscreen: block 203\.0\.113\.31 for 1h: rule logon-policy, 1 auth-fail within 1m; line: .*user=<admin>"
wait_for_element 203.0.113.31
assert_timeout 203.0.113.31 3600
log_mark
mail_line "postfix/smtpd[4711]: warning: unknown[203.0.113.32]: SASL PLAIN authentication failed: authentication failure, sasl_username=test"
wait_log "^mailscreen: block 203\.0\.113\.32 for 1h: rule logon-policy, 1 auth-fail within 1m"
wait_for_element 203.0.113.32

say "full addresses, and failures without a name, do not"
log_mark
imap_fail 203.0.113.33 bob@example.org 3
barrier 198.51.100.42
assert_no_element 203.0.113.33
log_has "rule logon-policy," && fail "logon-policy counted full addresses or nameless failures: $(grep "rule logon-policy," "$MS_DLOG" | tail -n 1)"
ok "no logon-policy decision for full addresses or nameless failures"

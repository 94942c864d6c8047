# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_reload.sh - SIGHUP applies a changed rule and keeps counts and
# blocks; a broken configuration is refused and the old one keeps working;
# SIGTERM stops cleanly and leaves the blocks in the kernel.
#
#   - 2 failures from 203.0.113.5 under the shipped limit 5; the rule is
#     changed to limit 3 and SIGHUP reloads it; 1 more failure blocks: the
#     2 counted before the reload were kept, and the new limit applies;
#   - a block made before the reload is still in the set after it;
#   - an unknown key in the configuration, then a bad duration in a rule
#     file: each SIGHUP is refused with 'file:line:' in the log, the daemon
#     keeps running, and 3 failures still block (limit 3: the configuration
#     in force is the last good one, not the built-in or shipped one);
#   - SIGTERM: exit status 0, every block still in the set, and the blocked
#     address still dropped with no daemon running.
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
grep -q '^limit *= *5$' "$MS_RULES/auth.conf" || fail "rules/auth.conf: expected 'limit = 5' in [auth-ip]"
ms_listen $SERVER4 25
ms_config
ms_start

say "2 failures counted under limit 5 (a barrier proves they were read)"
sasl_fail $ATTACKER 2
barrier 198.51.100.31

say "the rule changes to limit 3; SIGHUP"
sed -i 's/^limit *= *5$/limit = 3/' "$MS_RULES/auth.conf"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
ok "the daemon reloaded"
wait_for_element 198.51.100.31

say "1 more failure: 2 + 1 = 3 blocks"
log_mark
sasl_fail $ATTACKER
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 3 auth-fail within 10m"
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25

say "a broken configuration is refused, with file and line"
cp "$MS_CONF" "$MS_TMP/good.conf"
printf '[daemon]\nno_such_key = 1\n' >> "$MS_CONF"
line=$(wc -l < "$MS_CONF")
log_mark
kill -HUP "$MS_PID"
wait_log "^mailscreen: (warning: )?$MS_CONF:$line: unknown key 'no_such_key' in \[daemon\].*reload refused"
ok "refused: $(tail -n 1 "$MS_DLOG" | cut -c 1-100)..."
ms_alive || fail "the daemon died on a broken configuration"
log_has '^mailscreen: reloaded ' && fail "the daemon says it reloaded a broken configuration"
sasl_fail 203.0.113.32 3
wait_for_element 203.0.113.32
ok "still blocking at limit 3"

say "a broken rule file is refused, with file and line"
cp "$MS_TMP/good.conf" "$MS_CONF"
sed -i 's/^window *=.*/window = 10 fortnights/' "$MS_RULES/auth.conf"
line=$(grep -n '^window' "$MS_RULES/auth.conf" | cut -d: -f1)
log_mark
kill -HUP "$MS_PID"
wait_log "^mailscreen: (warning: )?$MS_RULES/auth.conf:$line: window: .*reload refused"
ok "refused: $(tail -n 1 "$MS_DLOG" | cut -c 1-100)..."
ms_alive || fail "the daemon died on a broken rule file"
sasl_fail 203.0.113.33 3
wait_for_element 203.0.113.33
ok "still blocking at limit 3"

say "every block survived the reloads"
for a in 198.51.100.31 $ATTACKER 203.0.113.32 203.0.113.33; do
	wait_for_element $a
done

say "SIGTERM: clean exit, the blocks stay in the kernel"
ms_stop
for a in 198.51.100.31 $ATTACKER 203.0.113.32 203.0.113.33; do
	assert_timeout $a 3600
done
expect_dropped $ATTACKER $SERVER4 25
expect_connect $BYSTANDER $SERVER4 25

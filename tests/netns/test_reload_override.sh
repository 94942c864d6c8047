# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_reload_override.sh - a local override is picked up by a reload, and a
# broken override is refused exactly like a broken rule file: the running
# configuration stays, and so do the blocks. The shipped rule file is never
# edited.
#
#   - 2 failures from 203.0.113.5 under the shipped limit 5 of [auth-ip];
#     rules/auth.local sets limit = 3, and SIGHUP reloads: 1 more failure
#     blocks (the 2 counted before were kept, the override's limit applies);
#   - a drop-in rules.d/50-typo.conf with an unknown key: the reload is
#     refused with its file:line, the daemon keeps running, every block
#     stays, and 3 failures still block (limit 3 is in force);
#   - a mailscreen.local with a bad value: refused the same way, at its line;
#   - the broken files and auth.local removed, a drop-in sets limit = 4 and
#     another adds a rule; `mailscreen reload` takes them (3 failures no
#     longer block a new address, the 4th does), and the blocks are all
#     still in the kernel.
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" "$MS_TMP/rules.d" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
grep -q '^limit *= *5$' "$MS_RULES/auth.conf" || fail "rules/auth.conf: expected 'limit = 5' in [auth-ip]"
sum_before=$(cat "$MS_RULES"/*.conf | cksum)
ms_listen $SERVER4 25
ms_config
ms_start

say "2 failures counted under the shipped limit 5 (a barrier proves they were read)"
sasl_fail $ATTACKER 2
barrier 198.51.100.31

say "rules/auth.local sets limit = 3; SIGHUP"
printf '# local\n[auth-ip]\nlimit = 3\n' > "$MS_RULES/auth.local"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
ok "the daemon reloaded"

say "1 more failure: 2 + 1 = 3 blocks"
log_mark
sasl_fail $ATTACKER
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h: rule auth-ip, 3 auth-fail within 10m"
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25

say "a broken drop-in is refused, with its file and line"
printf '[auth-ip]\nlimmit = 2\n' > "$MS_TMP/rules.d/50-typo.conf"
log_mark
kill -HUP "$MS_PID"
wait_log "^mailscreen: (warning: )?$MS_TMP/rules\.d/50-typo\.conf:2: unknown key 'limmit' in rule \[auth-ip\].*reload refused"
ok "refused: $(tail -n 1 "$MS_DLOG" | cut -c 1-100)..."
ms_alive || fail "the daemon died on a broken override"
log_has '^mailscreen: reloaded ' && fail "the daemon says it reloaded a broken override"
for a in 198.51.100.31 $ATTACKER; do
	wait_for_element $a
done
sasl_fail 203.0.113.32 3
wait_for_element 203.0.113.32
ok "still blocking at limit 3, the blocks kept"

say "a broken mailscreen.local is refused, with its file and line"
printf '[daemon]\n\nmax_line = 3\n' > "$MS_TMP/mailscreen.local"
log_mark
kill -HUP "$MS_PID"
wait_log "^mailscreen: (warning: )?$MS_TMP/mailscreen\.local:3: max_line: '3' is not a number.*reload refused"
ok "refused: $(tail -n 1 "$MS_DLOG" | cut -c 1-100)..."
ms_alive || fail "the daemon died on a broken mailscreen.local"
sasl_fail 203.0.113.33 3
wait_for_element 203.0.113.33
ok "still blocking at limit 3"

say "fixed: auth.local removed, a drop-in sets limit = 4, another adds a rule; mailscreen reload"
rm "$MS_TMP/rules.d/50-typo.conf" "$MS_TMP/mailscreen.local" "$MS_RULES/auth.local"
printf '[auth-ip]\nlimit = 4\n' > "$MS_TMP/rules.d/60-four.conf"
printf '[abuse-ip]\nevents = abuse\nlimit = 2\nwindow = 1m\nblock = 1d\n' > "$MS_TMP/rules.d/70-new.conf"
n_rules=$(cat "$MS_RULES"/*.conf | grep -c '^\[')
log_mark
out=$("$MS_BIN" reload -s "$MS_SOCK" 2>&1) || fail "mailscreen reload refused the fixed overrides: $out"
ok "mailscreen reload: $out"
wait_log "^mailscreen: reloaded .*, $((n_rules + 1)) rules from $MS_RULES,"
ok "the drop-in's rule is one more than the $n_rules shipped"
sasl_fail 203.0.113.34 3
barrier 198.51.100.34
assert_no_element 203.0.113.34
ok "3 failures no longer block"
log_mark
sasl_fail 203.0.113.34
wait_log "^mailscreen: block 203\.0\.113\.34 for 1h: rule auth-ip, 4 auth-fail within 10m"
wait_for_element 203.0.113.34

say "every block survived the reloads; the shipped files were never edited"
for a in 198.51.100.31 $ATTACKER 203.0.113.32 203.0.113.33 198.51.100.34 203.0.113.34; do
	wait_for_element $a
done
assert_eq "the shipped rule files" "$sum_before" "$(cat "$MS_RULES"/*.conf | cksum)"
ms_stop

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_logging_config.sh - [logging] config_changes and watch_config: an
# edited rule file is picked up without SIGHUP (inotify), what changed is
# logged and in force; a broken edit is refused as a reload is, the blocks
# stay, and the same refusal is not said again; an editor's save (a
# temporary file renamed over the rule file) and several files saved at
# once make one reload; an override file (mailscreen.local) is watched
# too; config_changes = no reloads without listing the changes.
#
#   - auth.conf's limit 5 -> 3 by sed -i (temporary file + rename): logged
#     "config change: rule auth-ip: limit 5 -> 3 (FILE:LINE)", then 3
#     failures block;
#   - window = 10 fortnights: "reload refused" once with file:line, the
#     daemon runs, blocks stay, limit 3 still blocks; one more save of the
#     same broken file: said at debug level only ("said before");
#   - a whole new auth.conf written to a temporary name and renamed (limit
#     2), together with a change to smtp.conf: one "configuration files
#     changed" reload listing both;
#   - mailscreen.local sets config_changes = no: the next edit reloads, and
#     no "config change:" line is written.
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
grep -q '^limit *= *5$' "$MS_RULES/auth.conf" || fail "rules/auth.conf: expected 'limit = 5' in [auth-ip]"
ms_listen $SERVER4 25
ms_config "[daemon]
log_level = debug"
ms_start

say "the rule's limit changes 5 -> 3 by sed -i, no SIGHUP"
cp "$MS_RULES/auth.conf" "$MS_TMP/auth.good"
log_mark
sed -i 's/^limit *= *5$/limit = 3/' "$MS_RULES/auth.conf"
line=$(grep -n '^limit = 3$' "$MS_RULES/auth.conf" | head -n 1 | cut -d: -f1)
wait_log "^mailscreen: config change: rule auth-ip: limit 5 -> 3 \($MS_RULES/auth\.conf:$line\)$"
wait_log '^mailscreen: reloaded '
ok "the change was picked up and logged"
sasl_fail $ATTACKER 3
wait_for_element $ATTACKER
ok "the new limit is in force"

say "a broken edit is refused, once"
log_mark
sed -i 's/^window *=.*/window = 10 fortnights/' "$MS_RULES/auth.conf"
wline=$(grep -n '^window' "$MS_RULES/auth.conf" | head -n 1 | cut -d: -f1)
wait_log "^mailscreen: (warning: )?$MS_RULES/auth.conf:$wline: window: .*reload refused"
ms_alive || fail "the daemon died on a broken rule file"
log_has '^mailscreen: reloaded ' && fail "the daemon says it reloaded a broken rule file"
wait_for_element $ATTACKER
sasl_fail 203.0.113.32 3
wait_for_element 203.0.113.32
ok "blocks kept, still blocking at limit 3"
echo "# saved again, as broken" >> "$MS_RULES/auth.conf"
wait_log 'reload refused.*\(said before\)$'
n=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -v 'said before' | grep -c 'reload refused')
assert_eq "refusals said" 1 "$n"

say "an editor's save (temporary file, rename) and a second file: one reload"
log_mark
sed 's/^limit *= *5$/limit = 2/' "$MS_TMP/auth.good" > "$MS_RULES/.auth.conf.swp"
sed -i 's/^limit *=.*/limit = 2/' "$MS_RULES/smtp.conf" 2>/dev/null
mv "$MS_RULES/.auth.conf.swp" "$MS_RULES/auth.conf"
wait_log '^mailscreen: reloaded '
log_has '^mailscreen: config change: rule auth-ip: limit 3 -> 2 ' || fail "the limit's change was not logged"
log_has '^mailscreen: config change: rule conn-rate: limit [0-9]+ -> 2 ' || fail "smtp.conf's change was not logged"
n=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -c '^mailscreen: configuration files changed: reloading$')
assert_eq "reloads" 1 "$n"
sasl_fail 203.0.113.33 2
wait_for_element 203.0.113.33
ok "limit 2 in force"

say "an override switches config_changes off: reloaded, changes not listed"
log_mark
printf '[logging]\nconfig_changes = no\n' > "$MS_TMP/mailscreen.local"
wait_log '^mailscreen: reloaded '
log_mark
sed -i 's/^limit = 2$/limit = 4/' "$MS_RULES/auth.conf"
wait_log '^mailscreen: reloaded '
log_has '^mailscreen: config change: ' && fail "a change was listed with config_changes = no"
ok "no change listed"
ms_stop

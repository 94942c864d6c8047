# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_from_start.sh - `run --from-start` reads what the log holds in log
# time: each old line's stamp is the clock of the windows, and a block
# lasts from the stamp of the line that made it.
#
# Rules: SASL failures (smtp) 5 in 10m block for 1d; IMAP failures 5 in
# 10m block for 1h. The log, written before the daemon starts:
#   - 203.0.113.41: 5 SASL failures 3 hours ago: blocked now, in the
#     kernel, for what is left of the day (about 21h), not a full day;
#   - 203.0.113.42: 5 IMAP failures 2 days ago: its hour ended long ago,
#     no block (logged, and counted in status as ended_blocks);
#   - 203.0.113.43: 5 SASL failures 2 hours ago, 11 minutes apart: never
#     5 within 10 minutes by the log's clock, no block;
#   - 203.0.113.45: 5 SASL failures 5 hours ago and 5 more 10 minutes
#     later, while its day's block (by the log's clock) ran: an
#     extension, as the running daemon would have made, not a block #2;
#   - 203.0.113.47: 5 IMAP failures 2 days ago and 5 more 10 minutes
#     later: an extension of a block that ended long ago (the policy sees
#     the blocks of the log's past), never a block #2, and nothing now;
#   - 203.0.113.46: 5 IMAP failures 2 days ago (that hour ended) and 5
#     more 30 minutes ago: the repeat history runs in log time too, so
#     this is block #2, for 2h, and 1h30m of it is left.
# A live barrier afterwards proves every old line was read.
# Run by run.sh, which has sourced lib.sh.

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" || fail "cannot make the rules directory"
cat > "$MS_RULES/t.conf" <<'RULES'
[sasl-1d]
events   = auth-fail
services = smtp
per      = ip
limit    = 5
window   = 10m
block    = 1d

[imap-1h]
events   = auth-fail
services = imap
per      = ip
limit    = 5
window   = 10m
block    = 1h
RULES

now=$(date +%s)
stamp() { date -u -d "@$1" '+%Y-%m-%dT%H:%M:%S+00:00'; }
old_sasl() {    # SECONDS_AGO ADDR
	MS_SEQ=$((MS_SEQ + 1))
	printf '%s mx postfix/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
		"$(stamp $((now - $1)))" $((30000 + MS_SEQ)) "$2" >> "$MS_LOG"
}
old_imap() {    # SECONDS_AGO ADDR
	MS_SEQ=$((MS_SEQ + 1))
	printf '%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=%s, lip=%s, TLS, session=<S%015d>\n' \
		"$(stamp $((now - $1)))" "$2" "$SERVER4" $MS_SEQ >> "$MS_LOG"
}
: > "$MS_LOG"
for i in 0 1 2 3 4; do old_imap $((2 * 86400 - i)) 203.0.113.42; done
for i in 0 1 2 3 4; do old_sasl $((3 * 3600 - i)) 203.0.113.41; done
for i in 0 1 2 3 4; do old_imap $((2 * 86400 - 100 - i)) 203.0.113.46; done
for i in 0 1 2 3 4; do old_imap $((2 * 86400 - 200 - i)) 203.0.113.47; done
for i in 0 1 2 3 4; do old_imap $((2 * 86400 - 800 - i)) 203.0.113.47; done
for i in 0 1 2 3 4; do old_sasl $((5 * 3600 - i)) 203.0.113.45; done
for i in 0 1 2 3 4; do old_sasl $((5 * 3600 - 600 - i)) 203.0.113.45; done
for i in 0 1 2 3 4; do old_sasl $((2 * 3600 - i * 660)) 203.0.113.43; done
for i in 0 1 2 3 4; do old_imap $((1800 - i)) 203.0.113.46; done

ms_config
ms_start --from-start
barrier 198.51.100.44

say "an attack 3 hours old, blocked for 1d: blocked for what is left of the day"
wait_for_element 203.0.113.41
t=$(element_timeout 203.0.113.41)
left=$((86400 - 3 * 3600 + 4 - ($(date +%s) - now)))
if [ "$t" != none ] && [ "$t" -le $((left + 2)) ] && [ "$t" -ge $((left - 30)) ]; then
	ok "timeout of 203.0.113.41: ${t}s, what is left of 1d after 3h (about ${left}s)"
else
	fail "timeout of 203.0.113.41: want about ${left}s (1d less 3h), got '$t'"
fi
start=$(ctl_json '.[] | select(.target == "203.0.113.41") | .start' list blocks)
assert_eq "list blocks: its start is the stamp of the line that made it" \
	"$(date -u -d "@$((now - 3 * 3600 + 4))" '+%Y-%m-%dT%H:%M:%SZ')" "$start"

say "an attack 2 days old, blocked for 1h: that block ended, none is made"
assert_no_element 203.0.113.42
assert_eq "status: ended_blocks (203.0.113.42's, 203.0.113.46's first, 203.0.113.47's and its extension)" "4" \
	"$(ctl_json .ended_blocks status)"
wait_log 'catching up: the block of 203\.0\.113\.42 made at .* \(log time\) ended at .*: not made'

say "5 failures 11 minutes apart by the log's clock: never 5 within 10 minutes"
assert_no_element 203.0.113.43

say "an old attack that goes on while its block (by the log's clock) runs: extended, not escalated"
wait_for_element 203.0.113.45
log_has '^mailscreen: extend 203\.0\.113\.45 for 1d: rule sasl-1d' || fail "no extension of 203.0.113.45's block"
log_has '203\.0\.113\.45 .*block #2' && fail "203.0.113.45 was escalated as a repeat offender"
ok "203.0.113.45: extended, never block #2"
t=$(element_timeout 203.0.113.45)
left=$((86400 - 5 * 3600 + 600 + 4 - ($(date +%s) - now)))
if [ "$t" != none ] && [ "$t" -le $((left + 2)) ] && [ "$t" -ge $((left - 30)) ]; then
	ok "timeout of 203.0.113.45: ${t}s, 1d from the extension 4h50m ago"
else
	fail "timeout of 203.0.113.45: want about ${left}s, got '$t'"
fi

say "an attack 2 days old that went on while its (ended) block ran: extended then, nothing now"
log_has '^mailscreen: extend 203\.0\.113\.47 for 1h: rule imap-1h' || fail "no extension of 203.0.113.47's old block"
log_has '203\.0\.113\.47 .*block #2' && fail "203.0.113.47 was escalated as a repeat offender"
ok "203.0.113.47: extended, never block #2"
assert_no_element 203.0.113.47

say "a repeat offender by the log's clock: block #2, twice as long, what is left of it"
wait_for_element 203.0.113.46
log_has '^mailscreen: block 203\.0\.113\.46 for 2h: rule imap-1h, 5 auth-fail within 10m, block #2' ||
	fail "203.0.113.46 was not blocked as a repeat offender (block #2 for 2h)"
t=$(element_timeout 203.0.113.46)
left=$((7200 - 1800 + 4 - ($(date +%s) - now)))
if [ "$t" != none ] && [ "$t" -le $((left + 2)) ] && [ "$t" -ge $((left - 30)) ]; then
	ok "timeout of 203.0.113.46: ${t}s, what is left of 2h after 30m"
else
	fail "timeout of 203.0.113.46: want about ${left}s, got '$t'"
fi
assert_eq "status: lines read in log time" "45" "$(ctl_json .old_lines status)"
ms_stop

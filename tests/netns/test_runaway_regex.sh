# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_runaway_regex.sh - a user's filter with a catastrophically
# backtracking regex cannot stall the daemon. The filter 'runaway' (its own
# file, beside copies of the shipped filters, and run first on every smtpd
# line) has `(\S+ ?)+` followed by something that never matches: on a
# smtpd warning line its paths grow as 2^(length of the text), far beyond
# any time budget. With match_limit at its default each such line costs at
# most the limit: 2,000 crafted lines go by, the daemon logs "filter
# 'runaway' hit the regex match limit" naming the filter (the first time and
# every 1000th, not once a line), stays alive, and the shipped filters keep
# working - an attacker's 5 SASL failures, on which the runaway regex hits
# the limit too, block him promptly. `mailscreen match --filter` on the same
# log reports the hits in its summary.
# Run by run.sh, which has sourced lib.sh.

EVIL_LINES=2000
FDIR=$MS_TMP/filters
mkdir -p "$FDIR"
cp "$MS_REPO"/filters/*.conf "$FDIR"/ || fail "cannot copy the shipped filters"
cat > "$FDIR/runaway.conf" <<'EOF'
# a badly written user filter: nested quantifiers, then a tail that fails
[runaway]
program = postfix/smtpd
event   = auth-fail
service = smtp
regex   = ^warning: (?<user>(\S+ ?)+)(?:!|#)$
EOF

ms_config
sed -i "s|^filters = $MS_REPO/filters\$|filters = $FDIR|; s|^filters = postfix|filters = runaway postfix|" "$MS_CONF"
grep -q "^filters = runaway postfix" "$MS_CONF" || fail "could not add the filter to the source: $(cat "$MS_CONF")"
grep -q "match_limit" "$MS_CONF" && fail "the test must leave match_limit at its default"
"$MS_BIN" check -c "$MS_CONF" -q || fail "the test configuration does not check"
ms_start

# how long one crafted line would take without a limit: not measured (it
# would not end); with the limit, the whole batch must pass in seconds
awk -v n="$EVIL_LINES" -v now="$(date '+%b %e %T')" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "%s mx postfix/smtpd[%d]: warning: unknown[198.51.100.77]: lost connection after AUTH from client.example.net with sasl_username=aaaaaaaaaaaaaaaaaaaa%d\n", now, 40000 + i, i
}' >> "$MS_LOG"
wait_log "^mailscreen: warning: filter 'runaway' hit the regex match limit \\(1 times so far"
ok "the daemon named the filter that hit the match limit"

t0=$(date +%s)
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
ok "the attacker's 5 failures after $EVIL_LINES runaway lines blocked within $(($(date +%s) - t0))s"
ms_alive || fail "the daemon died"

ctl_ok status --json
total=$((EVIL_LINES + 5))
assert_eq "status: lines read" "$total" "$(printf '%s\n' "$MS_OUT" | jq .lines)"
assert_eq "status: auth-fail events (only the attacker's)" 5 "$(printf '%s\n' "$MS_OUT" | jq '.events["auth-fail"]')"
assert_eq "status: lag_bytes" 0 "$(printf '%s\n' "$MS_OUT" | jq '.sources[0].files[0].lag_bytes')"
assert_no_element 198.51.100.77

# said the first time and every 1000th (1, 1000, 2000), not once a line
n=$(grep -c "^mailscreen: warning: filter 'runaway' hit the regex match limit" "$MS_DLOG")
[ "$n" -ge 1 ] && [ "$n" -le 5 ] || fail "the match limit was logged $n times for $total hits; expected a few"
ok "the match limit hits were logged $n times for $total lines, not once a line"
log_has "filter 'runaway' hit the regex match limit \\(2000 times so far" ||
	fail "the 2000th hit was not logged"
ok "the 2000th hit was logged: the daemon counts them"

# the filter tester reports the same: every crafted line and the
# attacker's lines hit the limit, and the shipped filters still match
"$MS_BIN" match --filter "$FDIR/runaway.conf" --filter "$FDIR/postfix.conf" --quiet "$MS_LOG" \
	> "$MS_TMP/match.out" 2> "$MS_TMP/match.err" ||
	fail "mailscreen match failed: $(cat "$MS_TMP/match.err")"
sed 's/^/    /' "$MS_TMP/match.err"
hits=$(awk '$1 == "runaway" { print $5 }' "$MS_TMP/match.err")
assert_eq "match summary: runaway's limit hits" "$total" "$hits"
assert_eq "match summary: postfix-sasl matched" 5 "$(awk '$1 == "postfix-sasl" { print $2 }' "$MS_TMP/match.err")"
grep -q "^mailscreen: warning: filter 'runaway' hit the regex match limit on $total lines" "$MS_TMP/match.err" ||
	fail "mailscreen match did not warn about the limit hits"
ok "mailscreen match warns: filter 'runaway' hit the regex match limit on $total lines"

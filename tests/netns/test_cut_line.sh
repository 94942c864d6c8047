# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cut_line.sh - a line longer than max_line never reaches the filters:
# it is counted and dropped. What is left of a cut line ends where the cut
# fell, not where the server ended it: Dovecot's "rip=203.0.113.55, lip=..."
# cut right after "rip=203.0.113.5" satisfies the '$'-anchored dovecot
# filters with the address of a neighbour.
#
# max_line = 256. Written, each line padded (in the user name) so that its
# first 256 bytes end with "rip=203.0.113.5":
#   - 6 failed IMAP logins of 203.0.113.55 to the followed file, then 5
#     SASL failures of 198.51.100.41 (the barrier: once it is blocked, the
#     daemon has read every line before): 203.0.113.5 is not blocked, it
#     still connects to port 25, and neither is 203.0.113.55 (no event);
#     status counts 6 cut lines, and the daemon said so once (a warning),
#     not once per line;
#   - `mailscreen match --max-line 256` on that file: no event from the cut
#     lines, 5 from the barrier's, and the summary counts 6 cut lines;
#     without --max-line the same lines are whole and name 203.0.113.55;
#   - the same through the journal (skipped without systemd-journal-remote):
#     a MESSAGE cut right after "rip=203.0.113.6" of 203.0.113.66, 6 times,
#     then 5 whole failures of 198.51.100.42: 203.0.113.6 is not blocked.
# Run by run.sh, which has sourced lib.sh.

MAX=256
find_journal_remote
JDIR=$MS_TMP/journal
JFILE=$JDIR/x.journal
mkdir "$JDIR" || fail "cannot make $JDIR"

# entry MESSAGE - one export-format entry of dovecot.service, stamped now
entry() {
	MS_SEQ=$((MS_SEQ + 1))
	now=$(date +%s%6N)
	printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=0123456789abcdef0123456789abcdef\n' \
		"$now" $((now - 1700000000000000))
	printf '_HOSTNAME=mx\n_SYSTEMD_UNIT=dovecot.service\nSYSLOG_IDENTIFIER=dovecot\nSYSLOG_PID=812\nMESSAGE=%s\n\n' "$1"
}
journal_add() {         # journal_add < ENTRIES
	"$JR" -o "$JFILE" - > "$MS_TMP/jr.out" 2>&1 || fail "systemd-journal-remote: $(cat "$MS_TMP/jr.out")"
}

# pad_user BEFORE AFTER - a user name that makes BEFORE USER AFTER exactly
# MAX bytes long
pad_user() {
	pu_n=$((MAX - ${#1} - ${#2}))
	[ $pu_n -gt 0 ] || fail "no room to pad: ${#1} + ${#2} bytes"
	head -c $pu_n /dev/zero | tr '\0' u
}

JOURNAL_SOURCE=
if [ -n "$JR" ]; then
	entry "imap-login: Info: started" | journal_add
	JOURNAL_SOURCE="[source journal]
journal = dovecot.service
journal_path = $JDIR
filters = dovecot dovecot-connect"
fi
: > "$MS_LOG"
ms_listen $SERVER4 25
ms_config "[daemon]
max_line = $MAX
$JOURNAL_SOURCE"
ms_start

say "6 Dovecot failures of 203.0.113.55, each cut right after 'rip=203.0.113.5'"
STAMP=$(date '+%b %e %T')
pre="$STAMP mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<"
post=">, method=PLAIN, rip=203.0.113.5"
user=$(pad_user "$pre" "$post")
line="$pre$user>, method=PLAIN, rip=203.0.113.55, lip=$SERVER4, TLS, session=<kF8nx8Q5lOTAqAAB>"
assert_eq "the first $MAX bytes end with" "rip=203.0.113.5" "$(printf '%s' "$line" | head -c $MAX | tail -c 15)"
log_mark
i=0
while [ $i -lt 6 ]; do
	i=$((i + 1))
	printf '%s\n' "$line" >> "$MS_LOG"
done
barrier 198.51.100.41
assert_no_element $ATTACKER
assert_no_element 203.0.113.55
expect_connect $ATTACKER $SERVER4 25
log_has "block 203\.0\.113\.5 " && fail "the daemon blocked 203.0.113.5 for a cut line of 203.0.113.55"
assert_eq "status: lines cut at max_line and not matched" 6 "$(ctl_json .cut_lines status)"
assert_eq "status: lines cut by the file source" 6 "$(ctl_json .files.cut_lines status)"
ms_ctl status && printf '%s\n' "$MS_OUT" | grep -q "6 cut at max_line and not matched" ||
	fail "status does not show the cut lines: $MS_OUT"
ok "status shows the cut lines"
assert_eq "warnings about cut lines" 1 "$(grep -c 'longer than max_line .* was cut and is not matched' "$MS_DLOG")"

say "mailscreen match --max-line $MAX: the same rule"
"$MS_BIN" match --filter "$MS_REPO/filters/dovecot.conf" --filter "$MS_REPO/filters/postfix.conf" \
	--max-line $MAX --json "$MS_LOG" > "$MS_TMP/match.out" 2> "$MS_TMP/match.err" ||
	fail "mailscreen match failed: $(cat "$MS_TMP/match.err")"
assert_eq "match: events of 203.0.113.5 or .55" 0 "$(jq -s '[.[] | select(.ip | test("^203\\.0\\.113\\.55?$"))] | length' "$MS_TMP/match.out")"
assert_eq "match: events of the barrier" 5 "$(jq -s '[.[] | select(.ip == "198.51.100.41")] | length' "$MS_TMP/match.out")"
grep -q "cut lines (not matched): 6" "$MS_TMP/match.err" || fail "match's summary: $(cat "$MS_TMP/match.err")"
ok "match's summary counts 6 cut lines"
"$MS_BIN" match --filter "$MS_REPO/filters/dovecot.conf" --json "$MS_LOG" > "$MS_TMP/match.out" 2> "$MS_TMP/match.err"
assert_eq "match without --max-line: failures of 203.0.113.55" 6 \
	"$(jq -s '[.[] | select(.ip == "203.0.113.55" and .event == "auth-fail")] | length' "$MS_TMP/match.out")"

if [ -z "$JR" ]; then
	echo "skip: the journal part (systemd-journal-remote is missing)"
	exit 0
fi
say "the journal: 6 messages of 203.0.113.66 cut right after 'rip=203.0.113.6'"
pre="imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<"
post=">, method=PLAIN, rip=203.0.113.6"
user=$(pad_user "$pre" "$post")
msg="$pre$user>, method=PLAIN, rip=203.0.113.66, lip=$SERVER4, TLS, session=<kF8nx8Q5lOTAqAAC>"
i=0
while [ $i -lt 6 ]; do
	i=$((i + 1))
	entry "$msg"
done > "$MS_TMP/entries"
i=0
while [ $i -lt 5 ]; do
	i=$((i + 1))
	entry "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=198.51.100.42, lip=$SERVER4, TLS, session=<kF8nx8Q5lOTAqAA$i>"
done >> "$MS_TMP/entries"
journal_add < "$MS_TMP/entries"
wait_for_element 198.51.100.42
assert_no_element 203.0.113.6
assert_no_element 203.0.113.66
assert_eq "status: lines cut at max_line and not matched" 12 "$(ctl_json .cut_lines status)"

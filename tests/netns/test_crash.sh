# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_crash.sh - killed with SIGKILL at random moments, many times, while
# a stream of log lines is written, the daemon ends with exactly the same
# blocks, blocked accounts and counts as one run that was never
# interrupted: no line is missed, none is counted twice.
#
# The stream: a few thousand Postfix SASL failures, Dovecot login failures
# (per account) and RCPT rejects (per session), from many addresses, each
# address and account with a number of failures around the limits, in a
# fixed pseudo-random order; the log is also rotated (rename and create)
# once in the middle. Run A reads it in one go. Run B writes it in chunks,
# kills the daemon with SIGKILL after random chunks (sometimes writing more
# while it is down, sometimes killing it again right after its start) and
# starts it again, 12 times; every other chunk it first runs a control
# command, which makes the daemon save its state at once, so that kills
# also hit right after snapshots taken in the middle of the stream. Both
# end with a sentinel block (every line
# before it is then read), and compare `list blocks`, `list accounts` and
# `list failures`.
# Run by run.sh, which has sourced lib.sh.

STREAM=$MS_TMP/stream.log
CHUNKS=$MS_TMP/chunks
KILLS=12

# the stream, deterministic: awk's own PRNG with a fixed seed
awk -v now="$(date '+%b %e %T')" 'BEGIN {
	srand(7)
	n = 0
	for (a = 1; a <= 120; a++)         # addresses: 1..9 SASL failures each
		for (k = 1 + int(rand() * 9); k > 0; k--)
			ev[n++] = sprintf("postfix/smtpd[%d]: warning: unknown[203.0.113.%d]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", 1000 + a, a)
	for (u = 1; u <= 15; u++)          # accounts: 5..14 failures from many addresses
		for (k = 5 + int(rand() * 10); k > 0; k--)
			ev[n++] = sprintf("dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<user%d@example.org>, method=PLAIN, rip=198.51.100.%d, lip=192.0.2.1, TLS, session=<s%dx%d>", u, 1 + int(rand() * 200), u, k)
	for (s = 1; s <= 20; s++)          # sessions: 2..7 RCPT rejects each
		for (k = 2 + int(rand() * 6); k > 0; k--)
			ev[n++] = sprintf("postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[2001:db8:%x::1]: 550 5.1.1 <nobody%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@example.net> to=<nobody%d@example.org> proto=ESMTP helo=<h%d>", 5000 + s, s, k, k, s)
	for (i = n - 1; i > 0; i--) {     # shuffle
		j = int(rand() * (i + 1)); t = ev[i]; ev[i] = ev[j]; ev[j] = t
	}
	for (i = 0; i < n; i++)
		printf "%s mx %s\n", now, ev[i]
}' > "$STREAM"
TOTAL=$(wc -l < "$STREAM")
say "$TOTAL lines in the stream"

# chunk boundaries, deterministic
awk -v total="$TOTAL" 'BEGIN { srand(11); at = 0
	while (at < total) { at += 1 + int(rand() * 40); if (at > total) at = total; print at } }' > "$CHUNKS"

SENTINEL=192.0.2.99

# write lines FROM..TO (1-based, inclusive) of the stream to the log;
# the log is rotated (rename and create) once, at the line ROTATE_AT
ROTATE_AT=$((TOTAL / 2))
put() {
	if [ "$1" -le "$ROTATE_AT" ] && [ "$2" -gt "$ROTATE_AT" ]; then
		sed -n "$1,${ROTATE_AT}p" "$STREAM" >> "$MS_LOG"
		mv "$MS_LOG" "$MS_LOG.1"
		sed -n "$((ROTATE_AT + 1)),$2p" "$STREAM" >> "$MS_LOG"
	else
		sed -n "$1,$2p" "$STREAM" >> "$MS_LOG"
	fi
}

# the daemon's view, sorted, comparable between runs
snapshot() {
	{
		ctl_ok list blocks --json
		printf '%s\n' "$MS_OUT" | jq -r '.[] | "block \(.target) \(.origin)"'
		ctl_ok list accounts --json
		printf '%s\n' "$MS_OUT" | jq -r '.blocked[] | "account \(.account) \(.origin)"'
		printf '%s\n' "$MS_OUT" | jq -r '.failures[] | "count \(.rule) \(.key) \(.count)"'
		ctl_ok list failures --json
		printf '%s\n' "$MS_OUT" | jq -r '.[] | select(.rule != "conn-rate") | "count \(.rule) \(.key) \(.count)"'
	} | sort
}

finish() {
	sasl_fail $SENTINEL 5
	wait_for_element $SENTINEL
	snapshot > "$1"
}

reset_run() {
	nft delete table inet mailscreen 2>/dev/null
	rm -rf "$MS_TMP/state" "$MS_LOG" "$MS_LOG.1" "$MS_DENY"
	: > "$MS_LOG"
}

say "run A: uninterrupted"
reset_run
ms_config
ms_start
put 1 "$TOTAL"
finish "$MS_TMP/a.txt"
ms_stop
say "run A: $(grep -c '^block' "$MS_TMP/a.txt") blocks, $(grep -c '^account' "$MS_TMP/a.txt") accounts, $(grep -c '^count' "$MS_TMP/a.txt") counts"
[ "$(grep -c '^block' "$MS_TMP/a.txt")" -gt 10 ] || fail "run A blocked too little to prove anything"

say "run B: SIGKILL at random moments"
reset_run
ms_config
ms_start
from=1 kills=0 i=0
for to in $(cat "$CHUNKS"); do
	i=$((i + 1))
	[ "$to" -ge "$from" ] || continue       # written while it was down already
	put "$from" "$to"
	from=$((to + 1))
	# a control command that changes something makes the daemon save its
	# state at once: so some kills hit right after a snapshot taken in the
	# middle of the stream, with real counts and positions in it
	[ $((i % 2)) -eq 0 ] && ctl_ok allow 192.0.2.201 1h
	if [ $kills -lt $KILLS ] && [ $((i % 3)) -eq 0 ]; then
		kill -KILL "$MS_PID"
		wait "$MS_PID" 2>/dev/null
		kills=$((kills + 1))
		# sometimes more lines arrive while it is down
		if [ $((kills % 2)) -eq 0 ] && [ "$from" -le "$TOTAL" ]; then
			next=$((from + 37)); [ $next -gt "$TOTAL" ] && next=$TOTAL
			put "$from" "$next"
			from=$((next + 1))
		fi
		ms_start
		# sometimes killed again right after its start
		if [ $((kills % 4)) -eq 1 ]; then
			kill -KILL "$MS_PID"
			wait "$MS_PID" 2>/dev/null
			kills=$((kills + 1))
			ms_start
		fi
	fi
done
[ "$from" -gt "$TOTAL" ] || put "$from" "$TOTAL"
[ $kills -ge 10 ] || fail "only $kills kills happened; the stream is too short"
ok "$kills kills during the stream"
n=$(grep -c '^mailscreen: restored [1-9]' "$MS_DLOG")
[ "$n" -ge 3 ] || fail "only $n restarts restored blocks from a snapshot; the test did not exercise mid-stream snapshots"
ok "$n restarts restored blocks and counts from a mid-stream snapshot"
cat "$MS_LOG.1" "$MS_LOG" | cmp -s - "$STREAM" || fail "the test wrote the stream wrongly"
finish "$MS_TMP/b.txt"
ms_stop

if ! diff -u "$MS_TMP/a.txt" "$MS_TMP/b.txt" > "$MS_TMP/diff.txt"; then
	cat "$MS_TMP/diff.txt"
	fail "the crashed run differs from the uninterrupted one"
fi
ok "blocks, accounts and counts equal after $kills kills ($(wc -l < "$MS_TMP/a.txt") lines compared)"

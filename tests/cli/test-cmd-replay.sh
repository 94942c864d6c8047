#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-replay.sh - "mailscreen replay" runs the whole configuration
# over a crafted log spanning two days, in log time, from a file and from
# standard input in that order: exact block times by the log's clock, an
# escalation for a repeat offender ([repeat] factor 2: 1h, then 2h), an
# allowed address never blocked, a window that slides (4 failures, a gap
# longer than the window, 4 more: no block at limit 5), an account block
# whose hostile name is escaped in the HTML report, a line stamped
# backwards counted, the JSON fields, and a self-contained HTML file.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-replay.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
command -v jq >/dev/null || { echo "SKIP: jq is needed"; exit 77; }
mkdir "$tmp/rules"
cat >"$tmp/rules/t.conf" <<'CONF'
[auth-ip]
events = auth-fail
per    = ip
limit  = 5
window = 10m
block  = 1h

[auth-account]
events = auth-fail
per    = account
limit  = 3
window = 10m
block  = 1h
CONF
cat >"$tmp/ms.conf" <<CONF
[daemon]
filters = $REPO/filters
rules = $tmp/rules

[source imap]
path = /nonexistent/mail.log
filters = dovecot

[repeat]
factor = 2

[allow]
address = 198.51.100.7
CONF
n=0
f() {   # STAMP ADDRESS: one Postfix SASL failure
	n=$((n + 1))
	printf '%s mx postfix/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
		"$1" $((1000 + n)) "$2"
}
d() {   # STAMP USER ADDRESS: one Dovecot login failure
	n=$((n + 1))
	printf '%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<%s>, method=PLAIN, rip=%s, lip=192.0.2.1, TLS, session=<s%d>\n' \
		"$1" "$2" "$3" "$n"
}
{
	for s in 00 01 02 03 04; do f 2026-03-01T10:00:$s+00:00 203.0.113.5; done
	for s in 10 11 12 13; do f 2026-03-01T10:00:$s+00:00 203.0.113.9; done
	for s in 00 01 02 03; do f 2026-03-01T10:20:$s+00:00 203.0.113.9; done
	for s in 00 01 02 03 04 05; do f 2026-03-01T12:00:$s+00:00 198.51.100.7; done
	for s in 00 01 02 03 04; do f 2026-03-01T14:00:$s+00:00 203.0.113.5; done
} >"$tmp/day1.log"
{
	d 2026-03-02T09:00:00+00:00 "<script&x\"'" 198.51.100.21
	d 2026-03-02T09:00:01+00:00 "<script&x\"'" 198.51.100.22
	d 2026-03-02T09:00:02+00:00 "<script&x\"'" 198.51.100.23
	f 2026-03-02T08:00:00+00:00 203.0.113.77
} >"$tmp/day2.log"

if ! "$MAILSCREEN" replay -c "$tmp/ms.conf" --json --html "$tmp/r.html" "$tmp/day1.log" - \
	<"$tmp/day2.log" >"$tmp/out" 2>"$tmp/err"; then
	echo "FAIL: replay --json exited non-zero: $(cat "$tmp/err")"
	exit 1
fi

check() {   # what, want, jq filter
	got=$(jq -rs "$3" "$tmp/out" 2>&1)
	if [ "$got" = "$2" ]; then echo "ok - $1"; else echo "FAIL: $1: want '$2', got '$got'"; fail=1; fi
}
B='[.[] | select(.type == "block")]'
check "three blocks" 3 "$B | length"
check "first block: when, what, rule, count, duration, until (log time)" \
	"2026-03-01T10:00:04Z address 203.0.113.5 auth-ip 5 1h 3600 2026-03-01T11:00:04Z false 1 false" \
	"$B | .[0] | \"\(.time) \(.what) \(.target) \(.rule) \(.count) \(.duration) \(.duration_s) \(.until) \(.extension) \(.times) \(.escalation)\""
check "first block: time_ms" 1772359204000 "$B | .[0].time_ms"
check "first block: its five lines as evidence, oldest first" \
	"5 2026-03-01T10:00:00Z 2026-03-01T10:00:04Z" \
	"$B | .[0].evidence | \"\(length) \(.[0].time) \(.[4].time)\""
check "first block: the evidence is the lines" "true" \
	"$B | .[0].evidence | all(.line | test(\"unknown\\\\[203\\\\.0\\\\.113\\\\.5\\\\]: SASL LOGIN\"))"
check "repeat offender: block #2 at 14:00:04 for 2h, an escalation" \
	"2026-03-01T14:00:04Z 203.0.113.5 2h 2 true false" \
	"$B | .[1] | \"\(.time) \(.target) \(.duration) \(.times) \(.escalation) \(.extension)\""
check "the allowed address is never blocked" 0 "$B | map(select(.target == \"198.51.100.7\")) | length"
check "4 failures, a gap longer than the window, 4 more: no block" 0 \
	"$B | map(select(.target == \"203.0.113.9\")) | length"
check "account block from standard input, read after the file" \
	"2026-03-02T09:00:02Z account auth-account 3" \
	"$B | .[2] | \"\(.time) \(.what) \(.rule) \(.count)\""
check "the account's name as the log wrote it (JSON-escaped)" "<script&x\"'" "$B | .[2].target"
S='.[] | select(.type == "summary")'
check "summary: lines, events, backwards, span" \
	"28 28 31 1 2026-03-01T10:00:00Z 2026-03-02T09:00:02Z 3 0" \
	"$S | \"\(.lines) \(.matched_lines) \(.events) \(.backwards) \(.first) \(.last) \(.blocks) \(.extensions)\""
check "summary: per rule" "auth-ip 22 2 0,auth-account 3 1 0" \
	"$S | [.rules[] | \"\(.rule) \(.counted) \(.blocks) \(.extensions)\"] | join(\",\")"
check "summary: events per kind and service" "28 25 6" \
	"$S | \"\(.kinds[\"auth-fail\"]) \(.services.smtp) \(.services.imap)\""
check "summary: top offender" "203.0.113.5 10 2" \
	"$S | .top_offenders[0] | \"\(.ip) \(.events) \(.blocks)\""
if grep -q "1 lines were stamped before" "$tmp/err"; then echo "ok - the backwards line is reported"
else echo "FAIL: the backwards line is not reported: $(cat "$tmp/err")"; fail=1; fi

# the HTML report: self-contained, and the log's text escaped
h=$tmp/r.html
if [ -s "$h" ] && grep -q '<svg ' "$h" && grep -q '<style>' "$h" && grep -q '</html>' "$h"; then
	echo "ok - the HTML report has its timeline (inline SVG) and inline CSS"
else
	echo "FAIL: the HTML report is missing or incomplete"; fail=1
fi
if grep -Eiq '<script|<link|<img|<iframe|src=|href=|url\(|@import|https?:' "$h"; then
	echo "FAIL: the HTML report loads something or runs a script:"; grep -Eion '<script|<link|<img|<iframe|src=|href=|url\(|@import|https?:' "$h"; fail=1
else
	echo "ok - the HTML report refers to nothing outside itself and runs no script"
fi
if grep -q '&lt;script&amp;x&quot;&#39;' "$h"; then echo "ok - the hostile account name is HTML-escaped"
else echo "FAIL: the hostile account name is not escaped in the HTML"; fail=1; fi
for t in 2026-03-01T10:00:04Z 2026-03-01T14:00:04Z; do
	grep -q "<td>$t</td>" "$h" || { echo "FAIL: the HTML block table misses the block at $t"; fail=1; }
done

# the text form says the same
"$MAILSCREEN" replay -c "$tmp/ms.conf" "$tmp/day1.log" >"$tmp/text" 2>"$tmp/err"
if grep -q '^2026-03-01T14:00:04Z  block  203\.0\.113\.5 for 2h: rule auth-ip, 5 auth-fail within 10m, block #2 (escalation)$' \
	"$tmp/text"; then echo "ok - text: the escalation"
else echo "FAIL: text: no escalation line:"; cat "$tmp/text"; fail=1; fi

# --source: the filters of that source only, as the daemon reads it
if "$MAILSCREEN" replay -c "$tmp/ms.conf" --source imap --json "$tmp/day1.log" "$tmp/day2.log" >"$tmp/out" 2>"$tmp/err"; then
	check "--source imap: Dovecot's filters only, the account block alone" "account" \
		"[.[] | select(.type == \"block\") | .what] | join(\" \")"
else
	echo "FAIL: --source imap: $(cat "$tmp/err")"; fail=1
fi
if "$MAILSCREEN" replay -c "$tmp/ms.conf" --source nosuch "$tmp/day1.log" >/dev/null 2>"$tmp/err" ||
	! grep -q 'no \[source nosuch\]' "$tmp/err"; then
	echo "FAIL: --source nosuch: want a clear error, got: $(cat "$tmp/err")"; fail=1
fi

# bad use
if "$MAILSCREEN" replay -c "$tmp/ms.conf" >/dev/null 2>&1; then echo "FAIL: replay without a log succeeded"; fail=1; fi
if "$MAILSCREEN" replay -c "$tmp/ms.conf" - - </dev/null >/dev/null 2>&1; then
	echo "FAIL: replay read standard input twice"; fail=1
fi
exit $fail

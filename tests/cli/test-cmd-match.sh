#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-match.sh - "mailscreen match --missed" prints the lines no
# filter made an event of (escaped, as a table or JSON), --missed=FILTER
# only those whose program tag that filter takes; "mailscreen match
# --regex" tries one regex with a filter file's checks.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-match.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
cat >"$tmp/t.conf" <<'CONF'
[t-fail]
program = dovecot
event   = auth-fail
regex   = ^fail: rip=(?<ip>[0-9.]+), user=<(?<user>[^>]*)>$

[t-smtp]
program = postfix/smtpd
event   = connect
regex   = ^connect from \S+\[(?<ip>[0-9.]+)\]$
CONF
printf '%s\n' \
	'Nov 22 10:00:00 mx dovecot: fail: rip=192.0.2.1, user=<a>' \
	'Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2 with "quotes"' \
	'Nov 22 10:00:02 mx postfix/smtpd[12]: connect from x[192.0.2.3]' \
	'Nov 22 10:00:03 mx postfix/smtpd[12]: lost connection' \
	'Nov 22 10:00:04 mx cron[1]: tick' >"$tmp/log"
printf 'Nov 22 10:00:05 mx dovecot: esc \033[31m\\ here\n' >>"$tmp/log"

check() {   # name, want file, command...
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then echo "FAIL: $name: exit $rc: $(cat "$tmp/err")"; fail=1; fi
	if ! diff -u "$want" "$tmp/out"; then echo "FAIL: $name: output differs (above)"; fail=1; fi
}

cat >"$tmp/want" <<'WANT'
     2  Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2 with "quotes"
     4  Nov 22 10:00:03 mx postfix/smtpd[12]: lost connection
     5  Nov 22 10:00:04 mx cron[1]: tick
     6  Nov 22 10:00:05 mx dovecot: esc \x1b[31m\x5c here
WANT
check "--missed" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --missed "$tmp/log"

cat >"$tmp/want" <<'WANT'
     2  Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2 with "quotes"
     6  Nov 22 10:00:05 mx dovecot: esc \x1b[31m\x5c here
WANT
check "--missed=t-fail" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --missed=t-fail "$tmp/log"

cat >"$tmp/want" <<'WANT'
{"line": 4, "missed": "Nov 22 10:00:03 mx postfix/smtpd[12]: lost connection"}
WANT
check "--missed=t-smtp --json" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --missed=t-smtp --json "$tmp/log"

cat >"$tmp/want" <<'WANT'
{"line": 2, "missed": "Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2 with \"quotes\""}
{"line": 4, "missed": "Nov 22 10:00:03 mx postfix/smtpd[12]: lost connection"}
{"line": 5, "missed": "Nov 22 10:00:04 mx cron[1]: tick"}
{"line": 6, "missed": "Nov 22 10:00:05 mx dovecot: esc \u001b[31m\\ here"}
WANT
check "--missed --json" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --missed --json "$tmp/log"

out=$("$MAILSCREEN" match --filter "$tmp/t.conf" --missed=nope "$tmp/log" 2>&1)
rc=$?
if [ $rc -ne 1 ] || [ "$out" != "mailscreen match: --missed: no filter named 'nope' is loaded" ]; then
	echo "FAIL: --missed=nope: exit $rc, output: $out"; fail=1
fi

# --regex: a match (program and event given), a no-match, a refusal
cat >"$tmp/want" <<'WANT'
{"line": 3, "filter": "regex", "event": "connect", "ip": "192.0.2.3", "count": 1}
WANT
"$MAILSCREEN" match --regex '^connect from \S+\[(?<ip>[0-9.]+)\]$' --program 'postfix/*' --event connect \
	--json "$tmp/log" 2>"$tmp/err" | sed 's/, "time": "[^"]*"//' >"$tmp/out"
if ! diff -u "$tmp/want" "$tmp/out"; then echo "FAIL: --regex match: output differs (above)"; fail=1; fi

check "--regex no match" /dev/null "$MAILSCREEN" match --regex '^connect from \S+\[(?<ip>[0-9.]+)\]$' \
	--program dovecot --json "$tmp/log"

cat >"$tmp/want" <<'WANT'
     1  Nov 22 10:00:00 mx dovecot: fail: rip=192.0.2.1, user=<a>
     2  Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2 with "quotes"
     6  Nov 22 10:00:05 mx dovecot: esc \x1b[31m\x5c here
WANT
check "--regex --missed=regex" "$tmp/want" "$MAILSCREEN" match --regex '^lost (?<user>connection)$' \
	--program 'dovecot' --missed=regex "$tmp/log"

out=$("$MAILSCREEN" match --regex '^fail: rip=[0-9.]+' "$tmp/log" 2>&1)
rc=$?
if [ $rc -ne 1 ] || [ "$out" != "mailscreen match: --regex: regex has neither (?<ip>...) nor (?<user>...): it could not name whom to count" ]; then
	echo "FAIL: --regex without ip/user: exit $rc, output: $out"; fail=1
fi
[ $fail -eq 0 ] && echo "ok"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-match.sh - "mailscreen match --missed" prints the lines no
# filter made an event of (escaped, as a table or JSON), --missed=FILTER
# only those whose program tag that filter takes; "mailscreen match
# --regex" tries one regex with a filter file's checks; --explain shows
# each line's header and what each filter tried made of it (text, JSON,
# bounded); fail2ban macros in a regex and filters no line ran are
# warned about; --format counts the lines of another format.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
TZ=UTC
export TZ
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

# --explain: the header (form, stamp, UTC, host, program, pid) and, per
# filter tried, the regex that matched and its groups, no match, an ignore
# that cancelled; lines no filter takes say so. The stamps have no year:
# the file's date gives it.
cat >"$tmp/x.conf" <<'CONF'
[x-fail]
program = dovecot
event   = auth-fail
regex   = ^fail: rip=(?<ip>[0-9.]+), user=<(?<user>[^>]*)>$
regex   = ^fail: (rip)=(?<ip>[0-9.]+)$
ignore  = user=<ignored>

[x-count]
program = auth
event   = auth-fail
regex   = ^(?<count>[0-9]+) failures from (?<ip>\S+)$
CONF
printf '%s\n' \
	'Nov 22 10:00:00 mx dovecot: fail: rip=192.0.2.1, user=<a>' \
	'Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2' \
	'Nov 22 10:00:02 mx dovecot: fail: rip=192.0.2.9, user=<ignored>' \
	'Nov 22 10:00:03 mx dovecot: hello' \
	'2026-11-22T10:00:04.250+01:00 mx auth[7]: 0 failures from 192.0.2.4' \
	'2013-08-11 03:56:40 auth: 2 failures from 192.0.2.x' \
	'@4000000069232f1b1c2d3e4f cron[3]: tick' \
	'no header at all' >"$tmp/xlog"
touch -d 2026-11-23T00:00:00Z "$tmp/xlog"
cat >"$tmp/want" <<'WANT'
     1  Nov 22 10:00:00 mx dovecot: fail: rip=192.0.2.1, user=<a>
        header: rfc3164 'Nov 22 10:00:00' = 2026-11-22T10:00:00Z, host mx, program dovecot, pid -
        x-fail (x.conf): regex 1 (line 4) matched: event auth-fail; ip=192.0.2.1 user=a
     2  Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2
        header: rfc3164 'Nov 22 10:00:01' = 2026-11-22T10:00:01Z, host mx, program dovecot, pid -
        x-fail (x.conf): regex 2 (line 5) matched: event auth-fail; 1=rip ip=192.0.2.2
     3  Nov 22 10:00:02 mx dovecot: fail: rip=192.0.2.9, user=<ignored>
        header: rfc3164 'Nov 22 10:00:02' = 2026-11-22T10:00:02Z, host mx, program dovecot, pid -
        x-fail (x.conf): regex 1 (line 4) matched, ignore 1 (line 6) cancelled the event; ip=192.0.2.9 user=ignored
     4  Nov 22 10:00:03 mx dovecot: hello
        header: rfc3164 'Nov 22 10:00:03' = 2026-11-22T10:00:03Z, host mx, program dovecot, pid -
        x-fail (x.conf): no regex matched (2 tried)
     5  2026-11-22T10:00:04.250+01:00 mx auth[7]: 0 failures from 192.0.2.4
        header: rfc3339 '2026-11-22T10:00:04.250+01:00' = 2026-11-22T09:00:04.250000Z, host mx, program auth, pid 7
        x-count (x.conf): regex 1 (line 11) matched, but (?<count>) is 0 or no number: no event; count=0 ip=192.0.2.4
     6  2013-08-11 03:56:40 auth: 2 failures from 192.0.2.x
        header: spaced '2013-08-11 03:56:40' = 2013-08-11T03:56:40Z, host -, program auth, pid -
        x-count (x.conf): regex 1 (line 11) matched, but (?<ip>) is no address: no event; count=2 ip=192.0.2.x
     7  @4000000069232f1b1c2d3e4f cron[3]: tick
        header: tai64n '@4000000069232f1b1c2d3e4f' = 2025-11-23T15:57:42.472727Z, host -, program cron, pid 3
        no filter takes program 'cron'
     8  no header at all
        header: none = -, host -, program -, pid -
        no filter takes untagged lines
WANT
check "--explain" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/x.conf" --explain "$tmp/xlog"

# --explain=N: the first N lines, the rest only counted (and said so)
head -n 6 "$tmp/want" >"$tmp/want2"
check "--explain=2" "$tmp/want2" "$MAILSCREEN" match --filter "$tmp/x.conf" --explain=2 "$tmp/xlog"
grep -q '^explained the first 2 lines only (--explain=N for more, 0 for all)$' "$tmp/err" ||
	{ echo "FAIL: --explain=2: no note of the bound: $(cat "$tmp/err")"; fail=1; }
grep -q '^lines read: 8, lines with events: 2, events: 2,' "$tmp/err" ||
	{ echo "FAIL: --explain=2: the rest not counted: $(cat "$tmp/err")"; fail=1; }

# --explain --missed --json: only the lines without events, one object each
cat >"$tmp/want" <<'WANT'
{"line": 3, "raw": "Nov 22 10:00:02 mx dovecot: fail: rip=192.0.2.9, user=<ignored>", "header": {"form": "rfc3164", "stamp": "Nov 22 10:00:02", "time": "2026-11-22T10:00:02Z", "host": "mx", "program": "dovecot"}, "filters": [{"filter": "x-fail", "file": "x.conf", "outcome": "ignored", "regex": 1, "regex_line": 4, "ignore": 1, "ignore_line": 6, "groups": {"ip": "192.0.2.9", "user": "ignored"}}]}
{"line": 4, "raw": "Nov 22 10:00:03 mx dovecot: hello", "header": {"form": "rfc3164", "stamp": "Nov 22 10:00:03", "time": "2026-11-22T10:00:03Z", "host": "mx", "program": "dovecot"}, "filters": [{"filter": "x-fail", "file": "x.conf", "outcome": "no-match", "regexes": 2}]}
{"line": 5, "raw": "2026-11-22T10:00:04.250+01:00 mx auth[7]: 0 failures from 192.0.2.4", "header": {"form": "rfc3339", "stamp": "2026-11-22T10:00:04.250+01:00", "time": "2026-11-22T09:00:04.250000Z", "host": "mx", "program": "auth", "pid": 7}, "filters": [{"filter": "x-count", "file": "x.conf", "outcome": "zero-count", "regex": 1, "regex_line": 11, "groups": {"count": "0", "ip": "192.0.2.4"}}]}
{"line": 6, "raw": "2013-08-11 03:56:40 auth: 2 failures from 192.0.2.x", "header": {"form": "spaced", "stamp": "2013-08-11 03:56:40", "time": "2013-08-11T03:56:40Z", "program": "auth"}, "filters": [{"filter": "x-count", "file": "x.conf", "outcome": "bad-ip", "regex": 1, "regex_line": 11, "groups": {"count": "2", "ip": "192.0.2.x"}}]}
{"line": 7, "raw": "@4000000069232f1b1c2d3e4f cron[3]: tick", "header": {"form": "tai64n", "stamp": "@4000000069232f1b1c2d3e4f", "time": "2025-11-23T15:57:42.472727Z", "program": "cron", "pid": 3}, "filters": []}
{"line": 8, "raw": "no header at all", "header": {"form": "none"}, "filters": []}
WANT
check "--explain --missed --json" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/x.conf" --explain --missed \
	--json "$tmp/xlog"

# --explain --missed=FILTER: only the missed lines that filter takes
cat >"$tmp/want" <<'WANT'
{"line": 3, "raw": "Nov 22 10:00:02 mx dovecot: fail: rip=192.0.2.9, user=<ignored>", "header": {"form": "rfc3164", "stamp": "Nov 22 10:00:02", "time": "2026-11-22T10:00:02Z", "host": "mx", "program": "dovecot"}, "filters": [{"filter": "x-fail", "file": "x.conf", "outcome": "ignored", "regex": 1, "regex_line": 4, "ignore": 1, "ignore_line": 6, "groups": {"ip": "192.0.2.9", "user": "ignored"}}]}
{"line": 4, "raw": "Nov 22 10:00:03 mx dovecot: hello", "header": {"form": "rfc3164", "stamp": "Nov 22 10:00:03", "time": "2026-11-22T10:00:03Z", "host": "mx", "program": "dovecot"}, "filters": [{"filter": "x-fail", "file": "x.conf", "outcome": "no-match", "regexes": 2}]}
WANT
check "--explain --missed=x-fail --json" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/x.conf" --explain \
	--missed=x-fail --json "$tmp/xlog"

# warnings: fail2ban macros (the filters still load), a filter no line ran
cat >"$tmp/f2b.conf" <<'CONF'
[f2b-host]
program = dovecot
event   = auth-fail
regex   = ^fail: rip=(?<ip>[0-9.]+), user=<F-USER>.*</F-USER>$
regex   = ^%(__prefix_line)sfail from <HOST>(?<user>x)?$

[f2b-exim]
program = exim exim4
event   = auth-fail
regex   = ^fail (?<ip>\S+)$
CONF
"$MAILSCREEN" match --filter "$tmp/f2b.conf" --quiet "$tmp/log" >"$tmp/out" 2>"$tmp/err"
rc=$?
grep 'warning' "$tmp/err" | sed "s|$tmp/||" >"$tmp/got"
cat >"$tmp/want" <<'WANT'
f2b.conf:4: warning: regex contains fail2ban's <F-USER>, which PCRE2 reads as literal text that never matches: capture the user with (?<user>...)
f2b.conf:5: warning: regex contains fail2ban's %(__prefix_line)s, which PCRE2 reads as literal text that never matches: remove it: mailscreen parses the syslog header itself and runs the regex on the message after "program[pid]: "
f2b.conf:8: warning: filter f2b-exim never ran: no line with program tag exim, exim4; the input's tags are: dovecot (3), postfix/smtpd (2), cron (1)
WANT
if [ $rc -ne 0 ] || ! diff -u "$tmp/want" "$tmp/got"; then echo "FAIL: warnings (exit $rc)"; fail=1; fi

# a <HOST> regex with no other group is refused, and the error says why
out=$("$MAILSCREEN" match --regex '^fail from <HOST>$' "$tmp/log" 2>&1)
rc=$?
if [ $rc -ne 1 ] || [ "$out" != "mailscreen match: --regex: regex has neither (?<ip>...) nor (?<user>...): it could not name whom to count (regex contains fail2ban's <HOST>, which PCRE2 reads as literal text that never matches: capture the address with (?<ip>...) where the server writes it, e.g. \\[(?<ip>[0-9A-Fa-f.:]+)\\])" ]; then
	echo "FAIL: --regex '<HOST>': exit $rc, output: $out"; fail=1
fi

# "mailscreen test" prints the macro warnings too
mkdir -p "$tmp/filters/samples"
cp "$tmp/f2b.conf" "$tmp/filters/f2b.conf"
printf '%s\n' 'Nov 22 10:00:00 mx cron[1]: tick' >"$tmp/filters/samples/f2b.log"
"$MAILSCREEN" test "$tmp/filters/f2b.conf" 2>&1 | grep -c 'warning: regex contains fail2ban' >"$tmp/got"
echo 2 >"$tmp/want"
if ! diff -u "$tmp/want" "$tmp/got"; then echo "FAIL: test: macro warnings"; fail=1; fi

# "mailscreen check" prints them as well, for the filters of its configuration
cat >"$tmp/check.conf" <<CONF
[daemon]
filters = $tmp/filters
rules = $(pwd)/rules
[source mail]
path = /var/log/mail.log
filters = f2b
CONF
"$MAILSCREEN" check -c "$tmp/check.conf" >/dev/null 2>"$tmp/err"
rc=$?
grep -c "^$tmp/filters/f2b.conf:[45]: warning: regex contains fail2ban" "$tmp/err" >"$tmp/got"
if [ $rc -ne 0 ] || ! diff -u "$tmp/want" "$tmp/got"; then echo "FAIL: check: macro warnings (exit $rc): $(cat "$tmp/err")"; fail=1; fi

# --format: lines of another format are counted, and matched all the same
printf '%s\n' \
	'Nov 02 10:00:00 mx postfix/smtpd[12]: connect from x[192.0.2.3]' \
	'Nov 22 10:00:01 postfix/smtpd[12]: connect from x[192.0.2.4]' \
	'2026-11-22T10:00:02Z mx postfix/smtpd[12]: connect from x[192.0.2.5]' >"$tmp/plog"
touch -d 2026-11-23T00:00:00Z "$tmp/plog"
"$MAILSCREEN" match --filter "$tmp/t.conf" --format postlog --json "$tmp/plog" >"$tmp/out" 2>"$tmp/err"
if [ "$(wc -l <"$tmp/out")" -ne 3 ] ||
   ! grep -q '^lines not in postlog format (matched all the same): 2$' "$tmp/err"; then
	echo "FAIL: --format postlog: $(cat "$tmp/out" "$tmp/err")"; fail=1
fi
"$MAILSCREEN" match --filter "$tmp/t.conf" --format postlog --explain "$tmp/plog" 2>/dev/null |
	grep -c '(not postlog format)$' >"$tmp/got"
echo 2 >"$tmp/want"
if ! diff -u "$tmp/want" "$tmp/got"; then echo "FAIL: --format --explain"; fail=1; fi
out=$("$MAILSCREEN" match --filter "$tmp/t.conf" --format rfc "$tmp/plog" 2>&1)
rc=$?
if [ $rc -ne 2 ] || [ "$out" != "mailscreen match: --format 'rfc': use auto, syslog, postlog, dovecot or multilog" ]; then
	echo "FAIL: --format rfc: exit $rc, output: $out"; fail=1
fi
[ $fail -eq 0 ] && echo "ok"
exit $fail

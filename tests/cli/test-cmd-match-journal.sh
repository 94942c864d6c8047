#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-match-journal.sh - "mailscreen match --journal UNIT" reads the
# systemd journal through the daemon's reader: the entries of the named
# unit, not those of another unit that claims the same program tag; with
# --since only the entries from then on; --explain names the header form
# "journal".
#
# The journal is private: a directory written by systemd-journal-remote
# from export-format text (as journald would store Postfix's entries), read
# with --journal-path, so neither a running journald nor the host's journal
# is needed. Exit 77 (skip) only if systemd-journal-remote is missing.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
fail=0
. "$(dirname "$0")/lib.sh"
BOOT=0123456789abcdef0123456789abcdef
T0=1795341600     # 2026-11-22T10:00:00Z

# entry SECONDS_AFTER_T0 UNIT PID MESSAGE - one export-format entry
seq=0
entry() {
	seq=$((seq + 1))
	printf '__REALTIME_TIMESTAMP=%s000000\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_HOSTNAME=mx\n' \
		$((T0 + $1)) $((1000000 + seq)) $BOOT
	printf '_SYSTEMD_UNIT=%s\nSYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=%s\n_PID=%s\nMESSAGE=%s\n\n' \
		"$2" "$3" "$3" "$4"
}
entries() {
	entry 0 postfix@-.service 101 "connect from unknown[192.0.2.1]"
	entry 1 evil.service 666 "connect from unknown[203.0.113.66]"
	entry 2 postfix@-.service 102 "lost connection after AUTH from unknown[192.0.2.2]"
	entry 3600 postfix@-.service 103 "connect from unknown[192.0.2.3]"
}
private_journal entries
cat >"$tmp/t.conf" <<'CONF'
[t-connect]
program = postfix/smtpd
event   = connect
regex   = ^connect from \S+\[(?<ip>[0-9.]+)\]$
CONF

check() {   # name, want file, command...
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then echo "FAIL: $name: exit $rc: $(cat "$tmp/err")"; fail=1; fi
	if ! diff -u "$want" "$tmp/out"; then echo "FAIL: $name: output differs (above)"; fail=1; fi
}

cat >"$tmp/want" <<'WANT'
{"line": 1, "time": "2026-11-22T10:00:00Z", "filter": "t-connect", "event": "connect", "ip": "192.0.2.1", "count": 1}
{"line": 3, "time": "2026-11-22T11:00:00Z", "filter": "t-connect", "event": "connect", "ip": "192.0.2.3", "count": 1}
WANT
check "--journal UNIT" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --json \
	--journal postfix@-.service --journal-path "$tmp/j"
grep -q '^lines read: 3, lines with events: 2, events: 2' "$tmp/err" ||
	{ echo "FAIL: --journal UNIT: summary: $(cat "$tmp/err")"; fail=1; }

# two units, space-separated: evil.service's entry is read too
cat >"$tmp/want" <<'WANT'
{"line": 1, "time": "2026-11-22T10:00:00Z", "filter": "t-connect", "event": "connect", "ip": "192.0.2.1", "count": 1}
{"line": 2, "time": "2026-11-22T10:00:01Z", "filter": "t-connect", "event": "connect", "ip": "203.0.113.66", "count": 1}
{"line": 4, "time": "2026-11-22T11:00:00Z", "filter": "t-connect", "event": "connect", "ip": "192.0.2.3", "count": 1}
WANT
check "--journal 'A B'" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --json \
	--journal 'postfix@-.service evil' --journal-path "$tmp/j"

cat >"$tmp/want" <<'WANT'
{"line": 1, "time": "2026-11-22T11:00:00Z", "filter": "t-connect", "event": "connect", "ip": "192.0.2.3", "count": 1}
WANT
check "--since" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --json \
	--journal postfix@-.service --journal-path "$tmp/j" --since 2026-11-22T10:30:00Z

cat >"$tmp/want" <<'WANT'
     2  postfix/smtpd[102]: lost connection after AUTH from unknown[192.0.2.2]
        header: journal = 2026-11-22T10:00:02Z, host mx, program postfix/smtpd, pid 102
        t-connect (t.conf): no regex matched (1 tried)
WANT
check "--journal --explain --missed" "$tmp/want" "$MAILSCREEN" match --filter "$tmp/t.conf" --explain \
	--missed --journal postfix@-.service --journal-path "$tmp/j"

out=$("$MAILSCREEN" match --filter "$tmp/t.conf" --journal postfix --journal-path "$tmp/j" "$tmp/t.conf" 2>&1)
rc=$?
if [ $rc -ne 2 ] || [ "$out" != "mailscreen match: --journal reads no file ('$tmp/t.conf' is extra)" ]; then
	echo "FAIL: --journal with a file: exit $rc, output: $out"; fail=1
fi
[ $fail -eq 0 ] && echo "ok"
exit $fail

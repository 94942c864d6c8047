#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-check-journal.sh - "mailscreen check" warns (stderr, exit
# status 0) about a journal source's unit or match that has no entry in the
# journal - a typo, or a service that logs elsewhere - and not about one
# that has entries.
#
# The journal is private (systemd-journal-remote from export-format text,
# read with journal_path), so the host's journal plays no part. Exit 77
# (skip) only if systemd-journal-remote is missing.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
fail=0
. "$(dirname "$0")/lib.sh"
# one entry of postfix@-.service, with SYSLOG_IDENTIFIER=postfix/smtpd
entries() {
	printf '__REALTIME_TIMESTAMP=1795341600000000\n__MONOTONIC_TIMESTAMP=1000001\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mx\n_SYSTEMD_UNIT=postfix@-.service\nSYSLOG_IDENTIFIER=postfix/smtpd\nSYSLOG_PID=101\n_PID=101\nMESSAGE=connect from unknown[192.0.2.1]\n\n'
}
private_journal entries
cat >"$tmp/a.conf" <<CONF
[daemon]
filters = $(pwd)/filters
rules = $(pwd)/rules
[source mail]
journal = postfix@-.service dovcot SYSLOG_IDENTIFIER=postfix/smtpd SYSLOG_IDENTIFIER=exim
journal_path = $tmp/j
filters = postfix dovecot
CONF
"$MAILSCREEN" check -c "$tmp/a.conf" >"$tmp/out" 2>"$tmp/err"
expect "exit status" 0 $?
expect "still ok" ok "$(tail -n 1 "$tmp/out")"
expect "a warning for each term without entries, none for the others" \
"$tmp/a.conf: warning: [source mail] journal 'dovcot': no entry in journal '$tmp/j' (a typo? or the service logs elsewhere; 'journalctl -u UNIT' shows a unit's lines)
$tmp/a.conf: warning: [source mail] journal 'SYSLOG_IDENTIFIER=exim': no entry in journal '$tmp/j' (a typo? or the service logs elsewhere; 'journalctl -u UNIT' shows a unit's lines)" \
	"$(cat "$tmp/err")"
"$MAILSCREEN" check -q -c "$tmp/a.conf" >"$tmp/out" 2>"$tmp/err"
expect "-q: exit status" 0 $?
expect "-q: the warnings still go to stderr" 2 "$(wc -l < "$tmp/err")"
exit $fail

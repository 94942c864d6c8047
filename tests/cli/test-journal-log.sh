#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-journal-log.sh - when stderr is the systemd journal (JOURNAL_STREAM
# names its device and inode, as systemd sets it for a service), each
# line starts with its syslog priority and without the program name the
# journal adds itself; when JOURNAL_STREAM names another file (stderr
# redirected), lines are as on a terminal.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-journal-log.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
: >"$tmp/err"
: >"$tmp/other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/err") "$MAILSCREEN" run -c "$tmp/none.conf" --foreground 2>"$tmp/err"
expect "stderr is the journal: priority, no name" \
	"<4>warning: $tmp/none.conf: cannot open: No such file or directory" "$(cat "$tmp/err")"
JOURNAL_STREAM=$(stat -c '%d:%i' "$tmp/other") "$MAILSCREEN" run -c "$tmp/none.conf" --foreground 2>"$tmp/err"
expect "stderr redirected elsewhere: plain lines" \
	"mailscreen: warning: $tmp/none.conf: cannot open: No such file or directory" "$(cat "$tmp/err")"
JOURNAL_STREAM=garbage "$MAILSCREEN" run -c "$tmp/none.conf" --foreground 2>"$tmp/err"
expect "a malformed JOURNAL_STREAM is ignored" \
	"mailscreen: warning: $tmp/none.conf: cannot open: No such file or directory" "$(cat "$tmp/err")"
exit $fail

# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib.sh - what the CLI tests share; sourced, with fail=0 set by the test.

. "$(dirname "$0")/../tools/journal-remote.sh"

# expect WHAT WANT GOT - "ok - WHAT", or "not ok - ..." and fail=1
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected '$2', got '$3'"
		fail=1
	fi
}

# private_journal MAKE... - a private systemd journal for the test, so that
# neither a running journald nor the host's journal plays a part: makes the
# temporary directory $tmp (removed on exit) and in it the journal
# directory $tmp/j, whose file systemd-journal-remote ($JR) writes from the
# export-format text that the command MAKE... prints (as journald would
# store the entries; kept in $tmp/export). Exits 77 (skip) if
# systemd-journal-remote is missing, 1 if it fails.
private_journal() {
	if ! find_journal_remote; then
		echo "skip: systemd-journal-remote is missing (apt-get install systemd-journal-remote)"
		exit 77
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$0" .sh).XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
	mkdir "$tmp/j"
	"$@" >"$tmp/export"
	if ! "$JR" -o "$tmp/j/x.journal" - <"$tmp/export" >"$tmp/jr.out" 2>&1; then
		echo "FAIL: systemd-journal-remote: $(cat "$tmp/jr.out")"
		exit 1
	fi
}

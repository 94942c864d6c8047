# SPDX-License-Identifier: GPL-2.0-or-later
# journal-remote.sh - sourced by the test libraries (tests/cli/lib.sh,
# tests/netns/lib.sh): where systemd-journal-remote is, which the tests use
# to write journal files of their own.

# find_journal_remote - JR: the path of systemd-journal-remote; returns 1
# (JR empty) if it is not installed
find_journal_remote() {
	JR=
	for c in /usr/lib/systemd/systemd-journal-remote /lib/systemd/systemd-journal-remote; do
		[ -x "$c" ] && JR=$c && return 0
	done
	return 1
}

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_rotation.sh - log rotation loses no line and reads none twice.
#
# One daemon follows mail.log through four rotations in a row, each by a
# different method, and a second file that does not exist (nor does its
# directory) when the daemon starts. For each, one attacker's 5 failures
# are split across the rotation:
#   - 4 failures (2 before, 2 after) do not block: a barrier (5 failures
#     from another address, written after them to the same file) is blocked
#     first, so every earlier line has been read - a line read twice would
#     have made the 4 count 5 or more;
#   - the 5th failure blocks: no line was lost.
# Methods: rename-and-create (mv mail.log mail.log.1; new mail.log; the old
# file still gets a line after the rename, as from a logger not yet told
# to reopen), copytruncate as logrotate does it (mv mail.log.1 mail.log.2;
# cp mail.log mail.log.1; truncate -s 0 mail.log), plain truncation
# (: > mail.log), delete-and-recreate (rm; new file).
#
# Truncation destroys whatever was not read yet, for any reader (logrotate's
# manual says as much of copytruncate), so a barrier before each rotation
# makes sure the first 2 failures were read, as a real log's lines have long
# been when it is rotated.
# Run by run.sh, which has sourced lib.sh.

LATE=$MS_TMP/late/mail.log

ms_config "[source late]
path = $LATE
filters = $(ms_filter_names)"
: > "$MS_LOG"
ms_start
wait_log 'source late: '

# split N METHOD - attacker 203.0.113.N: 2 failures, a barrier, then METHOD
# rotates and writes 2 more around the rotation; 4 must not block (a second
# barrier shows they were read), a 5th must.
split() {
	a=203.0.113.$1
	say "$2: $a"
	sasl_fail $a 2
	barrier 198.51.100.$(($1 + 100))
	$2 $a
	barrier 198.51.100.$(($1 + 200))
	assert_no_element $a
	sasl_fail $a
	wait_for_element $a
}

rename_and_create() {
	mv "$MS_LOG" "$MS_LOG.1"
	sasl_fail "$1" 1 "$MS_LOG.1"    # the 3rd failure, to the old file
	: > "$MS_LOG"
	sasl_fail "$1" 1
}

copytruncate() {
	mv "$MS_LOG.1" "$MS_LOG.2"
	cp "$MS_LOG" "$MS_LOG.1"
	truncate -s 0 "$MS_LOG"
	sasl_fail "$1" 2
}

truncation() {
	: > "$MS_LOG"
	sasl_fail "$1" 2
}

delete_and_recreate() {
	rm "$MS_LOG"
	sasl_fail "$1" 2
}

split 11 rename_and_create
split 12 copytruncate
split 13 truncation
split 14 delete_and_recreate

say "a file (and directory) missing at start is read from its first line when it appears"
mkdir "$MS_TMP/late"
sasl_fail 203.0.113.15 4 "$LATE"
barrier 198.51.100.215 "$LATE"
assert_no_element 203.0.113.15
sasl_fail 203.0.113.15 1 "$LATE"
wait_for_element 203.0.113.15

ms_stop

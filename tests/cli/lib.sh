# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib.sh - what the CLI tests share; sourced, with fail=0 set by the test.

# expect WHAT WANT GOT - "ok - WHAT", or "not ok - ..." and fail=1
expect() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected '$2', got '$3'"
		fail=1
	fi
}

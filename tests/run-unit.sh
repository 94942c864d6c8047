#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run the unit test binaries given as arguments (Check framework); each
# prints its own "Checks: N, Failures: F, Errors: E" line.
fail=0
for t in "$@"; do
	echo "== $t"
	CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-30} "$t" || fail=1
done
exit $fail

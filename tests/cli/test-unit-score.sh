#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-unit-score.sh - the shipped systemd unit, scored without a running
# systemd (`systemd-analyze security --offline=yes`, systemd 250 and
# later):
#   - systemd reads every line of it (no unknown key, no bad value);
#   - its overall exposure is 2.5 or lower;
#   - each exposure left is named in an "Exposure (NAME):" comment of the
#     unit, which says why it stays.
# Skips where systemd-analyze is missing or too old for --offline.
UNIT=${UNIT:-contrib/mailscreen.service}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-unit-score.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze > /dev/null || { echo "skip: systemd-analyze is missing"; exit 77; }
command -v jq > /dev/null || { echo "skip: jq is missing (make deps)"; exit 77; }
if ! systemd-analyze security --offline=yes --json=short "$UNIT" > "$tmp/json" 2> "$tmp/err"; then
	if grep -q -e 'unrecognized option' -e 'Unknown option' "$tmp/err"; then
		echo "skip: this systemd-analyze cannot score a unit file offline: $(head -n 1 "$tmp/err")"
		exit 77
	fi
	echo "not ok - systemd-analyze security failed: $(cat "$tmp/err")"
	exit 1
fi

expect "systemd reads every line of $UNIT" "" "$(cat "$tmp/err")"

# --threshold is on the 0-100 scale of the score's tenths
LC_ALL=C systemd-analyze security --offline=yes --threshold=25 "$UNIT" > "$tmp/text" 2>&1
rc=$?
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/text")
echo "# exposure: $level"
expect "exposure 2.5 or lower (systemd-analyze --threshold=25 exits 0)" 0 "$rc"

jq -r '.[] | select(.set == false and .exposure != null) | .name' "$tmp/json" > "$tmp/left"
[ -s "$tmp/left" ] || { echo "not ok - no exposure listed: is this systemd-analyze's JSON? $(head -c 200 "$tmp/json")"; exit 1; }
while IFS= read -r name; do
	if grep -F -q -e "# Exposure ($name):" "$UNIT"; then
		echo "ok - exposure $name is explained"
	else
		echo "not ok - exposure $name has no \"# Exposure ($name):\" comment in $UNIT"
		fail=1
	fi
done < "$tmp/left"
exit $fail

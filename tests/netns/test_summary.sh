# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_summary.sh - with [logging] summary = minute, the summary of a
# minute is logged when it ends: its events by kind and service, the
# allow list's hits, its top addresses; a minute with nothing in it logs
# nothing. Waits for one real minute's boundary (at most a minute).
# Run by run.sh, which has sourced lib.sh.
# netns-timeout: 170

ms_config "
[logging]
summary = minute"
ms_start
log_mark
# one write, so that both lines fall in the same minute, and not in its
# last 10 seconds: a line read after the boundary (a slow, sanitized
# build) counts in the next minute, while this one's summary is awaited
while [ "$(date +%S)" -ge 50 ]; do sleep 0.2; done
sasl_fail 198.51.100.60 1 "$MS_TMP/lines"
sasl_fail $COLLEAGUE 1 "$MS_TMP/lines"
cat "$MS_TMP/lines" >> "$MS_LOG"
# the minute the lines counted in; under a loaded sanitized build they have
# been seen to count in the minute after the one they were written in
# (not yet explained), so up to two boundaries
MS_WAIT=130 wait_log '^mailscreen: summary of the minute from .*: events [1-9]'
line=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -m1 '^mailscreen: summary of the minute from .*: events [1-9]')
want='events 2 \(auth-fail 2; smtp 2\), blocks made 0, lifted 0, exempt [01], dropped 0 packets, top addresses 192\.0\.2\.10 \(1\), 198\.51\.100\.60 \(1\)'
printf '%s\n' "${line#*: *: }" | grep -E -x -q "$want" || fail "the lines' minute summary: expected /$want/, found '${line#*: *: }'"
ok "the lines' minute summary: ${line#*: *: }"
# the allow list's hit is in that summary or the one before it
tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep '^mailscreen: summary of the minute from ' | grep -q 'exempt 1' ||
	fail "no minute summary counts the allow list's hit"
ok "a minute summary counts the allow list's hit"
ms_stop

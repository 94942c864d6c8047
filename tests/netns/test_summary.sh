# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_summary.sh - with [logging] summary = minute, the summary of a
# minute is logged when it ends: its events by kind and service, the
# allow list's hits, its top addresses; a minute with nothing in it logs
# nothing. Waits for two real minutes' boundaries (at most two minutes).
# Run by run.sh, which has sourced lib.sh.
# netns-timeout: 170

ms_config "
[logging]
summary = minute"
ms_start
log_mark
# one write, so that both lines fall in the same minute, made just after a
# minute's boundary: read before the daemon's timer for that boundary has
# fired, their allow-list hit must still count with them, in the minute
# that began (it once was counted by the timer, in the minute that ended)
sasl_fail 198.51.100.60 1 "$MS_TMP/lines"
sasl_fail $COLLEAGUE 1 "$MS_TMP/lines"
while [ "$(date +%S)" != 59 ]; do sleep 0.2; done
while [ "$(date +%S)" = 59 ]; do :; done
cat "$MS_TMP/lines" >> "$MS_LOG"
# their minute's summary, at its end
MS_WAIT=75 wait_log '^mailscreen: summary of the minute from .*: events [1-9]'
line=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -m1 '^mailscreen: summary of the minute from .*: events [1-9]')
want='events 2 (auth-fail 2; smtp 2), blocks made 0, lifted 0, exempt 1, dropped 0 packets, top addresses 192.0.2.10 (1), 198.51.100.60 (1)'
[ "${line#*: *: }" = "$want" ] || fail "the lines' minute summary: expected '$want', found '${line#*: *: }'"
ok "the lines' minute summary: ${line#*: *: }"
# no other summary since: the lines' minute holds all of it
n=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -c '^mailscreen: summary of the minute from ')
[ "$n" = 1 ] || fail "$n minute summaries since the lines, expected only theirs"
ok "no other minute has anything"
ms_stop

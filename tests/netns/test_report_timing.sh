# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_report_timing.sh - the report mail and the summaries come at the
# real boundaries of the daemon's clock: the daily report at local
# midnight (in the daemon's time zone, a half-hour one included), the
# hourly one at the hour, none at an hour that is not midnight when the
# report is daily. The daemon's wall clock is set a few seconds before
# each boundary by build/tests/clockshift.so (tests/netns/clockshift.c),
# preloaded into the daemon alone; it runs at the real rate, and the
# monotonic clock and the daemon's timers stay real, so each case waits
# about ten real seconds.
#
# sendmail is a stand-in recording its arguments and input. Run by run.sh,
# which has sourced lib.sh.
# netns-timeout: 120

SHIFT_LIB=$MS_REPO/build/tests/clockshift.so
[ -e "$SHIFT_LIB" ] || fail "$SHIFT_LIB is not built (make build/tests/clockshift.so)"
MAILS=$MS_TMP/mails
sendmail_standin "$MAILS"
REAL_BIN=$MS_BIN

# at TZ TIME - the daemon (ms_start) starts with its wall clock at TIME,
# local time in TZ (the control commands keep the real clock)
at() {
	shift_s=$(( $(TZ=$1 date -d "$2" +%s) - $(date +%s) ))
	cat > "$MS_TMP/shifted" <<EOS
#!/bin/sh
export TZ='$1' MS_CLOCK_SHIFT=$shift_s LD_PRELOAD='$SHIFT_LIB'
# a sanitized build wants its runtime first; clockshift only wraps clocks
export ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0"
exec '$REAL_BIN' "\$@"
EOS
	chmod 755 "$MS_TMP/shifted"
	MS_BIN=$MS_TMP/shifted
	# each run's clock is another: no state from the last one
	rm -rf "$MS_TMP/state"
	mkdir -p "$MS_TMP/state"
}

# config REPORT - [notify] with report = REPORT, hour and day summaries
config() {
	ms_config "
[logging]
summary = hour day

[notify]
mail_to = root@example.org
sendmail = $MS_TMP/sendmail
report = $1"
}

mails() { wc -l < "$MAILS/log"; }

say "report = daily: at local midnight (UTC), the day's summary and the report mail"
config daily
at UTC "2026-12-07 23:59:52"
ms_start
[ "$(mails)" = 0 ] || fail "a mail before midnight: $(cat "$MAILS"/*.msg)"
MS_WAIT=20 wait_log '^mailscreen: summary of the day from 2026-12-07 00:00:00 \+0000'
MS_WAIT=20 wait_for_line "$MAILS/log" 0 '^done 1$' "$MS_PID" || fail "no report mail at midnight: $(cat "$MS_DLOG")"
grep -q '^Subject: mailscreen on .*: report of the day$' "$MAILS/1.msg" || fail "report mail: $(head -12 "$MAILS/1.msg")"
assert_eq "the report mail's recipient" "-i -- root@example.org" "$(tr '\n' ' ' < "$MAILS/1.argv" | sed 's/ $//')"
ok "the daily report mailed at midnight"
grep -q '^mailscreen: summary of the hour from 2026-12-07 23:00:00 +0000' "$MS_DLOG" || fail "no hour summary at midnight"
ok "the hour's summary too"
ms_stop
[ "$(mails)" = 1 ] || fail "$(mails) mails, expected the one report"

say "report = daily: an hour that is not midnight gives the hour's summary, no mail"
at UTC "2026-12-07 22:59:52"
ms_start
MS_WAIT=20 wait_log '^mailscreen: summary of the hour from 2026-12-07 22:00:00 \+0000'
ms_stop
[ "$(mails)" = 1 ] || fail "a report mail at 23:00 with report = daily: $(cat "$MAILS/2.msg")"
[ "$(grep -c 'summary of the day' "$MS_DLOG")" = 1 ] || fail "a day summary at 23:00: $(grep 'summary of the day' "$MS_DLOG")"
ok "no report mail, no day summary at 23:00"

say "report = daily in a half-hour zone (Asia/Kolkata, +05:30): at its midnight, 18:30 UTC"
at Asia/Kolkata "2026-12-08 23:59:45"
ms_start
# a failed login in the day's last minutes: its UTC hour (18:00-19:00)
# straddles the local midnight, and it must count in the day all the same
sasl_fail 198.51.100.70 1
MS_WAIT=25 wait_log '^mailscreen: summary of the day from 2026-12-08 00:00:00 \+0530'
day=$(grep '^mailscreen: summary of the day from 2026-12-08 00:00:00 +0530' "$MS_DLOG")
case $day in
*": events 1 (auth-fail 1; smtp 1), "*"top addresses 198.51.100.70 (1)"*) ;;
*) fail "the day's summary does not count the day's last failed login: $day" ;;
esac
ok "the local day's summary counts its last minutes: ${day#*: *: }"
MS_WAIT=20 wait_for_line "$MAILS/log" 0 '^done 2$' "$MS_PID" || fail "no report mail at Kolkata's midnight: $(cat "$MS_DLOG")"
grep -q '^Subject: mailscreen on .*: report of the day$' "$MAILS/2.msg" || fail "report mail: $(head -12 "$MAILS/2.msg")"
grep -q '198\.51\.100\.70' "$MAILS/2.msg" || fail "the day's report mail does not name the day's offender: $(cat "$MAILS/2.msg")"
ok "the daily report mailed at local midnight, not at UTC's, with the day's last minutes"
ms_stop

say "report = hourly: at the hour"
config hourly
at UTC "2026-12-07 12:59:52"
ms_start
MS_WAIT=20 wait_for_line "$MAILS/log" 0 '^done 3$' "$MS_PID" || fail "no report mail at 13:00: $(cat "$MS_DLOG")"
grep -q '^Subject: mailscreen on .*: report of the hour$' "$MAILS/3.msg" || fail "report mail: $(head -12 "$MAILS/3.msg")"
[ "$(grep -c 'summary of the day' "$MS_DLOG")" = 2 ] || fail "a day summary at 13:00: $(grep 'summary of the day' "$MS_DLOG")"
ok "the hourly report mailed at 13:00"
ms_stop

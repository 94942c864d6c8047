# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_detached_log.sh - a daemon that detaches (no --foreground) where no
# syslog listens at /dev/log says where its log goes, before it detaches,
# and loses none of it.
#
# /dev/log is made absent in this test's private mount namespace (a bind
# mount of /dev/null over the socket it leads to, if there is one; the
# host's is untouched), and /var/log is a private tmpfs.
#
#   - standard error a file: "no syslog at /dev/log (...): the log goes to
#     standard error, as started (FILE)", then the daemon's lines there,
#     with time and pid (start, a block by hand);
#   - standard error /dev/null: the same notice goes nowhere, so the log
#     goes to /var/log/mailscreen.log, which gets the daemon's lines;
#   - that file cannot be opened either (a read-only /var/log): the daemon
#     does not start (exit status 1).
# Run by run.sh, which has sourced lib.sh.

if [ -e /dev/log ] || [ -L /dev/log ]; then
	target=$(readlink -f /dev/log)
	if [ -e "$target" ]; then
		mount --bind /dev/null "$target" || fail "cannot hide $target in this mount namespace"
	fi
fi
mount -t tmpfs -o mode=0755 tmpfs /var/log || fail "cannot mount a private tmpfs over /var/log"
ms_config

# stop_detached PID - SIGTERM to a daemon that is not our child; wait
# until it is gone
stop_detached() {
	kill -TERM "$1" || fail "daemon $1 is not running"
	timeout "$MS_WAIT" tail --pid="$1" -f /dev/null || fail "daemon $1 did not stop on SIGTERM"
	ok "detached daemon $1 stopped"
}

say "standard error a file: the log stays there, and it says so first"
E=$MS_TMP/detached.err
"$MS_BIN" run -c "$MS_CONF" 2> "$E" || fail "run (detached) exited $?: $(cat "$E")"
wait_for_line "$E" 0 ' mailscreen\[[0-9]+\]: started with ' || fail "no 'started' line in $E: $(cat "$E")"
assert_eq "the first line says where the log goes" \
	"mailscreen: no syslog at /dev/log (No such file or directory): the log goes to standard error, as started ($E)" \
	"$(head -n 1 "$E" | sed 's/(Connection refused)/(No such file or directory)/')"
pid=$(sed -n 's/.* mailscreen\[\([0-9]*\)\]: started with .*/\1/p' "$E")
ctl_ok block 203.0.113.9 1h
wait_for_line "$E" 0 "^[0-9T:+-]+ mailscreen\[$pid\]: block 203\.0\.113\.9 for 1h: manual" ||
	fail "the block is not in $E: $(cat "$E")"
ok "the daemon's lines, with time and pid, in $E"
stop_detached "$pid"

say "standard error /dev/null: the log goes to /var/log/mailscreen.log"
"$MS_BIN" run -c "$MS_CONF" 2> /dev/null || fail "run (detached) exited $?"
wait_for_line /var/log/mailscreen.log 0 ' mailscreen\[[0-9]+\]: started with ' ||
	fail "no 'started' line in /var/log/mailscreen.log: $(cat /var/log/mailscreen.log 2>&1)"
pid=$(sed -n 's/.* mailscreen\[\([0-9]*\)\]: started with .*/\1/p' /var/log/mailscreen.log)
ok "the log is in /var/log/mailscreen.log (pid $pid)"
stop_detached "$pid"
wait_for_line /var/log/mailscreen.log 0 "mailscreen\[$pid\]: .*stopping" || fail "the stop is not logged"

say "and when that file cannot be opened either, no start"
rm /var/log/mailscreen.log
mount -o remount,ro /var/log || fail "cannot make the private /var/log read-only"
"$MS_BIN" run -c "$MS_CONF" 2> /dev/null
rc=$?
[ $rc -eq 1 ] || fail "run with no syslog and no log file: exit status $rc, expected 1"
ms_ctl status && fail "a daemon runs, logging nowhere"
ok "not started: exit status 1"

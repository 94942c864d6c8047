# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_sd_notify.sh - what the daemon tells systemd (Type=notify) through
# NOTIFY_SOCKET, read here by tcpprobe's notify socket:
#   - READY=1 at start, then a STATUS= line with what it holds;
#   - a block made later updates STATUS= (blocks counted);
#   - SIGHUP: RELOADING=1, then READY=1 and "STATUS=reloaded; ...";
#   - SIGHUP with a broken configuration: RELOADING=1, READY=1 and
#     "STATUS=reload refused, the running configuration stays in force; ..."
#     (the daemon goes on with the old configuration);
#   - STOPPING=1 at SIGTERM.
# Run by run.sh, which has sourced lib.sh.

NOTIFY_OUT=$MS_TMP/notify.out
"$MS_PROBE" notify "$MS_TMP/notify.sock" > "$NOTIFY_OUT" &
NOTIFY_PID=$!
wait_until "the notify socket listens" grep -qx listening "$NOTIFY_OUT"
notify_has() { grep -q -e "$1" "$NOTIFY_OUT"; }
notify_count() { grep -c -e "$1" "$NOTIFY_OUT"; }

ms_listen $SERVER4 25
ms_config
NOTIFY_SOCKET=$MS_TMP/notify.sock
export NOTIFY_SOCKET
ms_start
unset NOTIFY_SOCKET

say "ready, and what it holds"
wait_until "READY=1" notify_has '^READY=1$'
wait_until "STATUS after start" notify_has '^STATUS=started; 0 blocks, 0 accounts blocked, 0 lines read$'

say "a block updates the status"
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
wait_until "STATUS with the block" notify_has '^STATUS=1 blocks, 0 accounts blocked, 5 lines read$'

say "SIGHUP: reloading, then ready again"
kill -HUP "$MS_PID"
wait_until "STATUS=reloaded" notify_has '^STATUS=reloaded; 1 blocks, '
assert_eq "RELOADING=1 messages" 1 "$(notify_count '^RELOADING=1$')"
assert_eq "READY=1 messages" 2 "$(notify_count '^READY=1$')"
assert_eq "the order: ready, reloading, ready" "READY=1 RELOADING=1 READY=1" \
	"$(grep -e '^READY=1$' -e '^RELOADING=1$' "$NOTIFY_OUT" | tr '\n' ' ' | sed 's/ $//')"

say "a broken configuration: the reload is refused, and systemd is told"
printf '[daemon]\nno_such_key = 1\n' >> "$MS_CONF"
kill -HUP "$MS_PID"
wait_until "STATUS=reload refused" notify_has '^STATUS=reload refused, the running configuration stays in force; 1 blocks, '
ms_alive || fail "the daemon died on a broken configuration"

say "stopping"
ms_stop
wait_until "STOPPING=1" notify_has '^STOPPING=1$'
kill "$NOTIFY_PID" 2>/dev/null
wait "$NOTIFY_PID" 2>/dev/null

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_close_sessions.sh - a newly blocked address loses its open TCP
# connections to the mail ports ([nftables] close_sessions = yes, the
# default): the drop rule alone would leave an established session
# running until it times out.
#
#   - close_sessions = yes: 203.0.113.5 and 198.51.100.20 each hold an
#     established connection to 192.0.2.1:25 (tcpprobe keep/hold); 5
#     failures block 203.0.113.5: the daemon logs "closed 1 open
#     connection of 203.0.113.5", the attacker's client sees its
#     connection reset, and the bystander's connection is still up (its
#     client holding on, the server's socket established);
#   - close_sessions = no: the attacker's connection is not destroyed (no
#     "closed" line, the server's socket still established, the client
#     still holding), but the bytes it keeps sending are dropped: the
#     kernel's counter for its element grows.
# Skips if the kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY).
# Run by run.sh, which has sourced lib.sh.

# hold_start SRC SECONDS - a held connection from SRC to port 25, in the
# background; HOLD_PID and HOLD_OUT once it is established
hold_start() {
	MS_SEQ=$((MS_SEQ + 1))
	HOLD_OUT=$MS_TMP/hold.$MS_SEQ.out
	: > "$HOLD_OUT"
	peer "$MS_PROBE" hold "$1" $SERVER4 25 "$2" > "$HOLD_OUT" 2>&1 &
	HOLD_PID=$!
	wait_for_line "$HOLD_OUT" 0 '^connected$' "$HOLD_PID" ||
		fail "$1 could not establish a connection: $(cat "$HOLD_OUT")"
	ok "$1 holds an established connection to $SERVER4 port 25"
}

# established SRC - the server has an established connection from SRC to port 25
established() {
	[ -n "$(ss -H -t -n state established "( sport = :25 )" src $SERVER4 dst "$1")" ]
}

start_keep() {
	MS_SEQ=$((MS_SEQ + 1))
	kout=$MS_TMP/keep.$MS_SEQ.out
	"$MS_PROBE" keep $SERVER4 25 > "$kout" 2>&1 &
	KEEP_PID=$!
	wait_for_line "$kout" 0 '^listening$' "$KEEP_PID" || fail "keep listener did not start: $(cat "$kout")"
}

say "close_sessions = yes (the default)"
start_keep
ms_config
ms_start
hold_start $ATTACKER 20
att_pid=$HOLD_PID att_out=$HOLD_OUT
hold_start $BYSTANDER 20
bys_pid=$HOLD_PID bys_out=$HOLD_OUT
established $ATTACKER || fail "the server sees no established connection from $ATTACKER"
established $BYSTANDER || fail "the server sees no established connection from $BYSTANDER"

log_mark
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
if ! wait_for_line "$MS_DLOG" "$MS_MARK" "closed 1 open connection of 203\.0\.113\.5|cannot close open connections" "$MS_PID"; then
	fail "the daemon did not log closing the connection of $ATTACKER within ${MS_WAIT}s"
fi
if log_has "CONFIG_INET_DIAG_DESTROY"; then
	echo "skip: the kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY)"
	exit 77
fi
log_has "^mailscreen: closed 1 open connection of 203\.0\.113\.5$" ||
	fail "the daemon could not close the connection: $(tail -n 1 "$MS_DLOG")"
ok "the daemon logged: closed 1 open connection of $ATTACKER"
wait_for_line "$att_out" 0 '^(reset|closed)$' "$att_pid" ||
	fail "the attacker's connection was not closed: $(cat "$att_out")"
wait "$att_pid"
ok "the attacker's client saw its connection $(tail -n 1 "$att_out")"
established $ATTACKER && fail "the server still has an established connection from $ATTACKER"
ok "the server has no connection from $ATTACKER any more"
kill -0 "$bys_pid" 2>/dev/null || fail "the bystander's connection ended: $(cat "$bys_out")"
established $BYSTANDER || fail "the bystander's connection is gone on the server"
ok "the bystander's connection is still established"
assert_eq "status --json: sessions_closed" "1" "$(ctl_json .sessions_closed status)"
kill "$bys_pid" 2>/dev/null
wait "$bys_pid" 2>/dev/null
ms_stop
kill "$KEEP_PID"
wait "$KEEP_PID" 2>/dev/null
nft delete table inet mailscreen || fail "cannot delete the first case's table"
rm -rf "$MS_TMP/state"      # a fresh daemon: no blocks restored from the first case

say "close_sessions = no: the connection stays, its packets are dropped"
start_keep
ms_config "[nftables]
close_sessions = no"
ms_start
hold_start $ATTACKER 20
att_pid=$HOLD_PID att_out=$HOLD_OUT
log_mark
sasl_fail $ATTACKER 5
wait_log "^mailscreen: block 203\.0\.113\.5 for 1h"
wait_for_element $ATTACKER
dropped_some() {
	[ "$(ctl_json ".[] | select(.target == \"$ATTACKER\") | .packets" list blocks)" -gt 0 ] 2>/dev/null
}
wait_until "the held connection's packets are dropped (the element's counter grows)" dropped_some
log_has "closed [0-9]+ open connection" && fail "the daemon closed connections with close_sessions = no"
kill -0 "$att_pid" 2>/dev/null || fail "the attacker's connection ended: $(cat "$att_out")"
established $ATTACKER || fail "the server's end of the attacker's connection is gone"
ok "the attacker's connection is still established (and dropped)"
kill "$att_pid" 2>/dev/null
wait "$att_pid" 2>/dev/null

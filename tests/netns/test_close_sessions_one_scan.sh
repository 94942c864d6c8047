# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_close_sessions_one_scan.sh - the open sessions of every address
# blocked in one loop turn are closed with one scan of the kernel's socket
# table, not one per block ([nftables] close_sessions = yes).
#
# Held connections to port 25 (tcpprobe keep/hold), from:
#   203.0.113.5, 203.0.113.6        two IPv4 attackers (host blocks)
#   2001:db8:1::5                   an IPv6 attacker: auth-ip blocks its /64,
#   2001:db8:1::7                   so this one, which never failed, goes too
#   198.51.100.20, 2001:db8:1:1::9  bystanders (the second in another /64)
# One write to the log holds 5 SASL failures of each attacker: the daemon
# reads them in one turn and blocks 203.0.113.5, 203.0.113.6 and
# 2001:db8:1::/64. Then: `status --json` counts one socket table scan
# (session_scans, 0 before) and four closed sessions; the daemon logs one
# "closed" line per block; every attacker's client sees its connection
# reset; the bystanders' connections stay established.
# Then two blocks by hand, one right after the other (two loop turns,
# within the 100 ms in which a second scan waits): both addresses'
# sessions are closed too, the second's by the deferred scan, and the
# scans counted are 3.
# Skips if the kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY).
# Run by run.sh, which has sourced lib.sh.

A4=$ATTACKER
B4=203.0.113.6
A6=2001:db8:1::5
C6=2001:db8:1::7
BYS6=2001:db8:1:1::9

M1=198.51.100.30
M2=198.51.100.31

for a in $B4/24 $A6/64 $C6/64 $BYS6/64 $M1/24 $M2/24; do
	peer_addr "$a" || fail "cannot add $a to the peer"
done

# keep ADDR - a server on ADDR port 25 that keeps what it accepts
keep() {
	MS_SEQ=$((MS_SEQ + 1))
	kout=$MS_TMP/keep.$MS_SEQ.out
	"$MS_PROBE" keep "$1" 25 > "$kout" 2>&1 &
	wait_for_line "$kout" 0 '^listening$' $! || fail "keep listener on $1 did not start: $(cat "$kout")"
}

# hold SRC DST - a held connection from SRC to DST port 25, in the
# background; its pid and output file are remembered under SRC's name
hold() {
	MS_SEQ=$((MS_SEQ + 1))
	hout=$MS_TMP/hold.$MS_SEQ.out
	: > "$hout"
	peer "$MS_PROBE" hold "$1" "$2" 25 30 > "$hout" 2>&1 &
	hpid=$!
	wait_for_line "$hout" 0 '^connected$' "$hpid" || fail "$1 could not connect to $2: $(cat "$hout")"
	printf '%s %s %s\n' "$1" "$hpid" "$hout" >> "$MS_TMP/holds"
	ok "$1 holds an established connection to $2 port 25"
}

hold_pid() { awk -v a="$1" '$1 == a { print $2 }' "$MS_TMP/holds"; }
hold_out() { awk -v a="$1" '$1 == a { print $3 }' "$MS_TMP/holds"; }

# established SRC - the server has an established connection from SRC on port 25
established() {
	case $1 in *:*) set -- "[$1]" ;; esac
	[ -n "$(ss -H -t -n state established "( sport = :25 )" dst "$1")" ]
}

keep "$SERVER4"
keep "$SERVER6"
ms_config
ms_start
assert_eq "status --json: session_scans before any block" "0" "$(ctl_json .session_scans status)"

: > "$MS_TMP/holds"
for a in $A4 $B4 $BYSTANDER; do hold "$a" "$SERVER4"; done
for a in $A6 $C6 $BYS6; do hold "$a" "$SERVER6"; done

say "5 failures from each attacker, written in one go"
lines=
stamp=$(date '+%b %e %T')
for _ in 1 2 3 4 5; do
	for a in $A4 $B4 $A6; do
		MS_SEQ=$((MS_SEQ + 1))
		lines="$lines$stamp mx postfix/smtpd[$((20000 + MS_SEQ))]: warning: unknown[$a]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
"
	done
done
log_mark
printf '%s' "$lines" >> "$MS_LOG"
for target in '203\.0\.113\.5' '203\.0\.113\.6' '2001:db8:1::/64'; do
	wait_log "^mailscreen: block $target for 1h: rule auth-ip"
done
wait_log "^mailscreen: (closed [0-9]+ open connections? of 2001:db8:1::/64|cannot close open connections)"
if log_has "CONFIG_INET_DIAG_DESTROY"; then
	echo "skip: the kernel cannot destroy sockets (CONFIG_INET_DIAG_DESTROY)"
	exit 77
fi
for l in "closed 1 open connection of 203\.0\.113\.5" "closed 1 open connection of 203\.0\.113\.6" \
	"closed 2 open connections of 2001:db8:1::/64"; do
	wait_log "^mailscreen: $l$"
	ok "the daemon logged: $(printf %s "$l" | tr -d '\\')"
done
assert_eq "status --json: session_scans (one scan for the three blocks)" "1" "$(ctl_json .session_scans status)"
assert_eq "status --json: sessions_closed" "4" "$(ctl_json .sessions_closed status)"

for a in $A4 $B4 $A6 $C6; do
	wait_for_line "$(hold_out "$a")" 0 '^(reset|closed)$' "$(hold_pid "$a")" ||
		fail "the connection of $a was not closed: $(cat "$(hold_out "$a")")"
	ok "$a's client saw its connection $(tail -n 1 "$(hold_out "$a")")"
	established "$a" && fail "the server still has an established connection from $a"
done
ok "the server has no connection from any blocked address"
for a in $BYSTANDER $BYS6; do
	kill -0 "$(hold_pid "$a")" 2>/dev/null || fail "the bystander $a's connection ended: $(cat "$(hold_out "$a")")"
	established "$a" || fail "the bystander $a's connection is gone on the server"
	ok "the bystander $a's connection is still established"
done

say "two blocks by hand, one right after the other"
for a in $M1 $M2; do hold "$a" "$SERVER4"; done
log_mark
"$MS_BIN" block -s "$MS_SOCK" $M1 > /dev/null && "$MS_BIN" block -s "$MS_SOCK" $M2 > /dev/null ||
	fail "mailscreen block $M1, then $M2, failed"
for a in $M1 $M2; do
	wait_log "^mailscreen: closed 1 open connection of $(printf %s $a | sed 's/\./\\./g')$"
	wait_for_line "$(hold_out "$a")" 0 '^(reset|closed)$' "$(hold_pid "$a")" ||
		fail "the connection of $a was not closed: $(cat "$(hold_out "$a")")"
	ok "$a's connection was closed"
done
assert_eq "status --json: session_scans" "3" "$(ctl_json .session_scans status)"
assert_eq "status --json: sessions_closed" "6" "$(ctl_json .sessions_closed status)"
for a in $BYSTANDER $BYS6; do
	established "$a" || fail "the bystander $a's connection is gone on the server"
done
ok "the bystanders' connections are still established"
ms_stop

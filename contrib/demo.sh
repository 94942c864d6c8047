#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh - watch mailscreen block a password-guessing attacker (make demo).
#
# As root, inside private network, mount and PID namespaces (the host's
# network and firewall are never touched, and nothing outlives the demo):
# the mail server (192.0.2.1) and, in a second namespace joined to it by a
# veth pair, its clients: 203.0.113.5 (an attacker) and 192.0.2.10 (a
# colleague), so that their packets come in over a real interface (the
# server's own addresses and loopback are never blocked); a listener on
# 192.0.2.1:25; mailscreen on a
# minimal configuration - one log file and the shipped filters and rules,
# the rest at its defaults. An "attacker script" writes Postfix SASL
# failures for 203.0.113.5 to the log, one every 0.2 s. The demo shows the
# daemon's block message, the element in the nftables set, the attacker's
# SYN to port 25 going unanswered and the colleague still connecting.
#
# Exit status: 0 if all of that was seen, 1 if anything was not (what was
# expected and what happened is printed), 77 if it cannot run here.
set -u
LC_ALL=C
export LC_ALL
PATH=$PATH:/usr/sbin:/sbin
export PATH

SERVER=192.0.2.1
ATTACKER=203.0.113.5
COLLEAGUE=192.0.2.10

if [ "${1:-}" != --inside ]; then
	repo=$(cd "$(dirname "$0")/.." && pwd)
	[ "$(id -u)" = 0 ] || { echo "demo: run as root (it needs network namespaces and nftables)"; exit 77; }
	for f in "$repo/mailscreen" "$repo/build/tests/tcpprobe"; do
		[ -x "$f" ] || { echo "demo: $f is not built; run: make demo"; exit 1; }
	done
	for tool in unshare nsenter ip nft; do
		command -v $tool > /dev/null || { echo "demo: '$tool' is missing (make deps-test)"; exit 77; }
	done
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailscreen-demo.XXXXXX") || exit 1
	child=
	trap '[ -n "$child" ] && kill -TERM $child 2>/dev/null && wait $child; rm -rf "$tmp"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# The demo's shell is PID 1 of its own PID namespace: when it ends, the
	# kernel ends every process it started, and the namespaces go with them.
	timeout -k 5 120 unshare --net --mount --pid --fork --kill-child --mount-proc \
		sh "$0" --inside "$repo" "$tmp" &
	child=$!
	wait $child
	rc=$?
	child=
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "DEMO FAILED: it did not finish within 120 s"
	exit $rc
fi

# ---- inside the namespaces ----
trap 'exit 130' INT
trap 'exit 143' TERM
repo=$2
tmp=$3
MS=${MS_BIN:-$repo/mailscreen}
PROBE=$repo/build/tests/tcpprobe
LOG=$tmp/mail.log
DLOG=$tmp/daemon.log
step=0

if [ -t 1 ]; then B='\033[1m' R='\033[1;31m' G='\033[1;32m' N='\033[0m'; else B='' R='' G='' N=''; fi

title() {
	step=$((step + 1))
	printf "\n$B== %d. %s$N\n" $step "$*"
}
show() { printf '   %s\n' "$@"; }
run() { printf '   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/   /'; }
bad() {
	printf "\n${R}DEMO FAILED: %s$N\n" "$*"
	[ -s "$DLOG" ] && { echo "daemon log:"; sed 's/^/   /' "$DLOG"; }
	exit 1
}

# wait_for FILE ERE - until a line of FILE matches (tail -f follows it by
# inotify), at most 5 s
wait_for() {
	mkfifo "$tmp/fifo.$$" || return 1
	tail -s 0.1 -n +1 -f "$1" > "$tmp/fifo.$$" 2>/dev/null &
	t=$!
	timeout 5 grep -E -m 1 -e "$2" < "$tmp/fifo.$$"
	r=$?
	kill $t 2>/dev/null
	wait $t 2>/dev/null
	rm -f "$tmp/fifo.$$"
	return $r
}

# peer CMD... - run CMD in the clients' namespace
peer() { nsenter --net="$tmp/clients.netns" "$@"; }

# connect FROM - one SYN from FROM (a client) to the server's port 25, 1.5 s to answer
connect() { peer "$PROBE" connect "$1" $SERVER 25 1500 2>&1; }

title "A private network: the mail server, an attacker and a colleague"
ip link set lo up || bad "cannot bring up lo"
# the clients' namespace (bind-mounted in this private mount namespace),
# joined to the server's by a veth pair: ms0 here, ms1 there
: > "$tmp/clients.netns" && unshare --net="$tmp/clients.netns" true || bad "cannot create the clients' namespace"
peer ip link set lo up && peer ip link add ms1 type veth peer name ms0 netns $$ ||
	bad "cannot create the veth pair"
ip addr add $SERVER/24 dev ms0 && ip link set ms0 up && ip route add 203.0.113.0/24 dev ms0 &&
peer ip addr add $COLLEAGUE/24 dev ms1 && peer ip addr add $ATTACKER/24 dev ms1 && peer ip link set ms1 up ||
	bad "cannot add the addresses"
show "  $SERVER     mail server (veth ms0)" "  $ATTACKER   attacker  (veth ms1, in the clients' namespace)" \
	"  $COLLEAGUE    colleague (veth ms1, in the clients' namespace)"
"$PROBE" listen $SERVER 25 > "$tmp/listen.out" 2>&1 &
lpid=$!
wait_for "$tmp/listen.out" '^listening$' > /dev/null || bad "the listener did not start: $(cat "$tmp/listen.out")"
show "a listener accepts connections on $SERVER port 25 (SMTP)"
r=$(connect $ATTACKER)
[ "$r" = connected ] || bad "before any block the attacker should connect; it got: $r"
show "before anything happens, the attacker connects to port 25: $r"

title "mailscreen on a minimal configuration"
cat > "$tmp/mailscreen.conf" <<EOF
[daemon]
filters = $repo/filters
rules = $repo/rules
; the daemon's own files in the demo's directory, so that it leaves nothing behind
state_dir = $tmp/state
control = $tmp/control
deny_file = $tmp/state/denied-accounts
blocklist = $tmp/blocklist

[source mail]
path = $LOG
filters = postfix dovecot
EOF
sed 's/^/   | /' "$tmp/mailscreen.conf"
show "" "mailscreen check says:"
"$MS" check -c "$tmp/mailscreen.conf" 2>&1 | sed 's/^/   | /'
: > "$LOG"
"$MS" run -c "$tmp/mailscreen.conf" --foreground 2> "$DLOG" &
dpid=$!
wait_for "$DLOG" '^mailscreen: started with ' > /dev/null || bad "mailscreen did not start"
sed 's/^/   daemon: /' "$DLOG"

title "The attacker guesses passwords over SMTP AUTH, one try every 0.2 s"
# What Postfix logs for each try: the connection, the failed AUTH (the
# base64 text is the server's last challenge, "Password:"), the disconnect.
pid=4711
for try in 1 2 3 4 5 6 7 8; do
	pid=$((pid + 1))
	now=$(date '+%b %e %T')
	{
		echo "$now mx postfix/smtpd[$pid]: connect from unknown[$ATTACKER]"
		echo "$now mx postfix/smtpd[$pid]: warning: unknown[$ATTACKER]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
		echo "$now mx postfix/smtpd[$pid]: disconnect from unknown[$ATTACKER] ehlo=1 auth=0/1 quit=1 commands=2/3"
	} > "$tmp/try"
	cat "$tmp/try" >> "$LOG"
	sed 's/^/   mail.log << /' "$tmp/try"
	sleep 0.2       # the attacker's pace; nothing waits on it
	if grep -q "^mailscreen: block $ATTACKER " "$DLOG"; then
		show "(mailscreen has blocked the attacker: the script stops here)"
		break
	fi
done

title "mailscreen decides"
l=$(wait_for "$DLOG" "^mailscreen: block $ATTACKER ") || bad "no block of $ATTACKER in the daemon's log"
show "daemon: $l"

title "The kernel holds the block, with its timeout"
run nft list set inet mailscreen block4
nft list set inet mailscreen block4 2>/dev/null | grep -E -q "[{ ]$ATTACKER .*timeout 1h" ||
	bad "$ATTACKER with a 1h timeout is not in the set block4"

title "The attacker is dropped, the colleague is not"
r=$(connect $ATTACKER)
show "attacker  $ATTACKER -> $SERVER:25: $r (no answer in 1.5 s: the SYN was dropped)"
[ "$r" = timeout ] || bad "the attacker's connection should time out (dropped), it was: $r"
r=$(connect $COLLEAGUE)
show "colleague $COLLEAGUE  -> $SERVER:25: $r"
[ "$r" = connected ] || bad "the colleague should connect, it was: $r"

title "Stopping"
kill -TERM $dpid
wait $dpid
rc=$?
sed -n '$p' "$DLOG" | sed 's/^/   daemon: /'
[ $rc -eq 0 ] || bad "mailscreen exited with status $rc on SIGTERM"
kill $lpid
show "the block stays in the kernel until its timeout; here it goes with the namespace."
printf "\n${G}Demo OK: %s was blocked (%s), its SYN dropped; %s still connects.$N\n" \
	$ATTACKER "$(echo "$l" | sed -n 's/.*rule [^,]*, \([^;]*\);.*/\1/p')" $COLLEAGUE
exit 0

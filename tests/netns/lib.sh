# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib.sh - helpers shared by the network namespace tests (tests/netns/test_*.sh).
#
# Sourced by run.sh inside a fresh network + mount + PID namespace, before
# the test itself. run.sh sets MS_REPO (the source tree) and MS_TMP (a
# private temporary directory, removed afterwards); everything a test makes
# lives there, and every process it starts dies with the PID namespace.
#
# The little network (ms_netns_setup), two "hosts" joined by a veth pair:
#
#   this namespace (the mail server)        peer namespace (the clients)
#   v0  192.0.2.1/24  2001:db8::1/64  <-->  v1  192.0.2.10/24   colleague (allow-listed)
#       routes to 198.51.100.0/24,              203.0.113.5/24  attacker
#       203.0.113.0/24, 2001:db8:1::/48         198.51.100.20/24 bystander
#
# The daemon, nft and the listeners run here; tcpprobe connects from the
# peer, so every connection crosses a real interface and the input hook.
# Only documentation ranges are used, and nothing ever runs in the host's
# network namespace.
#
# Waiting: log files are followed with `tail -f` (inotify) through a FIFO
# into `grep -m1`, under `timeout`: it returns as soon as the line is
# written, and fails after a deadline. Only the kernel's set (which emits no
# event when the daemon adds to it) is polled, with short sleeps and a
# deadline. A negative ("X is NOT blocked") is proved with a barrier: lines
# from a second address written after X's; once that address is blocked,
# the daemon has read X's lines too.

set -u
export LC_ALL=C

. "$MS_REPO/tests/tools/journal-remote.sh"
MS_BIN=${MS_BIN:-$MS_REPO/mailscreen}
MS_PROBE=${MS_PROBE:-$MS_REPO/build/tests/tcpprobe}
MS_LOG=$MS_TMP/mail.log                 # the mail log the daemon follows
MS_DLOG=$MS_TMP/daemon.log              # the daemon's stderr
MS_CONF=$MS_TMP/mailscreen.conf
MS_SOCK=$MS_TMP/control                 # the daemon's control socket
MS_DENY=$MS_TMP/denied-accounts         # its account deny file
MS_BLOCKLIST=$MS_TMP/blocklist          # its block list file (none at first)
MS_PEERNS=$MS_TMP/peer.netns            # bind mount of the peer's namespace
MS_PID=
MS_MARK=0                               # daemon log offset for wait_log
MS_WAIT=${MS_WAIT:-5}                   # seconds any single wait may take
MS_DROP_MS=${MS_DROP_MS:-800}           # no SYN-ACK in this long = dropped
MS_SEQ=0

SERVER4=192.0.2.1
SERVER6=2001:db8::1
COLLEAGUE=192.0.2.10
ATTACKER=203.0.113.5
BYSTANDER=198.51.100.20

# ---- reporting ----

say() { printf '# %s\n' "$*"; }
ok() { printf 'ok - %s\n' "$*"; }

# Everything that helps understand a failure, then exit 1.
fail() {
	printf 'FAIL: %s\n' "$*"
	if [ -s "$MS_DLOG" ]; then
		echo "--- daemon log (last 20 lines)"
		tail -n 20 "$MS_DLOG"
	fi
	echo "--- nft list ruleset"
	nft list ruleset 2>&1 | head -n 40
	exit 1
}

# assert_eq WHAT EXPECTED FOUND
assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', found '$3'"
	ok "$1: $3"
}

# ---- the network ----

ms_netns_setup() {
	ip link set lo up || return 1
	# no duplicate address detection: addresses are usable at once
	echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad &&
	echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad || return 1
	: > "$MS_PEERNS" && unshare --net="$MS_PEERNS" true || return 1
	peer sh -c 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad &&
		    echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad && ip link set lo up' || return 1
	# create the pair in the peer and send one end here ($$ is this shell)
	peer ip link add v1 type veth peer name v0 netns $$ || return 1
	ip addr add $SERVER4/24 dev v0 &&
	ip addr add $SERVER6/64 dev v0 nodad &&
	ip link set v0 up &&
	ip route add 203.0.113.0/24 dev v0 &&
	ip route add 198.51.100.0/24 dev v0 &&
	ip -6 route add 2001:db8:1::/48 dev v0 || return 1
	peer ip link set v1 up &&
	peer_addr $COLLEAGUE/24 && peer_addr $ATTACKER/24 && peer_addr $BYSTANDER/24 &&
	peer ip -6 route add 2001:db8::/64 dev v1 || return 1
}

# peer CMD... - run CMD in the clients' namespace
peer() { nsenter --net="$MS_PEERNS" "$@"; }

# peer_addr ADDR/LEN - one more client address
peer_addr() {
	case $1 in
	*:*) peer ip addr add "$1" dev v1 nodad ;;
	*) peer ip addr add "$1" dev v1 ;;
	esac
}

# ms_listen ADDR PORT... - a listener here, in the background, once bound
ms_listen() {
	MS_SEQ=$((MS_SEQ + 1))
	out=$MS_TMP/listen.$MS_SEQ.out
	: > "$out"
	"$MS_PROBE" listen "$@" > "$out" 2>&1 &
	lpid=$!
	wait_for_line "$out" 0 '^listening$' "$lpid" ||
		fail "listener on $* did not start: $(cat "$out")"
}

# probe SRC DST PORT [TIMEOUT_MS] - prints connected, refused, timeout or error: ...
probe() {
	peer "$MS_PROBE" connect "$1" "$2" "$3" "${4:-$MS_DROP_MS}" 2>&1
}

expect_connect() {
	r=$(probe "$1" "$2" "$3" 3000)
	[ "$r" = connected ] || fail "$1 -> $2 port $3: expected connected, found '$r'"
	ok "$1 -> $2 port $3: connected"
}

expect_dropped() {
	r=$(probe "$1" "$2" "$3")
	[ "$r" = timeout ] || fail "$1 -> $2 port $3: expected timeout (dropped), found '$r'"
	ok "$1 -> $2 port $3: dropped (no answer in ${MS_DROP_MS} ms)"
}

# ---- waiting for lines ----

# wait_for_line FILE OFFSET ERE [PID] - true once a line matching ERE is
# in FILE after byte OFFSET; false after MS_WAIT seconds, or as soon as
# process PID (the writer) is gone.
wait_for_line() {
	MS_SEQ=$((MS_SEQ + 1))
	fifo=$MS_TMP/wait.$MS_SEQ.fifo
	mkfifo "$fifo" || return 1
	if [ -n "${4:-}" ]; then
		tail -s 0.1 --pid="$4" -c +$(($2 + 1)) -f "$1" > "$fifo" 2>/dev/null &
	else
		tail -s 0.1 -c +$(($2 + 1)) -f "$1" > "$fifo" 2>/dev/null &
	fi
	tpid=$!
	timeout "$MS_WAIT" grep -E -q -m 1 -e "$3" < "$fifo" 2>/dev/null
	rc=$?
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	rm -f "$fifo"
	return $rc
}

# log_mark - later wait_log / log_has calls look only at what comes after
log_mark() { MS_MARK=$(wc -c < "$MS_DLOG"); }

# wait_log ERE - wait for the daemon to log ERE (after the mark)
wait_log() {
	wait_for_line "$MS_DLOG" "$MS_MARK" "$1" "$MS_PID" ||
		fail "the daemon did not log /$1/ within ${MS_WAIT}s"
}

# log_has ERE - the daemon logged ERE since the mark
log_has() { tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -E -q -e "$1"; }

# ---- the daemon ----

# The shipped filter files that exist, for a source's filters = line.
ms_filter_names() {
	names=
	for f in postfix dovecot dovecot-connect; do
		[ -e "$MS_REPO/filters/$f.conf" ] && names="$names $f"
	done
	echo "${names# }"
}

# ms_config [EXTRA] - write MS_CONF: the shipped filters and rules (or
# MS_RULES), one source following MS_LOG, 192.0.2.10 allow-listed, the
# control socket, deny file and block list in MS_TMP; EXTRA (INI text) is
# appended, so it may add keys to any section or add sections.
ms_config() {
	mkdir -p "$MS_TMP/state"
	cat > "$MS_CONF" <<EOF
# SPDX-License-Identifier: GPL-2.0-or-later
# generated by tests/netns/lib.sh
[daemon]
filters = $MS_REPO/filters
rules = ${MS_RULES:-$MS_REPO/rules}
state_dir = $MS_TMP/state
control = $MS_SOCK
deny_file = $MS_DENY
blocklist = $MS_BLOCKLIST

[source mail]
path = $MS_LOG
filters = $(ms_filter_names)

[allow]
address = $COLLEAGUE
EOF
	[ $# -gt 0 ] && printf '%s\n' "$1" >> "$MS_CONF"
	return 0
}

# ms_start [RUN OPTIONS...] - start the daemon on MS_CONF (ms_config first)
# and wait until it says it started.
ms_start() {
	[ -e "$MS_DLOG" ] || : > "$MS_DLOG"
	log_mark
	"$MS_BIN" run -c "$MS_CONF" --foreground "$@" 2>> "$MS_DLOG" &
	MS_PID=$!
	wait_log '^mailscreen: started with '
	ok "daemon started (pid $MS_PID)"
}

# ms_stop - SIGTERM; the daemon must exit 0 within MS_WAIT seconds
ms_stop() {
	kill -TERM "$MS_PID" || fail "the daemon (pid $MS_PID) is not running"
	( sleep "$MS_WAIT"; kill -KILL "$MS_PID" 2>/dev/null ) &
	watchdog=$!
	wait "$MS_PID"
	rc=$?
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	[ $rc -eq 0 ] || fail "the daemon exited with status $rc on SIGTERM (137: it had to be killed)"
	ok "daemon stopped on SIGTERM, exit status 0"
	MS_PID=
}

ms_alive() { [ -n "$MS_PID" ] && kill -0 "$MS_PID" 2>/dev/null; }

# ---- the control socket ----

# ms_ctl COMMAND [ARGS...] - run `mailscreen COMMAND -s MS_SOCK ARGS...`;
# sets MS_OUT (stdout), MS_ERR (stderr) and MS_RC (exit status), and
# returns that status. Never fails the test by itself.
ms_ctl() {
	ctl_cmd=$1
	shift
	MS_OUT=$("$MS_BIN" "$ctl_cmd" -s "$MS_SOCK" "$@" 2> "$MS_TMP/ctl.err")
	MS_RC=$?
	MS_ERR=$(cat "$MS_TMP/ctl.err")
	return $MS_RC
}

# ctl_ok COMMAND [ARGS...] - the command must succeed (output in MS_OUT)
ctl_ok() {
	ms_ctl "$@" || fail "mailscreen $*: exit status $MS_RC: $MS_ERR"
}

# ctl_refused ERE COMMAND [ARGS...] - the daemon must refuse the command:
# exit status 1 and an error on stderr matching ERE
ctl_refused() {
	ctl_ere=$1
	shift
	ms_ctl "$@" && fail "mailscreen $* must be refused, but succeeded: $MS_OUT"
	[ "$MS_RC" -eq 1 ] || fail "mailscreen $*: expected exit status 1, found $MS_RC: $MS_ERR"
	printf '%s\n' "$MS_ERR" | grep -E -q -e "$ctl_ere" ||
		fail "mailscreen $*: expected an error matching /$ctl_ere/, found: $MS_ERR"
	ok "refused: mailscreen $*: $MS_ERR"
}

# ctl_json QUERY COMMAND [ARGS...] - run COMMAND --json and print jq -r
# QUERY of its output
ctl_json() {
	ctl_q=$1
	shift
	ctl_ok "$@" --json
	printf '%s\n' "$MS_OUT" | jq -r "$ctl_q" || fail "mailscreen $* --json: not JSON? $MS_OUT"
}

# ctl_raw WORD... - send WORD... as one raw request to the control socket
# (no command-line checks on the way); the daemon's reply goes to stdout
ctl_raw() { "$MS_PROBE" ctl "$MS_SOCK" "$@"; }

# wait_until WHAT CMD... - poll CMD (a state the daemon shows no event
# for: a file, a listing) until it succeeds; fail after MS_WAIT seconds
wait_until() {
	wu_what=$1
	shift
	wu_deadline=$(($(date +%s) + MS_WAIT))
	until "$@"; do
		[ "$(date +%s)" -le "$wu_deadline" ] || fail "$wu_what: not so after ${MS_WAIT}s"
		sleep 0.05
	done
	ok "$wu_what"
}

# deny_has USER - the deny file holds USER as a line of its own
deny_has() { [ -f "$MS_DENY" ] && grep -F -x -q -e "$1" "$MS_DENY"; }

# ---- writing mail log lines ----

# mail_line TEXT [FILE] - TEXT as one syslog line, stamped now, from host
# mx, appended to FILE (default MS_LOG) in one write
mail_line() { printf '%s mx %s\n' "$(date '+%b %e %T')" "$1" >> "${2:-$MS_LOG}"; }

# new_pid - a fresh smtpd process id in MS_PID_NEW (a new SMTP session)
new_pid() {
	MS_SEQ=$((MS_SEQ + 1))
	MS_PID_NEW=$((30000 + MS_SEQ))
}

# Postfix smtpd lines; PID names the session (postfix/smtpd[PID]).
# smtp_connect ADDR [N] - N (default 1) connections, each a new session
smtp_connect() {
	sc_n=${2:-1}
	while [ "$sc_n" -gt 0 ]; do
		new_pid
		mail_line "postfix/smtpd[$MS_PID_NEW]: connect from unknown[$1]"
		sc_n=$((sc_n - 1))
	done
}

# smtp_rcpt_fail ADDR PID [N] - N (default 1) unknown-recipient rejects
smtp_rcpt_fail() {
	sr_n=${3:-1}
	while [ "$sr_n" -gt 0 ]; do
		mail_line "postfix/smtpd[$2]: NOQUEUE: reject: RCPT from unknown[$1]: 550 5.1.1 <nosuch$sr_n@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@example.net> to=<nosuch$sr_n@example.org> proto=ESMTP helo=<h.example.net>"
		sr_n=$((sr_n - 1))
	done
}

# smtp_disconnect ADDR PID [COUNTERS] - the session's summary line
smtp_disconnect() {
	mail_line "postfix/smtpd[$2]: disconnect from unknown[$1] ${3:-ehlo=1 mail=1 rcpt=0/5 quit=1 commands=3/8}"
}

# smtp_login ADDR PID USER - a message sent after a successful SASL login
smtp_login() {
	MS_SEQ=$((MS_SEQ + 1))
	mail_line "postfix/smtpd[$2]: 4F3A21C$(printf '%04d' $MS_SEQ): client=unknown[$1], sasl_method=PLAIN, sasl_username=$3"
}

# Dovecot login process lines, each a connection with a session of its own.
# imap_fail ADDR USER [N] - N (default 1) failed IMAP logins of USER
imap_fail() {
	if_n=${3:-1}
	while [ "$if_n" -gt 0 ]; do
		MS_SEQ=$((MS_SEQ + 1))
		mail_line "dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<$2>, method=PLAIN, rip=$1, lip=$SERVER4, TLS, session=<S$(printf '%015d' $MS_SEQ)>"
		if_n=$((if_n - 1))
	done
}

# imap_login ADDR USER - a successful IMAP login
imap_login() {
	MS_SEQ=$((MS_SEQ + 1))
	mail_line "dovecot: imap-login: Login: user=<$2>, method=PLAIN, rip=$1, lip=$SERVER4, mpid=$MS_SEQ, TLS, session=<L$(printf '%015d' $MS_SEQ)>"
}

# imap_idle ADDR [N] - N (default 1) IMAP connections that never tried to log in
imap_idle() {
	ii_n=${2:-1}
	while [ "$ii_n" -gt 0 ]; do
		MS_SEQ=$((MS_SEQ + 1))
		mail_line "dovecot: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, rip=$1, lip=$SERVER4, TLS, session=<N$(printf '%015d' $MS_SEQ)>"
		ii_n=$((ii_n - 1))
	done
}

# sasl_fail ADDR [N [FILE]] - N (default 1) Postfix SASL failures from
# ADDR, stamped now, appended to FILE (default MS_LOG), one write each.
sasl_fail() {
	n=${2:-1}
	f=${3:-$MS_LOG}
	while [ "$n" -gt 0 ]; do
		MS_SEQ=$((MS_SEQ + 1))
		printf '%s mx postfix/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
			"$(date '+%b %e %T')" $((20000 + MS_SEQ)) "$1" >> "$f"
		n=$((n - 1))
	done
}

# ---- notifications ----

# sendmail_standin DIR - $MS_TMP/sendmail: a stand-in for sendmail that
# records each run in DIR: N.argv (its arguments, one a line), N.msg (its
# input), then a line "done N" in DIR/log (what a test waits for)
sendmail_standin() {
	mkdir -p "$1"
	: > "$1/log"
	cat > "$MS_TMP/sendmail" <<EOS
#!/bin/sh
n=\$(( \$(wc -l < "$1/log") + 1 ))
for a in "\$@"; do printf '%s\n' "\$a"; done > "$1/\$n.argv"
cat > "$1/\$n.msg"
echo "done \$n" >> "$1/log"
EOS
	chmod 755 "$MS_TMP/sendmail"
}

# ---- the kernel's sets ----

# set_elements SET - one line per element: "ADDR[/LEN] TIMEOUT_SECONDS"
# (TIMEOUT "none" for a permanent element); nothing if the set is missing.
set_elements() {
	nft -j list set inet mailscreen "$1" 2>/dev/null | jq -r '
		.nftables[] | select(.set) | (.set.elem // [])[] |
		(if type == "object" and has("elem") then .elem else {val: .} end) |
		[(.val | if type == "object" then
			(if .prefix then "\(.prefix.addr)/\(.prefix.len)"
			 elif .range then "\(.range[0])-\(.range[1])" else tojson end)
		  else . end),
		 (.timeout // "none" | tostring)] | join(" ")'
}

set_of() { case $1 in *:*) echo block6 ;; *) echo block4 ;; esac; }

# element_timeout ADDR - the element's timeout in seconds; empty if absent
element_timeout() {
	set_elements "$(set_of "$1")" | awk -v a="$1" '$1 == a { print $2; exit }'
}

# wait_for_element ADDR - poll the set until ADDR (or ADDR/LEN) is in it
wait_for_element() {
	deadline=$(($(date +%s) + MS_WAIT))
	while [ -z "$(element_timeout "$1")" ]; do
		[ "$(date +%s)" -le "$deadline" ] ||
			fail "$1 not in set $(set_of "$1") after ${MS_WAIT}s; elements: $(set_elements "$(set_of "$1")" | tr '\n' ';')"
		sleep 0.05
	done
	wfe_t=$(element_timeout "$1")
	if [ "$wfe_t" = none ]; then wfe_t="none, permanent"; else wfe_t=${wfe_t}s; fi
	ok "$1 is in set $(set_of "$1") (timeout $wfe_t)"
}

# wait_no_element ADDR - poll the set until ADDR (or ADDR/LEN) is gone
wait_no_element() {
	deadline=$(($(date +%s) + MS_WAIT))
	while [ -n "$(element_timeout "$1")" ]; do
		[ "$(date +%s)" -le "$deadline" ] ||
			fail "$1 still in set $(set_of "$1") after ${MS_WAIT}s"
		sleep 0.05
	done
	ok "$1 is gone from set $(set_of "$1")"
}

assert_no_element() {
	[ -z "$(element_timeout "$1")" ] ||
		fail "$1 must not be blocked, but set $(set_of "$1") holds: $(set_elements "$(set_of "$1")" | tr '\n' ';')"
	ok "$1 is not in set $(set_of "$1")"
}

# assert_timeout ADDR SECONDS - the element has this kernel timeout
assert_timeout() { assert_eq "timeout of $1" "$2" "$(element_timeout "$1")"; }

# barrier ADDR [FILE] - block ADDR by 5 failures written to FILE (default
# MS_LOG) and wait for it: every line written to FILE before is then read
# and counted.
barrier() {
	sasl_fail "$1" 5 "${2:-$MS_LOG}"
	wait_for_element "$1"
}

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_e2e_real_servers.sh - mailscreen as packaged, against the real Debian
# Postfix and Dovecot, attacked by real clients from several addresses.
#
# Everything runs inside run.sh's private network, mount and PID namespaces
# (the PID namespace dies with the test, and every server with it); the
# host's /etc/postfix, /etc/dovecot, network and ruleset are never touched:
#   - /dev is a tmpfs holding the few devices the servers use and a /dev/log
#     socket: a small syslog daemon (python3) that writes what rsyslog writes
#     on Debian into /var/log/mail.log ("MMM dd HH:MM:SS mx TAG[PID]: MSG");
#   - /var/log is a directory of the test's, /var/lib and /run are tmpfs
#     (so mailscreen's defaults - state and deny file under
#     /var/lib/mailscreen, the socket under /run/mailscreen - and Dovecot's
#     - /run/dovecot, /var/lib/dovecot - are used as they are), and
#     /etc/postfix, /var/spool/postfix, /var/lib/postfix are private copies.
# Postfix 3.7 (Debian 12): the package's master.cf with smtp behind
# postscreen (Debian's default postscreen settings: a 6 s greeting test)
# and the stock submission entry (AUTH through Dovecot SASL, without TLS),
# local recipients alice, dave, carol, bob of example.org (unknown ones get
# 550 5.1.1), mail discarded. Dovecot 2.3: IMAP and POP3 without TLS, logging
# to syslog, auth_verbose = yes as contrib/dovecot/README.md advises, and
# contrib/dovecot/05-mailscreen-deny.conf included verbatim before the real
# passdb (a passwd-file).
# mailscreen: contrib/mailscreen.conf with the shipped filters/ and rules/,
# run with contrib/mailscreen.service's ExecStartPre and ExecStart.
#
# The attackers, one address each, all at once (each dialogue is real):
#   203.0.113.30         IMAP: 5 connections, each a wrong LOGIN for root
#   2001:db8:1:30::30    POP3 over IPv6: 5 connections, USER test, wrong PASS
#   198.51.100.30        submission: 5 sessions, each a wrong AUTH PLAIN (info)
#   203.0.113.40         port 25: 5 RCPTs to unknown users in one session
#   203.0.113.60         port 25: 2 RCPTs to unknown users in each of 3
#                        sessions (never 5 in one)
#   203.0.113.50         port 25: 20 RSETs in one session
#   198.51.100.60        port 25: 31 connections at once
#   198.51.100.101..110  one wrong password for carol each (IMAP, POP3,
#                        submission): 10 failures of one account
# Proves: each attacker's address lands in the kernel's set (its /64 for
# IPv6) and its next connection is dropped while a clean address still
# connects to the same port; carol is in the deny file (and no other
# account) and Dovecot then refuses carol's right password, over IMAP and
# SMTP AUTH; each guess counts once per account (root, test, info: 5 each,
# though each shows in two or three log lines); alice (IMAP login, a
# message sent through submission with AUTH, 8 more logins as a mail
# client makes them) and dave (a wrong password, then the right one) keep
# working, and neither their addresses nor their accounts are ever
# blocked. (A deny passdb that logs "unknown user" at every login, as the
# shipped snippet did before it set auth_verbose = no, fails this at
# alice's 4th re-login: her address is blocked.)
# Skips (77) without postfix, dovecot-imapd, dovecot-pop3d or python3.
# 35 to 50 s on an idle machine (postscreen's 6 s greeting test, Dovecot's
# 2 s failure delay and 4 s penalty after a failure, servers starting):
# netns-timeout: 180

for tool in postfix postconf dovecot doveconf doveadm python3; do
	command -v "$tool" > /dev/null || { echo "skip: '$tool' is missing (make deps: postfix, dovecot-imapd, dovecot-pop3d, python3)"; exit 77; }
done
for f in /usr/lib/dovecot/imap-login /usr/lib/dovecot/pop3-login /etc/postfix/master.cf; do
	[ -e "$f" ] || { echo "skip: $f is missing (make deps: postfix, dovecot-imapd, dovecot-pop3d)"; exit 77; }
done
for u in postfix dovecot dovenull nobody; do
	id "$u" > /dev/null 2>&1 || { echo "skip: no user '$u' (make deps: postfix, dovecot-core)"; exit 77; }
done

E=$MS_TMP/e2e
MAILLOG=/var/log/mail.log       # after the bind mount below: $E/log/mail.log
# the private /dev, Postfix's private directories, starting and stopping
# the servers (sets MX_PY: Debian's python3)
. "$MS_REPO/tests/tools/mailservers.sh"
CLIENT="$MX_PY $MS_REPO/tests/netns/e2e_client.py"
# Each attack waits out postscreen's greeting test (6 s) or Dovecot's
# failure delay (2 s) before it can be counted: waits here are longer than
# lib.sh's MS_WAIT (which the sanitizer run raises, and so this one too).
E2E_WAIT=$((MS_WAIT * 6))

# E2E_KEEP=DIR keeps the mail log and the daemon's log of the run
e2e_fail() {
	echo "--- $MAILLOG (last 40 lines)"
	tail -n 40 "$MAILLOG" 2>&1
	[ -n "${E2E_KEEP:-}" ] && cp "$MAILLOG" "$E2E_KEEP/mail.log" && cp "$MS_DLOG" "$E2E_KEEP/daemon.log"
	fail "$@"
}

# ---- the servers' private files ----

# Dovecot's auth process (user dovecot) and the IMAP process (nobody) reach
# the users file and the mail homes through MS_TMP.
chmod 0711 "$MS_TMP" && mkdir -m 0755 "$E" "$E/log" "$E/dovecot" "$E/home" "$E/etc" ||
	fail "cannot make $E"
chown nobody:nogroup "$E/home" || fail "cannot chown $E"

mount --bind "$E/log" /var/log && : > "$MAILLOG" || fail "cannot mount $E/log on /var/log"
# /dev: the devices the servers and the tools use, and /dev/log
mx_dev "$E" "$MAILLOG" || fail "cannot make the private /dev"
# what systemd makes for a unit (StateDirectory=, RuntimeDirectory=) and
# for Dovecot, on tmpfs: nothing of the host's /var/lib or /run is seen
mount -t tmpfs -o mode=755 tmpfs /var/lib && mount -t tmpfs -o mode=755 tmpfs /run &&
	mkdir -m 0755 /var/lib/mailscreen /run/mailscreen /var/lib/dovecot /var/lib/postfix ||
	fail "cannot mount tmpfs on /var/lib and /run"
ok "private /dev/log, /var/log, /var/lib, /run"

# ---- mailscreen as packaged ----

# The shipped files, copied where the test can have them: /etc/mailscreen
# would have to be made on the host (a mount needs an existing directory),
# so the configuration is read with -c and names the copied filters and
# rules, and the block list file (default /etc/mailscreen/blocklist, whose
# missing directory could not be watched) beside them. Everything else is
# the shipped default: state and deny file in
# /var/lib/mailscreen, socket /run/mailscreen/control, table "mailscreen",
# and no [source] section, so /var/log/mail.log is read (it exists).
cp -R "$MS_REPO/filters" "$MS_REPO/rules" "$E/etc/" && cp "$MS_REPO/contrib/mailscreen.conf" "$E/etc/" ||
	fail "cannot copy the shipped configuration"
MS_CONF=$E/etc/mailscreen.conf
sed -i -e "/^\[daemon\]/,/^\[/s|^#filters *=.*|filters = $E/etc/filters|" \
	-e "/^\[daemon\]/,/^\[/s|^#rules *=.*|rules = $E/etc/rules|" \
	-e "/^\[daemon\]/a blocklist = $E/etc/blocklist" "$MS_CONF"
grep -q "^filters = $E/etc/filters\$" "$MS_CONF" && grep -q "^rules = $E/etc/rules\$" "$MS_CONF" ||
	fail "contrib/mailscreen.conf has no '#filters =' and '#rules =' lines to point at the copies"
MS_SOCK=/run/mailscreen/control
MS_DENY=/var/lib/mailscreen/denied-accounts

# The unit's command lines, with this tree's binary and -c.
unit=$MS_REPO/contrib/mailscreen.service
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$start" ] || fail "no ExecStart= in $unit"
set -- $pre
shift
[ $# -gt 0 ] && { "$MS_BIN" "$@" -c "$MS_CONF" > "$E/check.out" 2>&1 ||
	fail "ExecStartPre ($pre) refuses the shipped configuration: $(cat "$E/check.out")"; }
ok "ExecStartPre: mailscreen $* accepts the shipped configuration"
set -- $start
shift
: > "$MS_DLOG"
log_mark
"$MS_BIN" "$@" -c "$MS_CONF" 2>> "$MS_DLOG" &
MS_PID=$!
wait_log '^mailscreen: started with '
ok "ExecStart: mailscreen $* -c $MS_CONF started (pid $MS_PID)"
log_has "/var/log/mail.log" || fail "the daemon does not say it follows /var/log/mail.log"

# ---- Dovecot ----

printf '%s\n' 'alice:{PLAIN}alice-pw' 'dave:{PLAIN}dave-pw' 'carol:{PLAIN}carol-pw' 'bob:{PLAIN}bob-pw' > "$E/dovecot/users"
chmod 0644 "$E/dovecot/users"
cp "$MS_REPO/contrib/dovecot/05-mailscreen-deny.conf" "$E/dovecot/" || fail "no contrib/dovecot/05-mailscreen-deny.conf"
cat > "$E/dovecot/dovecot.conf" <<EOF
# generated by tests/netns/test_e2e_real_servers.sh; everything not set
# here is Dovecot's default (log_path = syslog, facility mail, /run/dovecot)
protocols = imap pop3
listen = *, ::
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
mail_location = maildir:~/Maildir
# the shipped deny passdb first, as conf.d/05-mailscreen-deny.conf would be
!include $E/dovecot/05-mailscreen-deny.conf
passdb {
  driver = passwd-file
  args = scheme=PLAIN $E/dovecot/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$E/home/%u
}
# Postfix's SASL socket, as Debian's wiki sets it up
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
EOF
doveconf -c "$E/dovecot/dovecot.conf" -n > "$E/doveconf.out" 2>&1 || fail "doveconf: $(cat "$E/doveconf.out")"
first=$(sed -n '/^passdb {/,/^}/p' "$E/doveconf.out" | sed -n 's/^ *args = //p' | head -n 1)
assert_eq "Dovecot's first passdb" /var/lib/mailscreen/denied-accounts "$first"

# ---- Postfix ----

mx_postfix "$E" 'local_recipient_maps=inline:{alice=ok, dave=ok, carol=ok, bob=ok}' \
	local_transport=discard smtpd_sasl_path=private/auth || fail "cannot set up Postfix"

# ---- start both ----

mx_start "$E/dovecot/dovecot.conf" "$MAILLOG" || e2e_fail "the servers did not start"
ok "Postfix $(postconf -h mail_version) and $(dovecot --version | cut -d' ' -f1) started, logging to $MAILLOG"

# client SRC CMD ARGS... - one client dialogue from SRC; its output
client() { c_src=$2; c_cmd=$1; shift 2; peer $CLIENT "$c_cmd" "$c_src" "$@" 2>&1; }

# expect_client WHAT EXPECTED CMD SRC ARGS... - the dialogue must print EXPECTED
expect_client() {
	ec_what=$1 ec_exp=$2
	shift 2
	ec_out=$(client "$@")
	[ "$ec_out" = "$ec_exp" ] || e2e_fail "$ec_what: expected '$ec_exp', found '$ec_out'"
	ok "$ec_what: $ec_out"
}

CLEAN=192.0.2.30                # never attacks: proves the others still connect
for a in $CLEAN 203.0.113.30 198.51.100.30 203.0.113.40 203.0.113.50 198.51.100.60 203.0.113.60; do
	peer_addr $a/24 || fail "cannot add $a"
done
peer_addr 2001:db8:1:30::30/64 || fail "cannot add 2001:db8:1:30::30"
for i in $(seq 101 110); do peer_addr 198.51.100.$i/24 || fail "cannot add 198.51.100.$i"; done

say "before any attack: carol's password works (IMAP, SMTP AUTH)"
expect_client "carol logs in over IMAP from $CLEAN" OK imap $CLEAN carol carol-pw
expect_client "carol authenticates on submission from $CLEAN" 235 auth $CLEAN carol carol-pw

# ---- the attacks, all at once ----

say "attacks: IMAP, POP3 (IPv6), SMTP AUTH brute force, harvesting, RSET abuse, a flood, carol's account"
# one client process, a thread per dialogue, all started at once
{
	for i in 1 2 3 4 5; do
		echo "imap 203.0.113.30 root guess$i"
		echo "pop3 2001:db8:1:30::30 test guess$i"
		echo "auth 198.51.100.30 info guess$i"
	done
	echo "harvest 203.0.113.40 5"
	for i in 1 2 3; do echo "harvest 203.0.113.60 2"; done
	echo "rset 203.0.113.50 20"
	echo "flood 198.51.100.60 31"
	for i in 101 102 103 104; do echo "imap 198.51.100.$i carol wrong$i"; done
	for i in 105 106 107; do echo "pop3 198.51.100.$i carol wrong$i"; done
	for i in 108 109 110; do echo "auth 198.51.100.$i carol wrong$i"; done
} > "$E/attacks.in"
peer $CLIENT batch < "$E/attacks.in" > "$E/attacks.out" 2>&1 &
attack_pid=$!

# wait_blocked ADDR[/LEN] - ADDR in its set within E2E_WAIT seconds
wait_blocked() {
	wb_deadline=$(($(date +%s) + E2E_WAIT))
	while [ -z "$(element_timeout "$1")" ]; do
		[ "$(date +%s)" -le "$wb_deadline" ] ||
			e2e_fail "$1 not blocked after ${E2E_WAIT}s; blocks: $(set_elements "$(set_of "$1")" | tr '\n' ';')"
		sleep 0.1
	done
	ok "$1 is blocked (set $(set_of "$1"), timeout $(element_timeout "$1")s)"
}

# blocked ATTACKER PORT WHAT - ATTACKER's block: in the set, its next
# connection to PORT is dropped, and the clean address still connects there
blocked() {
	case $1 in
	*:*) b_src=$1 b_dst=$SERVER6 b_el=${1%:*}:/64 b_clean=2001:db8:1:31::31 ;;
	*) b_src=$1 b_dst=$SERVER4 b_el=$1 b_clean=$CLEAN ;;
	esac
	wait_blocked "$b_el"
	log_has "block $b_el for 1h: rule $3" || e2e_fail "no 'block $b_el for 1h: rule $3' in the daemon's log"
	expect_dropped "$b_src" "$b_dst" "$2"
	expect_connect "$b_clean" "$b_dst" "$2"
}
peer_addr 2001:db8:1:31::31/64 || fail "cannot add 2001:db8:1:31::31"

blocked 203.0.113.30 143 auth-ip
blocked 2001:db8:1:30::30 110 auth-ip
blocked 198.51.100.30 587 auth-ip
blocked 203.0.113.40 25 rcpt-session
blocked 203.0.113.60 25 rcpt-ip
blocked 203.0.113.50 25 rset-session
blocked 198.51.100.60 25 conn-rate

say "the account screen: carol is denied, and Dovecot refuses her right password"
wb_deadline=$(($(date +%s) + E2E_WAIT))
until deny_has carol; do
	[ "$(date +%s)" -le "$wb_deadline" ] || e2e_fail "carol not in $MS_DENY after ${E2E_WAIT}s: $(cat "$MS_DENY")"
	sleep 0.1
done
ok "carol is in $MS_DENY"
log_has "block account 'carol' for 1h: rule auth-account" ||
	e2e_fail "the daemon did not log carol's account block"
wait "$attack_pid"              # every attack's dialogue has ended
for i in $(seq 101 110); do assert_no_element 198.51.100.$i; done
# Dovecot re-reads the deny file within a second: poll
wb_deadline=$(($(date +%s) + E2E_WAIT))
until [ "$(client imap $CLEAN carol carol-pw)" = NO ]; do
	[ "$(date +%s)" -le "$wb_deadline" ] || e2e_fail "Dovecot still accepts carol's password ${E2E_WAIT}s after the block"
	sleep 0.2
done
ok "carol's right password is refused over IMAP from $CLEAN"
grep -q "imap-login: .*(user disabled): user=<carol>, .*rip=$CLEAN," "$MAILLOG" ||
	e2e_fail "Dovecot did not log carol's refusal as 'user disabled'"
ok "Dovecot logs it as 'user disabled'"
expect_client "carol's SMTP AUTH is refused from $CLEAN" 535 auth $CLEAN carol carol-pw

# ---- legitimate users ----

say "legitimate users keep working"
expect_client "alice reads her INBOX over IMAP from $COLLEAGUE" OK imapmail $COLLEAGUE alice alice-pw
expect_client "alice sends a message through submission with AUTH from $COLLEAGUE" 250 \
	send $COLLEAGUE alice alice-pw bob@example.org
# A mail client logs in again for each connection (several at once, again
# at every check): 10 logins of one account from one address in a few
# seconds are no attack; neither the address nor the account may be blocked.
for i in 1 2 3 4 5 6 7 8; do
	expect_client "alice's mail client logs in again ($i) from $COLLEAGUE" OK imap $COLLEAGUE alice alice-pw
done
expect_client "dave mistypes once, then logs in (IMAP, $BYSTANDER)" "NO
OK" imap $BYSTANDER dave typo dave dave-pw
expect_client "dave reads his INBOX over IMAP from $BYSTANDER" OK imapmail $BYSTANDER dave dave-pw
expect_client "dave sends through submission from $BYSTANDER" 250 send $BYSTANDER dave dave-pw alice@example.org

# Every line so far read (the daemon's read offset reached the log's end
# after their sessions' last lines): only then do "not blocked" and the
# deny file's content say something.
wait_for_line "$MAILLOG" 0 "postfix/submission/smtpd\[[0-9]+\]: disconnect from [^[]*\[$BYSTANDER\]" ||
	e2e_fail "no disconnect line for $BYSTANDER's submission session"
size=$(wc -c < "$MAILLOG")
wb_deadline=$(($(date +%s) + E2E_WAIT))
until ms_ctl status --json && off=$(printf '%s\n' "$MS_OUT" |
	jq -r '[.. | objects | select(.path? == "/var/log/mail.log") | .offset][0] // 0') && [ "$off" -ge "$size" ]; do
	[ "$(date +%s)" -le "$wb_deadline" ] || e2e_fail "the daemon did not read $MAILLOG to byte $size: offset ${off:-?}"
	sleep 0.1
done
ok "the daemon has read $MAILLOG up to byte $size"
# Each guess shows in two lines or three (Dovecot's auth process, then the
# login process's summary or Postfix's SASL line): counted once each.
for u in root test info; do
	assert_eq "auth-account count of '$u' (5 guesses)" 5 \
		"$(ctl_json "[.failures[] | select(.rule == \"auth-account\" and .key == \"$u\") | .count][0]" list accounts)"
done
assert_eq "auth-account count of alice (10 logins)" null \
	"$(ctl_json '[.failures[] | select(.rule == "auth-account" and .key == "alice") | .count][0]' list accounts)"
assert_no_element $COLLEAGUE
assert_no_element $BYSTANDER
assert_no_element $CLEAN
assert_eq "the deny file: carol alone (no account was counted twice)" carol "$(cat "$MS_DENY")"
expect_connect $COLLEAGUE $SERVER4 143
expect_connect $BYSTANDER $SERVER4 587

# ---- stop ----
mx_stop "$E/dovecot/dovecot.conf"
ms_stop
ok "servers and daemon stopped"
[ -n "${E2E_KEEP:-}" ] && cp "$MAILLOG" "$E2E_KEEP/mail.log" && cp "$MS_DLOG" "$E2E_KEEP/daemon.log"
# Whatever is left - after a failure too - dies with run.sh's PID namespace,
# and the mounts vanish with its mount namespace.

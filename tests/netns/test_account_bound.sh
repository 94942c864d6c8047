# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_account_bound.sh - accounts and sessions have bounds of their own,
# far below max_keys, and what they evict is counted and shown.
#
# With max_accounts = 100 and max_sessions = 100 (max_keys stays at its
# default): 300 failed IMAP logins, each of an account of its own, each
# from an address of its own; then 150 Postfix sessions with one unknown
# recipient each (the shipped rcpt-session rule counts per session).
# status --json then shows the accounts' table at 100 keys with 200
# evictions, the sessions' at 100 with 50, the addresses' table far from
# its bound with no eviction, and the same figures in plain status; and
# an account guessed at 10 times afterwards is still blocked.
# Run by run.sh, which has sourced lib.sh.

ms_config
# keys of [daemon] (ms_config's extra text would land in [allow])
sed -i "s|^state_dir = |max_accounts = 100\nmax_sessions = 100\nstate_dir = |" "$MS_CONF"
"$MS_BIN" check -c "$MS_CONF" -q || fail "the test configuration does not check"
ms_start

say "300 accounts, each failing once from an address of its own"
awk -v now="$(date '+%b %e %T')" 'BEGIN {
	for (i = 0; i < 300; i++)
		printf "%s mx dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<spray%03d@example.org>, method=PLAIN, rip=2001:db8:1:%x::1, lip=192.0.2.1, TLS, session=<Q%015d>\n", now, i, i, i
	for (i = 0; i < 150; i++)
		printf "%s mx postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[198.51.100.%d]: 550 5.1.1 <nosuch@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@example.net> to=<nosuch@example.org> proto=ESMTP helo=<h.example.net>\n", now, 40000 + i, 100 + i % 100
}' >> "$MS_LOG"
barrier 203.0.113.77

ctl_ok status --json
st=$MS_OUT
j() { printf '%s\n' "$st" | jq -r "$1"; }
assert_eq "accounts: keys/max/evictions" "100/100/200" \
	"$(j '.tables.accounts | "\(.keys)/\(.max)/\(.evictions)"')"
assert_eq "sessions: keys/max/evictions" "100/100/50" \
	"$(j '.tables.sessions | "\(.keys)/\(.max)/\(.evictions)"')"
assert_eq "addresses: max and evictions" "1000000/0" "$(j '.tables.addresses | "\(.max)/\(.evictions)"')"
[ "$(j .tables.addresses.keys)" -ge 300 ] || fail "addresses: $(j .tables.addresses.keys) keys, expected at least 300"
ok "addresses: $(j .tables.addresses.keys) keys"
assert_eq "evictions (all tables)" 250 "$(j .evictions)"
assert_eq "tracked keys (all tables)" "$(j '.tables | [.[].keys] | add')" "$(j .tracked_keys)"
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -q "accounts 100 (max_accounts 100 per table, 200 evicted), sessions 100 (max_sessions 100 per table, 50 evicted)" ||
	fail "status (text) does not show the accounts' and sessions' tables: $MS_OUT"
ok "status (text): $(printf '%s\n' "$MS_OUT" | grep '^tables:')"

say "an account guessed at afterwards is still counted and blocked"
imap_fail 198.51.100.20 target@example.org 10
wait_until "the deny file lists target@example.org" deny_has target@example.org
ms_stop

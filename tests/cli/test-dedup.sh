#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-dedup.sh - the sum of "count" over the auth-fail events of
# "mailscreen match --json" is the number of attempts the clients made,
# per address, whatever Dovecot's auth_verbose says and whichever file
# format it logs in. The logs in tests/cli/dedup/ were written by Dovecot
# 2.3.19 (Debian 12) for known attempts (tests/tools/dovecot-attempts.sh
# made them): 3 failed IMAP logins from 203.0.113.5 in one session, 2
# failed POP3 logins from 203.0.113.7, 1 from 2001:db8::bad:1 over IPv6, 2
# failed SMTP AUTH attempts from 203.0.113.8 through Dovecot SASL (logged
# by Postfix too in the syslog form; Dovecot's log_path file has them only
# with auth_verbose), and a successful login. --per-line shows what the
# lines alone would count. The postfix-*-syslog.log fixtures hold the
# real Postfix 3.7 in front of the real Dovecot, as rsyslog writes them
# (tests/tools/postfix-dovecot-attempts.sh; the attempts are listed there):
# the same sums (a guesser's "Connection lost to authentication server"
# included), the user names of SMTP AUTH attempts, the authenticated
# session's rejects after its auth-ok, and postscreen's clients counted as
# one connection each. Then the same over the benchmark's generated log
# (build/bench/gen), whose own count of attempts must come out.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
dir=$(dirname "$0")/dedup
fail=0

sums() {        # sums FILE [OPTION] - "ADDR=N ..." sorted
	"$MAILSCREEN" match -c /dev/null -f filters/postfix.conf -f filters/dovecot.conf --json ${2:-} "$1" 2>/dev/null |
		jq -r 'select(.event == "auth-fail") | "\(.ip) \(.count)"' |
		awk '{ s[$1] += $2 } END { for (k in s) print k "=" s[k] }' | sort | tr '\n' ' '
}
. "$(dirname "$0")/lib.sh"

all="2001:db8::bad:1=1 203.0.113.5=3 203.0.113.7=2 203.0.113.8=2 "
imap_pop="2001:db8::bad:1=1 203.0.113.5=3 203.0.113.7=2 "
expect "auth_verbose=no, syslog" "$all" "$(sums "$dir/quiet-syslog.log")"
expect "auth_verbose=yes, syslog" "$all" "$(sums "$dir/verbose-syslog.log")"
expect "auth_verbose=no, log_path (no SASL lines there)" "$imap_pop" "$(sums "$dir/quiet-logpath.log")"
expect "auth_verbose=yes, log_path" "$all" "$(sums "$dir/verbose-logpath.log")"
# the lines alone count the verbose attempts twice: the case dedup is for
expect "auth_verbose=yes, syslog, --per-line" "2001:db8::bad:1=2 203.0.113.5=6 203.0.113.7=4 203.0.113.8=4 " \
	"$(sums "$dir/verbose-syslog.log" --per-line)"

# the SMTP AUTH attempts are counted by the auth lines, which name the user
users=$("$MAILSCREEN" match -c /dev/null -f filters/postfix.conf -f filters/dovecot.conf --json "$dir/verbose-syslog.log" 2>/dev/null |
	jq -r 'select(.event == "auth-fail" and .ip == "203.0.113.8" and .count > 0) | "\(.user)/\(.service)"' | tr '\n' ' ')
expect "SASL attempts counted with their user names" "bob/auth dave/auth " "$users"
# and the lines that count 0 say why
dups=$("$MAILSCREEN" match -c /dev/null -f filters/postfix.conf -f filters/dovecot.conf --json "$dir/verbose-syslog.log" 2>/dev/null |
	jq -r 'select(.dup) | "\(.filter):\(.count)+\(.dup)"' | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ')
expect "lines counted before" "dovecot-login-fail:0+1x1 dovecot-login-fail:0+2x1 dovecot-login-fail:0+3x1 postfix-sasl:0+1x2 " "$dups"

# The same with the real Postfix 3.7 (Debian 12) in front of the real
# Dovecot (tests/tools/postfix-dovecot-attempts.sh made these logs, as
# rsyslog writes them): failed IMAP and POP3 logins, SMTP AUTH failures on
# submission (Postfix logs each one, Dovecot's auth process too with
# auth_verbose = yes), an authenticated session with two unknown
# recipients, and clients that pass postscreen.
pf_all="2001:db8::bad:1=1 2001:db8::bad:2=1 203.0.113.13=2 203.0.113.14=6 203.0.113.5=3 203.0.113.7=2 203.0.113.8=2 "
for mode in quiet verbose; do
	log=$dir/postfix-$mode-syslog.log
	expect "real Postfix + Dovecot, auth_verbose=$mode: auth-fail counts equal the attempts made" \
		"$pf_all" "$(sums "$log")"
	json=$("$MAILSCREEN" match -c /dev/null -f filters/postfix.conf -f filters/dovecot.conf --json "$log" 2>/dev/null)
	# each SASL attempt is counted once, with the user name it tried
	users=$(printf '%s\n' "$json" | jq -r 'select(.event == "auth-fail" and .ip == "203.0.113.7" and .count > 0) | .user' | tr '\n' ' ')
	expect "real Postfix + Dovecot, auth_verbose=$mode: SASL attempts counted with their user names" "bob dave " "$users"
	# the authenticated session: each unknown-recipient reject comes after
	# an auth-ok of the same session from postfix-submission-auth, and its
	# summary says auth=1
	got=$(printf '%s\n' "$json" | jq -r 'select(.ip == "203.0.113.11") | "\(.filter) \(.event) \(.session)"' |
		awk '$1 == "postfix-submission-auth" { ok[$3] = 1 }
		     $2 == "rcpt-fail" { n++; if (ok[$3]) after++ }
		     $1 == "postfix-auth-summary" && $2 == "auth-ok" { summary++ }
		     END { printf "rcpt-fail=%d after-auth-ok=%d summary-auth-ok=%d", n, after, summary }')
	expect "real Postfix + Dovecot, auth_verbose=$mode: an authenticated session's rejects come after its auth-ok" \
		"rcpt-fail=2 after-auth-ok=2 summary-auth-ok=1" "$got"
	# the client that did not authenticate gets "Access denied", not
	# X.1.1: its session is not taken for authenticated
	got=$(printf '%s\n' "$json" | jq -r 'select(.ip == "203.0.113.12") | .event' | sort | tr '\n' ' ')
	expect "real Postfix + Dovecot, auth_verbose=$mode: a submission client without AUTH is not authenticated" \
		"abuse connect disconnect " "$got"
	# a client that passes postscreen is one connection each time
	got=$(printf '%s\n' "$json" | jq -r 'select(.event == "connect" and (.ip == "203.0.113.9" or .ip == "203.0.113.10" or .ip == "2001:db8::bad:3")) | "\(.ip) \(.count)"' |
		awk '{ s[$1] += $2 } END { for (k in s) print k "=" s[k] }' | sort | tr '\n' ' ')
	expect "real Postfix + Dovecot, auth_verbose=$mode: a client that passes postscreen is one connect" \
		"2001:db8::bad:3=1 203.0.113.10=1 203.0.113.9=2 " "$got"
done

# The benchmark's generator knows how many attempts its clients made (its
# Dovecot lines are the login summary with a session id and pam's auth
# line for each attempt; its Postfix SASL lines stand alone): match counts
# exactly those.
GEN=${GEN:-build/bench/gen}
gen_out=$(mktemp "${TMPDIR:-/tmp}/test-dedup.XXXXXX") || exit 1
want=$("$GEN" -n 300000 -o "$gen_out" 2>&1 | sed -n 's/^expect: .* auth_attempts=\([0-9]*\) .*/\1/p')
got=$("$MAILSCREEN" match -c /dev/null -f filters/postfix.conf -f filters/dovecot.conf --json "$gen_out" 2>/dev/null |
	jq -r 'select(.event == "auth-fail") | .count' | awk '{ s += $1 } END { print s + 0 }')
rm -f "$gen_out"
[ -n "$want" ] || { echo "not ok - the generator said no auth_attempts"; fail=1; }
expect "generated log: auth-fail counts equal the attempts made ($want)" "$want" "$got"
exit $fail

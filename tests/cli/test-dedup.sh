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
# lines alone would count. Then the same over the benchmark's generated log
# (build/bench/gen), whose own count of attempts must come out.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
dir=$(dirname "$0")/dedup
fail=0

sums() {        # sums FILE [OPTION] - "ADDR=N ..." sorted
	"$MAILSCREEN" match -c /dev/null -f filters/postfix.conf -f filters/dovecot.conf --json ${2:-} "$1" 2>/dev/null |
		jq -r 'select(.event == "auth-fail") | "\(.ip) \(.count)"' |
		awk '{ s[$1] += $2 } END { for (k in s) print k "=" s[k] }' | sort | tr '\n' ' '
}
expect() {      # expect WHAT WANT GOT
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1: expected '$2', got '$3'"
		fail=1
	fi
}

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

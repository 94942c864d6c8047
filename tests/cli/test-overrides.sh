#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-overrides.sh - local overrides in a scratch configuration directory
# holding the shipped rules and filters: rules/auth.local changes one key
# of [auth-ip] and leaves the others as shipped; a rules.d/ drop-in
# disables a shipped rule, another adds a rule; filters/postfix.local
# replaces a filter's regex list (and match --explain names its regex by
# the override's file:line); mailscreen.local changes one option;
# "check --show" gives each value's origin (and what an override
# replaced, and defaults); a new version of the shipped rule file keeps
# the overrides; an unknown key in an override, a section that overrides
# nothing and is incomplete, and an override others may write are refused
# with file:line.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-overrides.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
d=$tmp/etc
mkdir -p "$d/rules" "$d/rules.d" "$d/filters" "$d/filters.d"
cp rules/*.conf "$d/rules/"
cp filters/postfix.conf filters/dovecot.conf filters/dovecot-connect.conf "$d/filters/"
cat >"$d/mailscreen.conf" <<CONF
[daemon]
filters = $d/filters
rules = $d/rules
[source mail]
path = $tmp/mail.log
filters = postfix dovecot dovecot-connect
CONF
# the line of 'limit' in [auth-ip] of the shipped file
limit_line=$(awk '/^\[/ { s = $0 } s == "[auth-ip]" && /^limit/ { print NR; exit }' "$d/rules/auth.conf")
grep -q '^limit *= *5$' "$d/rules/auth.conf" || { echo "rules/auth.conf: expected limit = 5"; exit 1; }

printf '# mine\n[auth-ip]\nlimit = 3\n' >"$d/rules/auth.local"
printf '[conn-rate]\nenabled = no\n' >"$d/rules.d/10-quiet.conf"
printf '[abuse-ip]\nevents = abuse\nlimit = 2\nwindow = 1m\nblock = 1d\n' >"$d/rules.d/20-abuse.conf"
printf '[nftables]\ntable = ovtable\n' >"$d/mailscreen.local"
printf '[postfix-sasl]\nregex = ^custom failure from (?<ip>\\S+)$\n' >"$d/filters/postfix.local"

"$MAILSCREEN" check -c "$d/mailscreen.conf" >"$tmp/out" 2>"$tmp/err"
expect "check accepts the overrides" "0" "$?"
expect "check lists the overrides read, in order" \
	"overrides: $d/mailscreen.local $d/filters/postfix.local $d/rules.d/10-quiet.conf $d/rules.d/20-abuse.conf $d/rules/auth.local" \
	"$(grep '^overrides:' "$tmp/out")"
expect "rules/auth.local changes the limit" "  auth-ip          3 events within 10m -> 1h" \
	"$(grep '^  auth-ip ' "$tmp/out")"
expect "a drop-in disables a shipped rule" "  conn-rate        (disabled) 31 events within 1m -> 1h" \
	"$(grep '^  conn-rate ' "$tmp/out")"
expect "a drop-in adds a rule" "  abuse-ip         2 events within 1m -> 1d" "$(grep '^  abuse-ip ' "$tmp/out")"
expect "mailscreen.local changes one option" "nftables: table inet ovtable, ports 25 465 587 110 995 143 993 4190" \
	"$(grep '^nftables:' "$tmp/out")"

"$MAILSCREEN" check -c "$d/mailscreen.conf" --show auth-ip >"$tmp/show" 2>&1
expect "--show exits 0" "0" "$?"
expect "--show: the section and its file" "[auth-ip]  rule, $d/rules/auth.conf:$((limit_line - 4)) (overridden)" \
	"$(head -n 1 "$tmp/show")"
expect "--show: the override's value, and what it replaced" \
	"  limit = 3                 ($d/rules/auth.local:3, was 5 in $d/rules/auth.conf:$limit_line)" \
	"$(grep '^  limit ' "$tmp/show")"
expect "--show: a shipped value" "  window = 10m              ($d/rules/auth.conf:$((limit_line + 1)))" \
	"$(grep '^  window ' "$tmp/show")"
expect "--show: a default" "  enabled = yes             (default)" "$(grep '^  enabled ' "$tmp/show")"
"$MAILSCREEN" check -c "$d/mailscreen.conf" --show abuse-ip >"$tmp/show" 2>&1
expect "--show: a rule a drop-in added" "[abuse-ip]  rule, $d/rules.d/20-abuse.conf:1 (added by an override)" \
	"$(head -n 1 "$tmp/show")"
"$MAILSCREEN" check -c "$d/mailscreen.conf" -v >"$tmp/show" 2>&1
expect "-v: a configuration option from mailscreen.local" "  table = ovtable           ($d/mailscreen.local:2)" \
	"$(grep '^  table ' "$tmp/show")"
"$MAILSCREEN" check -c "$d/mailscreen.conf" --show no-such-thing >/dev/null 2>&1
expect "--show of an unknown name fails" "1" "$?"

# the regex list of the override is the filter's whole list
printf 'Nov 23 10:00:05 mx postfix/smtpd[1]: custom failure from 203.0.113.9\nNov 23 10:00:06 mx postfix/smtpd[2]: warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n' \
	>"$tmp/mail.log"
"$MAILSCREEN" match -c "$d/mailscreen.conf" --json "$tmp/mail.log" 2>/dev/null | grep -c '"filter": "postfix-sasl"' >"$tmp/n"
expect "filters/postfix.local replaces the regex list (1 event, not 2)" "1" "$(cat "$tmp/n")"
"$MAILSCREEN" match -c "$d/mailscreen.conf" --json "$tmp/mail.log" 2>/dev/null | grep -o '"ip": "203.0.113.9"' >"$tmp/n"
expect "the override's regex matches" '"ip": "203.0.113.9"' "$(cat "$tmp/n")"

printf 'Nov 23 10:00:05 mx postfix/smtpd[1]: custom failure from 203.0.113.9\n' >"$tmp/one.log"
"$MAILSCREEN" match -c "$d/mailscreen.conf" --explain "$tmp/one.log" 2>/dev/null | grep '^ *postfix-sasl (' >"$tmp/n"
expect "match --explain names the override's regex by file:line" \
	"        postfix-sasl (postfix.conf): regex 1 ($d/filters/postfix.local:2) matched: event auth-fail; ip=203.0.113.9" \
	"$(cat "$tmp/n")"

# an upgrade replaces the shipped file: the override stays in force
sed 's/^window *= *10m$/window = 15m/' rules/auth.conf >"$d/rules/auth.conf"
"$MAILSCREEN" check -c "$d/mailscreen.conf" >"$tmp/out" 2>&1
expect "after the shipped file changed, the override still applies" "  auth-ip          3 events within 15m -> 1h" \
	"$(grep '^  auth-ip ' "$tmp/out")"

# errors carry file:line, and a broken override is refused like a broken file
printf '[auth-ip]\nlimmit = 3\n' >"$d/rules.d/90-typo.conf"
"$MAILSCREEN" check -c "$d/mailscreen.conf" >"$tmp/out" 2>"$tmp/err"
expect "an unknown key in an override is refused" "1" "$?"
expect "... naming the override's file and line" \
	"$d/rules.d/90-typo.conf:2: unknown key 'limmit' in rule [auth-ip] (known: events, services, per, limit, window, block, enabled, users, exempt_authenticated, ipv4_prefix, ipv6_prefix, countries, not_countries, shared)" \
	"$(cat "$tmp/err")"
printf '[auth-ipp]\nlimit = 3\n' >"$d/rules.d/90-typo.conf"
"$MAILSCREEN" check -c "$d/mailscreen.conf" >"$tmp/out" 2>"$tmp/err"
expect "a section that overrides nothing and is incomplete is refused" "1" "$?"
expect "... naming the override and the shipped file" \
	"$d/rules.d/90-typo.conf:1: rule 'auth-ipp' (line 2) has no 'events' (e.g. events = auth-fail) (no shipped rule is named 'auth-ipp', so this section adds a new rule; did you mean [auth-ip] of $d/rules/auth.conf:$((limit_line - 4))?)" \
	"$(cat "$tmp/err")"
rm "$d/rules.d/90-typo.conf"
printf '[daemon]\nmax_line = 3\n' >"$d/mailscreen.local"
"$MAILSCREEN" check -c "$d/mailscreen.conf" >"$tmp/out" 2>"$tmp/err"
expect "a bad value in mailscreen.local is refused at its line" \
	"$d/mailscreen.local:2: max_line: '3' is not a number from 256 to 1048576" "$(cat "$tmp/err")"
rm "$d/mailscreen.local"
chmod o+w "$d/rules/auth.local"
"$MAILSCREEN" check -c "$d/mailscreen.conf" >"$tmp/out" 2>"$tmp/err"
expect "an override others may write is refused" "'$d/rules/auth.local' is writable by others (chmod go-w '$d/rules/auth.local')" \
	"$(cat "$tmp/err")"
exit $fail

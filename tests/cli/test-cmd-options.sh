#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-options.sh - "mailscreen options" prints every section and key
# of mailscreen.conf, rule files and filter files with type, default and
# meaning; "--markdown" the same as Markdown tables; and the parsers
# accept exactly the keys it lists: an unknown key's error names them all.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-options.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"

"$MAILSCREEN" options >"$tmp/plain" 2>"$tmp/err"
expect "options: exit status" 0 $?
expect "options: section lines" \
	"[daemon]|[nftables]|[repeat]|[prefix]|[logging]|[notify]|[metrics]|[cluster]|[location]|[source NAME]|[allow]|[nat]|[RULE] in a rule file|[FILTER] in a filter file" \
	"$(grep -v '^  ' "$tmp/plain" | grep -v '^$' | paste -s -d '|')"
expect "options: a [daemon] key" \
	"  control (text; default /run/mailscreen/control): control socket path" \
	"$(grep '^  control (' "$tmp/plain")"
expect "options: a [source] key" \
	"  journal_path (path; default none): with journal: read this journal directory or *.journal file instead of the system journal" \
	"$(grep '^  journal_path (' "$tmp/plain")"
expect "options: a rule key" \
	"  limit (number, 0 to 10000; default (required)): events within the window that decide; 0 means no limit (the rule never decides)" \
	"$(grep '^  limit (' "$tmp/plain")"
expect "options: a filter key" \
	"  handoff (yes/no; default no): connect filters: the next connect of the same address and service from another filter within 30 seconds counts 0" \
	"$(grep '^  handoff (' "$tmp/plain")"

"$MAILSCREEN" options --markdown >"$tmp/md"
expect "--markdown: exit status" 0 $?
expect "--markdown: one table per section" 14 "$(grep -c '^| `\[.*\]` key.* | type | default | meaning |$' "$tmp/md")"
expect "--markdown: a row" '| `address` | ADDRESS[/LEN] | (none) | never counted nor blocked; repeatable, IPv4 or IPv6; host bits set are an error |' \
	"$(grep '^| `address` |' "$tmp/md")"
expect "--markdown: as many keys as the text" "$(grep -c '^  [a-z]' "$tmp/plain")" "$(grep -c '^| `[a-z]' "$tmp/md")"
"$MAILSCREEN" options --bogus >/dev/null 2>&1
expect "an unknown option: exit status" 2 $?

# the keys of a section, as options lists them: "a, b, c"
keys() { sed -n "/^$1/,/^\$/p" "$tmp/plain" | sed -n 's/^  \([a-z_0-9]*\) (.*/\1/p' | paste -s -d ',' | sed 's/,/, /g'; }

cat >"$tmp/rules.conf" <<'CONF'
[r]
events = auth-fail
bogus = 1
CONF
cat >"$tmp/a.conf" <<CONF
[daemon]
filters = $(pwd)/filters
rules = $tmp/rules.conf
CONF
"$MAILSCREEN" check -c "$tmp/a.conf" >/dev/null 2>"$tmp/err"
expect "unknown rule key: the known ones are options' [RULE] keys" \
	"$tmp/rules.conf:3: unknown key 'bogus' in rule [r] (known: $(keys '\[RULE\]'))" "$(cat "$tmp/err")"

cat >"$tmp/f.conf" <<'CONF'
[f]
event = auth-fail
bogus = 1
CONF
cat >"$tmp/b.conf" <<CONF
[daemon]
filters = $tmp/f.conf
rules = $(pwd)/rules
CONF
"$MAILSCREEN" check -c "$tmp/b.conf" >/dev/null 2>"$tmp/err"
expect "unknown filter key: the known ones are options' [FILTER] keys" \
	"$tmp/f.conf:3: unknown key 'bogus' in [f] (known: $(keys '\[FILTER\]'))" "$(cat "$tmp/err")"

cat >"$tmp/c.conf" <<CONF
[daemon]
filters = $(pwd)/filters
rules = $(pwd)/rules
[source s]
bogus = 1
CONF
"$MAILSCREEN" check -c "$tmp/c.conf" >/dev/null 2>"$tmp/err"
expect "unknown source key: the known ones are options' [source NAME] keys" \
	"$tmp/c.conf:5: unknown key 'bogus' in [source s] (known: $(keys '\[source NAME\]'))" "$(cat "$tmp/err")"
exit $fail

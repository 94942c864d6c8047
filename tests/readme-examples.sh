#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# readme-examples.sh - the README's ```ini examples are accepted verbatim by
# "mailscreen check": a block with a regex is a filter file, a block with a
# [daemon], [nftables], [source ...], [nat] or [allow] section is a
# configuration, any other block is a rule file. The filter and rule blocks
# are checked together under a configuration naming them; each
# configuration block is checked on its own (with the source tree's
# filters and rules). A block whose first line is a comment naming an
# override file ("# rules/auth.local", "# rules.d/site.conf", "# filters/
# NAME.local", "# filters.d/NAME.conf", "# mailscreen.local",
# "# mailscreen.d/NAME.conf") is that file, checked with the others of its
# kind over the shipped rules and filters of the source tree. README=
# docs/filters.md checks the filter author's guide the same way
# (tests/check.sh runs both).
MAILSCREEN=${MAILSCREEN:-./mailscreen}
README=${README:-README.md}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readme-examples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/blocks" "$tmp/filters" "$tmp/rules"
ov=$tmp/ov no=0
mkdir -p "$ov/rules" "$ov/rules.d" "$ov/filters" "$ov/filters.d" "$ov/mailscreen.d"
cp rules/*.conf "$ov/rules/" && cp filters/*.conf "$ov/filters/" || exit 1

awk -v dir="$tmp/blocks" '
	/^```ini[ \t]*$/ { n++; f = sprintf("%s/%03d-%d.ini", dir, n, NR + 1); next }
	/^```/ { f = ""; next }
	f != "" { print > f }
' "$README"

nf=0 nr=0 nc=0 fail=0 names=""
for b in "$tmp"/blocks/*.ini; do
	[ -e "$b" ] || continue
	line=${b##*-}; line=${line%.ini}
	target=$(sed -n '1s/^# *\(\(rules\|filters\)\/[a-z0-9_-]*\.local\|\(rules\|filters\|mailscreen\)\.d\/[a-z0-9_-]*\.conf\|mailscreen\.local\) *$/\1/p' "$b")
	if [ -n "$target" ]; then
		no=$((no + 1))
		cat "$b" >> "$ov/$target"
		continue
	fi
	if grep -Eq '^[[:blank:]]*\[(daemon|nftables|nat|allow|source( [^]]*)?)\]' "$b"; then
		nc=$((nc + 1))
		out=$("$MAILSCREEN" check -q -c "$b" 2>&1) ||
			{ echo "$README:$line: the configuration example is not accepted: $out"; fail=1; }
	elif grep -Eq '^[[:blank:]]*regex[[:blank:]]*=' "$b"; then
		nf=$((nf + 1))
		cp "$b" "$tmp/filters/readme-$line.conf"
		names="$names readme-$line"
	else
		nr=$((nr + 1))
		cp "$b" "$tmp/rules/readme-$line.conf"
	fi
done
if [ "$no" -gt 0 ]; then
	printf '[daemon]\nfilters = %s\nrules = %s\n' "$ov/filters" "$ov/rules" > "$ov/mailscreen.conf"
	chmod -R go-w "$ov"
	out=$("$MAILSCREEN" check -q -c "$ov/mailscreen.conf" 2>&1) ||
		{ echo "$README: an override example is not accepted: $out" | sed "s|$ov/||g"; fail=1; }
fi
if [ $((nf + nr + nc + no)) -eq 0 ]; then
	echo "$README: no \`\`\`ini examples found"; exit 1
fi
[ "$nf" -gt 0 ] || cp filters/*.conf "$tmp/filters/"
[ "$nr" -gt 0 ] || cp rules/*.conf "$tmp/rules/"
{
	printf '[daemon]\nfilters = %s\nrules = %s\n' "$tmp/filters" "$tmp/rules"
	if [ "$nf" -gt 0 ]; then
		printf '\n[source mail]\npath = /var/log/mail.log\nfilters =%s\n' "$names"
	fi
} >"$tmp/mailscreen.conf"
if ! out=$("$MAILSCREEN" check -q -c "$tmp/mailscreen.conf" 2>&1); then
	# name the README line rather than the temporary file
	echo "$out" | sed -E "s|$tmp/(filters\|rules)/readme-([0-9]+)\.conf:([0-9]+)|$README: the example at line \2, its line \3|"
	fail=1
fi
[ $fail -eq 0 ] && echo "$README examples ok: $nf filter, $nr rule, $nc configuration, $no override blocks"
exit $fail

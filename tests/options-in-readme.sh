#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# options-in-readme.sh - the README's configuration reference is exactly
# `mailscreen options --markdown` (between its begin and end markers), the
# plain `mailscreen options` lists the same keys in the same order, and
# the filter guide's key table names every filter key. Exit 1 with the
# difference.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
./mailscreen options --markdown > "$tmp/md" || { echo "mailscreen options --markdown failed"; exit 1; }
./mailscreen options > "$tmp/plain" || { echo "mailscreen options failed"; exit 1; }
sed -n '/^<!-- mailscreen options --markdown: begin -->$/,/^<!-- mailscreen options --markdown: end -->$/p' \
	README.md | sed '1d;$d' > "$tmp/readme"
[ -s "$tmp/readme" ] || { echo "README.md has no block between the 'mailscreen options --markdown' markers"; exit 1; }
if ! diff -u "$tmp/readme" "$tmp/md" > "$tmp/diff"; then
	echo "README.md's configuration reference differs from 'mailscreen options --markdown'"
	echo "(- README.md, + the binary; paste the binary's output between the markers):"
	cat "$tmp/diff"
	exit 1
fi
sed -n 's/^| `\([a-z_0-9]*\)` |.*/\1/p' "$tmp/md" > "$tmp/mdkeys"
sed -n 's/^  \([a-z_0-9]*\) (.*; default .*): .*/\1/p' "$tmp/plain" > "$tmp/plainkeys"
cmp -s "$tmp/mdkeys" "$tmp/plainkeys" || { echo "options and options --markdown list other keys:"; diff "$tmp/plainkeys" "$tmp/mdkeys"; exit 1; }
sed -n '/^| `\[FILTER\]` key/,/^$/p' "$tmp/md" | sed -n 's/^| `\([a-z_]*\)` |.*/\1/p' > "$tmp/fkeys"
[ -s "$tmp/fkeys" ] || { echo "options --markdown has no [FILTER] table"; exit 1; }
while read -r k; do
	grep -q "^| \`$k\` |" docs/filters.md || { echo "docs/filters.md's key table lacks the filter key '$k'"; exit 1; }
done < "$tmp/fkeys"
echo "options: $(wc -l < "$tmp/mdkeys") keys, README.md and docs/filters.md agree"

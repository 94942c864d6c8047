#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# seed-table.sh - the README's table "From Dynamic Screening and SMTP
# Screen" names only what exists. Its third column ("mailscreen") holds,
# in backticks, each of:
#   [SECTION] KEY            a key of `mailscreen options` ([RULE] and
#                            [FILTER] are the rule and filter file keys)
#   rules/FILE [RULE] KEY    a shipped rule file, a section of it, a rule key
#   mailscreen CMD [--OPT…]  a command of `mailscreen -h`, and each option
#                            in its `mailscreen CMD -h`
# or the word "none", and then the last column says why. Every link
# (#anchor) in the table must lead to a heading of the README. Anything
# else in that column is an error, so a typo cannot pass unchecked. Prints
# every problem, then exits 1 if there was one.
cd "$(dirname "$0")/.." || exit 1
README=${README:-README.md}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

./mailscreen options > "$tmp/options" || { echo "mailscreen options failed"; exit 1; }
./mailscreen -h > "$tmp/help" 2>&1 || { echo "mailscreen -h failed"; exit 1; }

# "SECTION KEY" per line: [daemon] state_dir, [RULE] limit, [source NAME] path
awk '/^\[/ { s = $0; sub(/\].*/, "]", s); next }
     /^  [a-z_0-9]+ \(/ { k = $1; print s " " k }' "$tmp/options" > "$tmp/keys"
[ -s "$tmp/keys" ] || { echo "no keys read from 'mailscreen options'"; exit 1; }
# the commands: the indented first words after "commands:"
awk '/^commands:/ { on = 1; next } on && /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' \
	"$tmp/help" > "$tmp/commands"
[ -s "$tmp/commands" ] || { echo "no commands read from 'mailscreen -h'"; exit 1; }
# GitHub's anchors of the README's headings
sed -n 's/^#\{1,6\} //p' "$README" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9 _-]//g; s/ /-/g' > "$tmp/anchors"

# the table's rows: from its heading to the next heading
sed -n '/^## From Dynamic Screening and SMTP Screen$/,/^## /p' "$README" |
	grep '^| ' | sed '1,2d' > "$tmp/rows"
rows=$(wc -l < "$tmp/rows")
[ "$rows" -gt 0 ] || { echo "$README has no table under '## From Dynamic Screening and SMTP Screen'"; exit 1; }

bad=0
fail() { echo "$*"; bad=$((bad + 1)); }
n=0 names=0
while IFS= read -r row; do
	n=$((n + 1))
	# cells: | option | tab | mailscreen | see | note |  (no '|' before the note)
	opt=$(printf '%s\n' "$row" | awk -F'|' '{ print $2 }' | sed 's/^ *//; s/ *$//')
	eq=$(printf '%s\n' "$row" | awk -F'|' '{ print $4 }' | sed 's/^ *//; s/ *$//')
	see=$(printf '%s\n' "$row" | awk -F'|' '{ print $5 }')
	note=$(printf '%s\n' "$row" | awk -F'|' '{ for (i = 6; i < NF; i++) printf "%s|", $i }' |
		sed 's/|$//; s/^ *//; s/ *$//')
	where="row $n ($opt)"
	[ -n "$opt" ] || fail "$where: no option named"
	printf '%s\n' "$see" | grep -q '(#' || fail "$where: no link to a README section"
	for a in $(printf '%s\n' "$row" | grep -o '](#[a-z0-9_-]*)' | sed 's/^](#//; s/)$//'); do
		grep -qx "$a" "$tmp/anchors" || fail "$where: link #$a leads to no heading of $README"
	done
	if [ "$eq" = none ]; then
		[ -n "$note" ] || fail "$where: 'none' without saying why"
		continue
	fi
	# the column must be backticked names separated by ", "
	rest=$(printf '%s\n' "$eq" | sed 's/`[^`]*`//g; s/, //g')
	[ -z "$rest" ] || fail "$where: column 3 holds '$rest' outside backticks (only \`names\`, or none)"
	printf '%s\n' "$eq" | grep -o '`[^`]*`' | tr -d '`' > "$tmp/names"
	[ -s "$tmp/names" ] || fail "$where: column 3 names nothing"
	while IFS= read -r name; do
		names=$((names + 1))
		case $name in
		'mailscreen '*)
			cmd=$(printf '%s\n' "$name" | awk '{ print $2 }')
			if ! grep -qx "$cmd" "$tmp/commands"; then
				fail "$where: '$name': 'mailscreen -h' has no command '$cmd'"
				continue
			fi
			./mailscreen "$cmd" -h > "$tmp/cmdhelp" 2>&1
			for o in $(printf '%s\n' "$name" | tr ' ' '\n' | grep '^--'); do
				grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$tmp/cmdhelp" || fail "$where: '$name': 'mailscreen $cmd -h' has no $o"
			done
			;;
		rules/*)
			file=${name%% *}
			sect=$(printf '%s\n' "$name" | sed -n 's/^[^ ]* \(\[[^]]*\]\) [a-z_0-9]*$/\1/p')
			key=${name##* }
			if [ -z "$sect" ]; then
				fail "$where: '$name' is not 'rules/FILE [RULE] KEY'"
			elif [ ! -f "$file" ]; then
				fail "$where: '$name': no file $file"
			else
				grep -qxF "$sect" "$file" || fail "$where: '$name': $file has no section $sect"
				grep -qxF "[RULE] $key" "$tmp/keys" || fail "$where: '$name': rules have no key '$key' (mailscreen options)"
			fi
			;;
		'['*)
			printf '%s\n' "$name" | grep -q '^\[[^]]*\] [a-z_0-9]*$' ||
				{ fail "$where: '$name' is not '[SECTION] KEY'"; continue; }
			sect=${name%] *}]
			if ! grep -q "^$(printf '%s' "$sect" | sed 's/[][]/\\&/g') " "$tmp/keys"; then
				fail "$where: '$name': 'mailscreen options' has no section $sect"
			else
				grep -qxF "$name" "$tmp/keys" || fail "$where: '$name': 'mailscreen options' has no key '${name##* }' in $sect"
			fi
			;;
		*)
			fail "$where: '$name' is neither a key, a rule nor a command"
			;;
		esac
	done < "$tmp/names"
done < "$tmp/rows"

if [ $bad -gt 0 ]; then
	echo "seed table: $bad problems in $rows rows"
	exit 1
fi
echo "seed table: $rows rows, $names names, every key, rule, command and link exists"

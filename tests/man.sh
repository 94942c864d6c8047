#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The manual pages render without warnings, mailscreen.8 names every
# command of the binary, and mailscreen.conf.5 every option.
set -eu
cd "$(dirname "$0")/.."
for page in contrib/man/mailscreen.8 contrib/man/mailscreen.conf.5; do
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null) || true
	[ -z "$out" ] || { echo "$page: $out"; exit 1; }
done
for cmd in $(./mailscreen -h | awk '/^  [a-z]/ { print $1 }'); do
	sed 's/\\-/-/g' contrib/man/mailscreen.8 | grep -qw -- "$cmd" ||
		{ echo "mailscreen.8 lacks the command '$cmd'"; exit 1; }
done
for opt in $(./mailscreen options --markdown | sed -n 's/^| `\([a-z_]*\)` |.*/\1/p'); do
	grep -qw -- "$opt" contrib/man/mailscreen.conf.5 ||
		{ echo "mailscreen.conf.5 lacks the option '$opt'"; exit 1; }
done
echo "man pages ok"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# build-deps.sh - the two lists of what building needs say the same: the
# Makefile's DEBS_BUILD (what `make deps` installs) and the package's
# Build-Depends (contrib/debian/control). gcc and make are Debian's
# build-essential, which Build-Depends never names; debhelper-compat is the
# package's own. Prints what one list has and the other lacks; exit 1 if
# anything.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

make -s --no-print-directory -f Makefile -f - print-debs-build <<'MK' | tr ' ' '\n' | grep . | grep -v -x -e gcc -e make | sort -u > "$tmp/make"
print-debs-build:
	@echo $(DEBS_BUILD)
MK
[ -s "$tmp/make" ] || { echo "no DEBS_BUILD read from the Makefile"; exit 1; }
# the Build-Depends field: its first line and the indented lines after it
awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, ""); print; next }
     on && /^[ \t]/ { print; next } { on = 0 }' contrib/debian/control |
	tr ',' '\n' | sed 's/([^)]*)//; s/\[[^]]*\]//; s/^[ \t]*//; s/[ \t]*$//' | grep . |
	grep -v -x -e debhelper-compat | sort -u > "$tmp/control"
[ -s "$tmp/control" ] || { echo "no Build-Depends read from contrib/debian/control"; exit 1; }
rc=0
for p in $(comm -23 "$tmp/make" "$tmp/control"); do
	echo "DEBS_BUILD (Makefile) has $p, Build-Depends (contrib/debian/control) does not: add it there"
	rc=1
done
for p in $(comm -13 "$tmp/make" "$tmp/control"); do
	echo "Build-Depends (contrib/debian/control) has $p, DEBS_BUILD (Makefile) does not: add it there"
	rc=1
done
[ $rc = 0 ] && echo "ok - DEBS_BUILD and Build-Depends name the same $(wc -l < "$tmp/make") packages"
exit $rc

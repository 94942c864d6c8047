#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# module-map.sh - HACKING.md's module map matches the tree: every module
# under watcher/STAGE/ (a .c or .h file; private _int.h headers aside) is
# named in the map's rows of its own folder, and the map names no module
# that is not there. Exit 1 with what differs.
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# the tree: "STAGE MODULE", once each
for f in watcher/*/*.c watcher/*/*.h; do
	m=$(basename "$f")
	case $m in *_int.h) continue ;; esac
	case $m in *.c) m=${m%.c} ;; *.h) [ -e "${f%.h}.c" ] && continue; m=${m%.h}.h ;; esac
	echo "$(basename "$(dirname "$f")") $m"
done | sort -u > "$tmp/tree"
# the map: the table's rows; a row whose first cell names a folder starts
# it; every `name` in the second cell is a module of that folder
awk -F'|' '
	/^\| folder \| module/ { on = 1; next }
	on && !/^\|/ { exit }
	on && /^\|---/ { next }
	on {
		if ($2 ~ /`[a-z]+\/`/) { d = $2; gsub(/[ `\/]/, "", d) }
		n = split($3, w, "`")
		for (i = 2; i <= n; i += 2) print d, w[i]
	}' HACKING.md | sort -u > "$tmp/map"
if ! cmp -s "$tmp/tree" "$tmp/map"; then
	echo "HACKING.md's module map and watcher/ differ (< only in the tree, > only in the map):"
	diff "$tmp/tree" "$tmp/map" | grep '^[<>]'
	exit 1
fi
echo "module map: $(wc -l < "$tmp/tree") modules in $(cut -d' ' -f1 "$tmp/tree" | sort -u | wc -l) folders, as in HACKING.md"

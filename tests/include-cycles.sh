#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# include-cycles.sh - no include cycle between modules: the edges "module
# includes a header of another module" over watcher/ must sort
# topologically (tsort). A module is a file's name without .c/.h and
# without _int; the daemon's own files (daemon*.c, daemon*.h) are one
# module, since they share struct daemon by design.
cd "$(dirname "$0")/.." || exit 1
mod() { m=$(basename "$1"); m=${m%.[ch]}; m=${m%_int}; case $m in daemon*) m=daemon ;; esac; echo "$m"; }
edges=$(for f in watcher/*/*.c watcher/*/*.h; do
	a=$(mod "$f")
	sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f" | while read -r h; do
		b=$(mod "$h")
		[ "$a" = "$b" ] || echo "$a $b"
	done
done | sort -u)
if ! out=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null) || [ -n "$out" ]; then
	echo "include cycle between modules:"
	printf '%s\n' "$out"
	exit 1
fi
echo "no include cycle: $(printf '%s\n' "$edges" | wc -l) includes between modules"

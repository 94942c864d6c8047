#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-check.sh - "mailscreen check": a trailing "# comment" after a
# value is no part of it, and a source path whose directory does not
# exist either gets a warning (stderr, exit 0); a missing file in an
# existing directory does not (the daemon waits for it).
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
cat >"$tmp/a.conf" <<CONF
[daemon]
filters = $(pwd)/filters  # shipped
rules = $(pwd)/rules
[source mail]
path = $tmp/nodir/mail.log   # postfix
filters = postfix dovecot ; both
CONF
"$MAILSCREEN" check -c "$tmp/a.conf" >"$tmp/out" 2>"$tmp/err"
expect "exit status" 0 $?
expect "the path without its comment" "source mail: $tmp/nodir/mail.log (filters: postfix dovecot)" \
	"$(grep '^source mail:' "$tmp/out")"
expect "warning for a path in a missing directory" \
	"$tmp/a.conf: warning: [source mail] path '$tmp/nodir/mail.log': neither the file nor its directory exists (a typo? mailscreen waits for a missing file, but not in a missing directory)" \
	"$(cat "$tmp/err")"
mkdir "$tmp/nodir"
"$MAILSCREEN" check -c "$tmp/a.conf" >"$tmp/out" 2>"$tmp/err"
expect "no warning once the directory exists" "" "$(cat "$tmp/err")"
exit $fail

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-test.sh - "mailscreen test" reports each sample line whose
# events differ from its annotations as "sample:line: expected ... got ...",
# an annotation format error and a filter no line exercises, then
# "samples NAME: ..." and exit status 1; a sample that fits passes with 0.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/samples"
cat >"$tmp/t.conf" <<'CONF'
[t-fail]
program = dovecot
event   = auth-fail
regex   = ^fail: rip=(?<ip>[0-9.]+), user=<(?<user>[^>]*)>$

[t-unused]
program = dovecot
event   = connect
regex   = ^never-written: rip=(?<ip>[0-9.]+)$
CONF
cat >"$tmp/samples/t.log" <<'LOG'
# a line that fits its annotation
#> auth-fail filter=t-fail ip=192.0.2.1 user="a b"
Nov 22 10:00:00 mx dovecot: fail: rip=192.0.2.1, user=<a b>
# a mismatch: wrong address, and a user that must be absent
#> auth-fail ip=192.0.2.9 user=-
Nov 22 10:00:01 mx dovecot: fail: rip=192.0.2.2, user=<x>
#> none
Nov 22 10:00:02 mx dovecot: fail: rip=192.0.2.3, user=<>
#> connect port=25
Nov 22 10:00:03 mx dovecot: nothing
LOG
"$MAILSCREEN" test "$tmp/t.conf" >"$tmp/out" 2>&1
rc=$?
cat >"$tmp/want" <<WANT
$tmp/samples/t.log:9: unknown key 'port' (known: filter ip user service session count only_if_counted)
$tmp/samples/t.log:10: log line without an annotation (#> KIND ... or #> none)
$tmp/samples/t.log:6: expected auth-fail ip="192.0.2.9" user=- got auth-fail filter="t-fail" ip="192.0.2.2" user="x" count="1"
$tmp/samples/t.log:8: expected none got auth-fail filter="t-fail" ip="192.0.2.3" count="1"
$tmp/t.conf: filter [t-unused] is not exercised: no sample line produces an event from it
samples t: 4 lines, 3 events, 5 failed
WANT
fail=0
if [ $rc -ne 1 ]; then echo "FAIL: exit status $rc, want 1"; fail=1; fi
if ! diff -u "$tmp/want" "$tmp/out"; then echo "FAIL: output differs (above)"; fail=1; fi
# the same verdicts as the shell implementation, where it can run
if command -v jq >/dev/null 2>&1; then
	MAILSCREEN=$MAILSCREEN sh tests/filters/run-samples.sh "$tmp/t.conf" >"$tmp/sh.out" 2>&1
	if ! diff -u "$tmp/sh.out" "$tmp/out"; then echo "FAIL: differs from run-samples.sh (above)"; fail=1; fi
fi

# the same file without the mistakes passes
sed -i -e '/^\[t-unused\]/,$d' "$tmp/t.conf"
cat >"$tmp/samples/t.log" <<'LOG'
#> auth-fail filter=t-fail ip=192.0.2.1 user="a b"
Nov 22 10:00:00 mx dovecot: fail: rip=192.0.2.1, user=<a b>
#> none
Nov 22 10:00:03 mx dovecot: nothing
LOG
out=$("$MAILSCREEN" test "$tmp/t.conf" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ "$out" != "samples t: 2 lines, 1 events, 0 failed" ]; then
	echo "FAIL: a fitting sample: exit $rc, output: $out"; fail=1
fi
[ $fail -eq 0 ] && echo "ok"
exit $fail

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_ctl_broken_config.sh - the control commands reach the running daemon
# after a bad edit of its configuration file, and when nothing answers they
# say how to reach it (-s SOCKET, where to look), never a dead end.
#
#   - the daemon runs on a good file; a key it does not know and a line
#     that is not INI are added to it: status, block, list and unblock
#     with -c FILE (no -s) still work, warn that the file does not load,
#     and take the socket from its [daemon] control line;
#   - the same file without a control line: the built-in socket
#     /run/mailscreen/control is used (a private tmpfs over /run here, in
#     this test's mount namespace, with that name a link to the daemon's
#     socket);
#   - a broken file naming a socket where nothing listens: the built-in
#     socket is tried next; when that fails too, the answer names the
#     sockets in /run/mailscreen with the -s command line for each, and
#     that command line works;
#   - -c naming a file that does not exist: exit 1, saying -s SOCKET.
# Run by run.sh, which has sourced lib.sh.

ms_config
ms_start

# ctl_c COMMAND [ARGS...] - like ms_ctl, but -c MS_CONF instead of -s
ctl_c() {
	ctl_cmd=$1
	shift
	MS_OUT=$("$MS_BIN" "$ctl_cmd" -c "$MS_CONF" "$@" 2> "$MS_TMP/ctl.err")
	MS_RC=$?
	MS_ERR=$(cat "$MS_TMP/ctl.err")
	return $MS_RC
}
err_has() { printf '%s\n' "$MS_ERR" | grep -F -q -e "$1" || fail "$2: stderr lacks '$1': $MS_ERR"; }

say "the configuration file broken after the start"
cp "$MS_CONF" "$MS_TMP/good.conf"
printf '[daemon]\nno_such_key = 1\nthis line is not INI\n' >> "$MS_CONF"
"$MS_BIN" check -c "$MS_CONF" > /dev/null 2>&1 && fail "check must refuse the broken file"

ctl_c status || fail "status -c broken file: exit $MS_RC: $MS_ERR"
err_has "does not load; using its socket $MS_SOCK ([daemon] control)" "status"
printf '%s\n' "$MS_OUT" | grep -q '^blocks: ' || fail "status printed no status: $MS_OUT"
ok "status with a broken file: $(printf '%s\n' "$MS_ERR" | head -n 1)"
ctl_c block 203.0.113.77 1h || fail "block -c broken file: exit $MS_RC: $MS_ERR"
wait_for_element 203.0.113.77
ctl_c list blocks --json || fail "list -c broken file: exit $MS_RC: $MS_ERR"
assert_eq "list blocks with a broken file" "manual" \
	"$(printf '%s\n' "$MS_OUT" | jq -r '.[] | select(.target == "203.0.113.77") | .origin')"
ctl_c unblock 203.0.113.77 || fail "unblock -c broken file: exit $MS_RC: $MS_ERR"
wait_no_element 203.0.113.77
ok "block, list and unblock with a broken file"

say "no control line: the built-in socket"
mount -t tmpfs -o mode=0755 tmpfs /run || fail "cannot mount a private tmpfs over /run"
mkdir /run/mailscreen
ln -s "$MS_SOCK" /run/mailscreen/control
grep -v '^control = ' "$MS_TMP/good.conf" > "$MS_CONF"
echo 'garbage without an equals sign' >> "$MS_CONF"
ctl_c status || fail "status, broken file without control: exit $MS_RC: $MS_ERR"
err_has "using the built-in socket /run/mailscreen/control" "status"
ok "built-in socket used when the broken file names none"

say "nothing listens where the broken file says: built-in socket next, then a way out"
sed "s|^control = .*|control = $MS_TMP/new.sock|" "$MS_TMP/good.conf" > "$MS_CONF"
printf '[bogus]\nx = 1\n' >> "$MS_CONF"
ctl_c status || fail "status: the built-in socket must be tried after $MS_TMP/new.sock: $MS_ERR"
err_has "trying the built-in socket /run/mailscreen/control" "status"
ok "the built-in socket was tried after the file's"
rm /run/mailscreen/control
ln -s "$MS_SOCK" /run/mailscreen/other
ctl_c status && fail "status must fail: nothing listens at either socket"
[ "$MS_RC" -eq 1 ] || fail "expected exit status 1, found $MS_RC"
err_has "no daemon at /run/mailscreen/control" "status"
err_has "give it with -s SOCKET" "status"
err_has "/run/mailscreen/other   (mailscreen status -s /run/mailscreen/other)" "status"
ok "unreachable: $MS_ERR"
"$MS_BIN" status -s /run/mailscreen/other > /dev/null || fail "the suggested command line failed"
ok "the suggested command line reaches the daemon"

say "-c naming a missing file"
MS_CONF=$MS_TMP/missing.conf ctl_c status && fail "status -c missing file must fail"
[ "$MS_RC" -eq 1 ] || fail "expected exit status 1, found $MS_RC"
err_has "give the daemon's socket with -s SOCKET" "status -c missing"
ok "missing -c file: $MS_ERR"
ms_stop

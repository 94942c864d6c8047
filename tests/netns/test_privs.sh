# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_privs.sh - least privilege: once started, the daemon holds only
# CAP_NET_ADMIN and CAP_DAC_READ_SEARCH (effective, permitted and bounding
# sets; none inheritable or ambient) with no_new_privs, and everything
# still works with that: blocking, SIGHUP reloads, putting the table back
# after a flush. With `user = nobody` it runs as nobody, writes its state
# and deny file in the state directory it was given, and restores from
# that state at the next start. Under a bounding set like the shipped
# systemd unit's it starts the same; a switch to a user there is refused
# with a message naming what is missing, and works once the unit's
# commented-out bounding set is used. `check` and `run` refuse config,
# filter and rule files that others could change.
# Run by run.sh, which has sourced lib.sh.

KEPT=0000000000001004   # CAP_NET_ADMIN (12) and CAP_DAC_READ_SEARCH (2)

# proc_is FIELD VALUE - /proc/MS_PID/status says FIELD: VALUE
proc_is() {
	v=$(awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$MS_PID/status" |
		tr '\t' ' ')
	assert_eq "the daemon's $1" "$2" "$v"
}

# the caps a least-privileged daemon holds
held_caps() {
	proc_is CapEff $KEPT
	proc_is CapPrm $KEPT
	proc_is CapBnd $KEPT
	proc_is CapInh 0000000000000000
	proc_is CapAmb 0000000000000000
	proc_is NoNewPrivs 1
}

# check_says WHAT ERE - `mailscreen check -c MS_CONF` exits 1 saying ERE
check_says() {
	out=$("$MS_BIN" check -c "$MS_CONF" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "check with $1: expected exit 1, found $rc: $out"
	printf '%s\n' "$out" | grep -E -q -e "$2" || fail "check with $1: expected /$2/, found: $out"
	ok "check refuses $1: $out"
}

check_passes() {
	out=$("$MS_BIN" check -c "$MS_CONF" 2>&1) || fail "check with $1: $out"
	ok "check accepts $1"
}

MS_RULES=$MS_TMP/rules
FDIR=$MS_TMP/filters
mkdir "$MS_RULES" "$FDIR" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ && cp "$MS_REPO"/filters/*.conf "$FDIR"/ ||
	fail "cannot copy the rules and filters"
ms_listen $SERVER4 25

say "check: only files that no one else can change"
ms_config "[daemon]
filters = $FDIR"
check_passes "files of root, 0644, in root's directories"
chmod g+w "$FDIR/postfix.conf"
check_says "a group-writable filter file" \
	"^'$FDIR/postfix.conf' is writable by others \(chmod go-w '$FDIR/postfix.conf'\)$"
chmod g-w "$FDIR/postfix.conf"
mv "$MS_RULES/auth.conf" "$MS_TMP/auth.conf" && ln -s "$MS_TMP/auth.conf" "$MS_RULES/auth.conf" ||
	fail "cannot make a symlinked rule file"
check_says "a symlinked rule file" "^'$MS_RULES/auth.conf' is a symbolic link; name the file itself$"
rm "$MS_RULES/auth.conf" && mv "$MS_TMP/auth.conf" "$MS_RULES/auth.conf"
chown 65534 "$MS_RULES/smtp.conf"
check_says "a rule file of uid 65534" \
	"^'$MS_RULES/smtp.conf' belongs to uid 65534; only root \(or the daemon's user\) may own it$"
chown 0 "$MS_RULES/smtp.conf"
chmod o+w "$MS_CONF"
check_says "an other-writable configuration" "^'$MS_CONF' is writable by others"
chmod o-w "$MS_CONF"
chmod 0777 "$FDIR"
check_says "an other-writable filter directory" \
	"^directory '$FDIR' \(on the path to '$FDIR/[a-z-]*.conf'\) is writable by others \(chmod go-w '$FDIR'\)$"
chmod 0755 "$FDIR"
check_passes "the files put right"
out=$("$MS_BIN" match --filter "$MS_REPO/filters/postfix.conf" /dev/null 2>&1) ||
	fail "match must not check files: $out"
chmod g+w "$FDIR/postfix.conf"
out=$("$MS_BIN" match --filter "$FDIR/postfix.conf" /dev/null 2>&1) ||
	fail "match --filter on a group-writable file of one's own must work: $out"
ok "match --filter does not check (a filter author's tester)"
chmod g-w "$FDIR/postfix.conf"

say "as root: only the two capabilities once started"
ms_start
wait_log '^mailscreen: privileges dropped: capabilities cap_net_admin cap_dac_read_search \(bounding set: the same\), no_new_privs, uid 0 gid 0$'
held_caps
proc_is Uid "0 0 0 0"
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25
expect_connect $BYSTANDER $SERVER4 25

say "SIGHUP reloads with what is left (reading files, nftables set-up)"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
barrier 203.0.113.31
ok "blocking after the reload"

say "a reload refuses a file that became group-writable"
chmod g+w "$MS_RULES/auth.conf"
log_mark
kill -HUP "$MS_PID"
wait_log "^mailscreen: (warning: )?'$MS_RULES/auth.conf' is writable by others .*reload refused"
ms_alive || fail "the daemon died on a refused reload"
ok "reload refused: $(grep 'writable by others' "$MS_DLOG" | tail -n 1 | cut -c 1-120)..."
chmod g-w "$MS_RULES/auth.conf"

say "a flushed ruleset is put back (CAP_NET_ADMIN kept)"
log_mark
nft flush ruleset
wait_log 'restored table inet mailscreen with [0-9]+ blocks'
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25
ms_stop
nft delete table inet mailscreen

say "user = nobody: the state directory is given to it"
NSTATE=$MS_TMP/nstate
ms_config "[daemon]
filters = $FDIR
user = nobody
state_dir = $NSTATE
deny_file = $NSTATE/denied-accounts"
ms_start
wait_log '^mailscreen: privileges dropped: capabilities cap_net_admin cap_dac_read_search \(bounding set: the same\), no_new_privs, uid 65534 gid [0-9]+$'
held_caps
proc_is Uid "65534 65534 65534 65534"
assert_eq "owner of the state directory" nobody "$(stat -c %U "$NSTATE")"
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25
ctl_ok block-account bob
wait_until "the deny file lists bob (written as nobody)" grep -F -x -q bob "$NSTATE/denied-accounts"
assert_eq "owner of the deny file" nobody "$(stat -c %U "$NSTATE/denied-accounts")"
wait_until "the state is saved as nobody" sh -c "[ \"\$(stat -c %U '$NSTATE/state')\" = nobody ] && grep -q '^account ' '$NSTATE/state'"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
barrier 203.0.113.32
ok "reload and block as nobody"
ms_stop
log_mark
ms_start
wait_log '^mailscreen: restored [0-9]+ blocks, 1 blocked accounts'
ok "restarted as nobody from the state nobody wrote: $(grep '^mailscreen: restored' "$MS_DLOG" | tail -n 1)"
proc_is Uid "65534 65534 65534 65534"
ms_stop
nft delete table inet mailscreen

say "under the shipped unit's bounding set (CAP_NET_ADMIN CAP_DAC_READ_SEARCH)"
REAL_BIN=$MS_BIN
# like systemd starting a root service with CapabilityBoundingSet=...
under_bounds() {
	cat > "$MS_TMP/under-bounds" <<EOF
#!/bin/sh
exec setpriv --bounding-set -all,$1 --inh-caps -all "$REAL_BIN" "\$@"
EOF
	chmod 0755 "$MS_TMP/under-bounds"
	MS_BIN=$MS_TMP/under-bounds
}
if ! command -v setpriv > /dev/null; then
	say "setpriv missing (util-linux): the unit's bounding set is not tried"
else
	under_bounds +net_admin,+dac_read_search
	ms_config "[daemon]
filters = $FDIR"
	ms_start
	held_caps
	sasl_fail 203.0.113.33 5
	wait_for_element 203.0.113.33
	ms_stop
	say "a switch to a user there says what it lacks"
	ms_config "[daemon]
filters = $FDIR
user = nobody
state_dir = $MS_TMP/nstate2
deny_file = $MS_TMP/nstate2/denied-accounts"
	log_mark
	"$MS_BIN" run -c "$MS_CONF" --foreground 2>> "$MS_DLOG"
	rc=$?
	[ $rc -eq 1 ] || fail "a switch without CAP_CHOWN/CAP_SETUID: expected exit 1, found $rc"
	log_has "cannot drop privileges: .*needs CAP_(CHOWN|SETUID|SETGID) at start; under systemd, see the comments in mailscreen.service" ||
		fail "no clear message: $(tail -n 3 "$MS_DLOG")"
	ok "refused: $(grep 'cannot drop privileges' "$MS_DLOG" | tail -n 1)"
	say "with the unit's commented-out bounding set for 'user'"
	under_bounds +net_admin,+dac_read_search,+chown,+setuid,+setgid,+setpcap
	ms_start
	held_caps
	proc_is Uid "65534 65534 65534 65534"
	sasl_fail 203.0.113.34 5
	wait_for_element 203.0.113.34
	ms_stop
	MS_BIN=$REAL_BIN
fi

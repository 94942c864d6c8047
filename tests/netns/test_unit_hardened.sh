# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_unit_hardened.sh - the shipped unit (contrib/mailscreen.service,
# unchanged) under a real systemd: systemd-nspawn boots the system's own
# systemd in a container whose root is an overlay of / (writes land in a
# tmpfs here and vanish), whose network is this test's namespace (the
# peer's clients reach it, nft here sees its table), with cgroup v2.
# The built daemon is installed as /usr/local/sbin/mailscreen with a small
# configuration in /etc/mailscreen: the shipped filters and rules, the
# syslog file /var/log/mail.log and the journal of mstest-smtpd.service as
# sources; state, deny file and control socket at their defaults. Proved:
#   - `systemctl start` returns (Type=notify: READY=1 came) and the unit is
#     active, its STATUS= line shown; the main process runs with the
#     unit's seccomp filter, no_new_privs, and only CAP_NET_ADMIN and
#     CAP_DAC_READ_SEARCH (bounding set too);
#   - the hardening is in force as the daemon sees it: umask 0077, /proc
#     mounted hidepid=invisible,subset=pid, a read-only root, a private
#     /dev, and no writable and executable mapping (PCRE2 fell back from
#     its JIT under MemoryDenyWriteExecute=yes);
#   - it writes where the unit lets it: the deny file (mode 0644 despite
#     UMask=0077, Dovecot must read it) and, at stop, the state;
#   - SASL failures in the log file block 203.0.113.5 in the nftables set,
#     and its established connection is closed (sock_diag SOCK_DESTROY
#     under RestrictAddressFamilies=AF_UNIX AF_NETLINK);
#   - SASL failures in the journal (ProcSubset=pid, ProtectProc=invisible)
#     block 198.51.100.66;
#   - `systemctl reload` succeeds on a good configuration, fails on a
#     broken one, and the service stays active;
#   - `systemctl stop` ends it cleanly, and its journal has no seccomp,
#     permission or read-only error;
#   - control_group = adm: refused (no CAP_CHOWN, and root is not in adm)
#     with a hint to SupplementaryGroups=; with that in a drop-in, the
#     socket is root:adm 0660;
#   - a dedicated user, both ways the unit's comments show (user = in
#     [daemon] with the four capabilities switching takes; User= with
#     ambient capabilities): it runs as that user with the two
#     capabilities, blocks, stops cleanly, and its journal stays clean
#     (the system calls switching takes are allowed).
# The plain build is used whatever MS_BIN says: the sandbox is under test,
# and a sanitizer's reports could not leave it. Skips without
# systemd-nspawn (package systemd-container), cgroup v2 or overlayfs.
# Run by run.sh, which has sourced lib.sh.

skip() { echo "skip: $*"; exit 77; }
command -v systemd-nspawn > /dev/null || skip "systemd-nspawn is missing (make deps: systemd-container)"
[ -x /lib/systemd/systemd ] || skip "/lib/systemd/systemd is missing"

UNIT_WAIT=30            # seconds the container may take to boot
HALT_WAIT=3             # and to halt (it takes one), within run.sh's 5 after a timeout
ATTACKER_J=198.51.100.66

# ---- cgroup v2: a cgroup of its own for nspawn's payload and supervisor ----
V2=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && V2=$d && break
done
[ -n "$V2" ] || skip "no cgroup v2 hierarchy mounted"
V1=
[ "$V2" != /sys/fs/cgroup ] && [ "$(stat -f -c %T /sys/fs/cgroup/systemd 2>/dev/null)" = cgroupfs ] &&
	V1=/sys/fs/cgroup/systemd
CG_NAME=mailscreen-test.$(basename "$MS_TMP")
CG_DIRS=
# cg_make ROOT PATH - make ROOT/PATH/CG_NAME, where nspawn will be moved
cg_make() {
	mkdir "$1${2%/}/$CG_NAME" || return 1
	CG_DIRS="$CG_DIRS $1${2%/}/$CG_NAME"
}
cg_path() { sed -n "s/^$1:\\(.*\\)/\\1/p" /proc/self/cgroup; }
cg_make "$V2" "$(cg_path '0:')" || skip "cannot make a cgroup in $V2"
if [ -n "$V1" ]; then
	cg_make "$V1" "$(cg_path '[0-9]*:name=systemd')" || skip "cannot make a cgroup in $V1"
fi

NSPAWN_PID=
LEADER=
cleanup() {
	if [ -n "$NSPAWN_PID" ] && kill -TERM "$NSPAWN_PID" 2>/dev/null; then
		# SIGTERM: nspawn asks the container's systemd to halt
		( sleep "$HALT_WAIT"; [ -n "$LEADER" ] && kill -KILL "$LEADER"; kill -KILL "$NSPAWN_PID" ) 2>/dev/null &
		watchdog=$!
		wait "$NSPAWN_PID" 2>/dev/null
		kill "$watchdog" 2>/dev/null
		wait "$watchdog" 2>/dev/null
	fi
	# remove what nspawn made (it and the container are gone)
	for d in $CG_DIRS; do
		n=0
		while [ -d "$d" ] && [ $n -lt 50 ]; do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] && sleep 0.1
			n=$((n + 1))
		done
	done
}
trap cleanup EXIT

# ---- the container's root: an overlay of /, writes in a tmpfs here ----
OV=$MS_TMP/ov
R=$OV/root
mkdir "$OV" && mount -t tmpfs tmpfs "$OV" && mkdir "$OV/upper" "$OV/work" "$R" || fail "cannot set up $OV"
mount -t overlay overlay -o "lowerdir=/,upperdir=$OV/upper,workdir=$OV/work" "$R" ||
	skip "cannot mount an overlay of /"
# nspawn keeps its own state in /run: a private one
mount -t tmpfs tmpfs /run || fail "cannot mount a private /run"

install -m 0755 "$MS_REPO/mailscreen" "$R/usr/local/sbin/mailscreen" &&
	install -m 0644 "$MS_REPO/contrib/mailscreen.service" "$R/etc/systemd/system/mailscreen.service" &&
	rm -rf "$R/etc/mailscreen" && mkdir -m 0755 "$R/etc/mailscreen" &&
	cp -R "$MS_REPO/filters" "$MS_REPO/rules" "$R/etc/mailscreen/" &&
	chmod -R go-w "$R/etc/mailscreen" &&
	: > "$R/var/log/mail.log" || fail "cannot install into the container's root"
CT_CONF=$R/etc/mailscreen/mailscreen.conf
cat > "$CT_CONF" <<EOF
# SPDX-License-Identifier: GPL-2.0-or-later
# generated by tests/netns/test_unit_hardened.sh
[source mail]
path = /var/log/mail.log
filters = $(ms_filter_names)

[source journal]
journal = mstest-smtpd.service
filters = postfix

[allow]
address = $COLLEAGUE
EOF
cat > "$R/etc/systemd/system/mstest.target" <<EOF
[Unit]
Description=mailscreen unit test: the basic system, nothing more
Requires=basic.target
After=basic.target
AllowIsolate=yes
EOF
# nothing of the host's state (an installed package's drop-ins, state,
# journal): the unit as shipped, the journal empty
rm -rf "$R/var/log/journal"/* "$R/var/lib/mailscreen" "$R/etc/systemd/system/mailscreen.service.d" \
	"$R/etc/systemd/system/multi-user.target.wants/mailscreen.service"

# ---- boot ----
NOTIFY=$MS_TMP/nspawn.notify
"$MS_PROBE" notify "$MS_TMP/nspawn.sock" > "$NOTIFY" &
wait_until "nspawn's notify socket listens" grep -qx listening "$NOTIFY"
# CAP_NET_ADMIN: nspawn keeps it only with a private network, and the
# daemon needs it; CAP_BPF and bpf(): systemd's IPAddressDeny= firewall
# nspawn (only it) moves into the cgroups made above first
NOTIFY_SOCKET=$MS_TMP/nspawn.sock SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 sh -c '
	for d in $0; do echo 0 > "$d/cgroup.procs" || exit 1; done
	exec "$@"' "$CG_DIRS" systemd-nspawn --quiet -D "$R" --register=no --keep-unit --notify-ready=yes \
	--capability=CAP_NET_ADMIN,CAP_BPF --system-call-filter=bpf --console=passive \
	-b systemd.unit=mstest.target > "$MS_TMP/nspawn.log" 2>&1 &
NSPAWN_PID=$!
MS_WAIT=$UNIT_WAIT wait_for_line "$NOTIFY" 0 '^READY=1$' "$NSPAWN_PID" ||
	fail "the container's systemd did not become ready: $(tail -n 20 "$MS_TMP/nspawn.log")"
LEADER=$(sed -n 's/.*X_NSPAWN_LEADER_PID=\([0-9]*\).*/\1/p' "$NOTIFY" | head -n 1)
[ -n "$LEADER" ] || fail "nspawn did not say its leader's pid: $(cat "$NOTIFY")"
ok "systemd runs in the container (pid $LEADER here)"

ct() { nsenter -t "$LEADER" -a "$@"; }
unit_journal() { ct journalctl --no-pager -o cat -u mailscreen.service; }
unit_fail() {
	echo "--- journal of mailscreen.service"
	unit_journal | tail -n 30
	fail "$@"
}

# ---- start ----
ct systemctl start mailscreen.service || unit_fail "systemctl start mailscreen failed"
assert_eq "the unit is active" active "$(ct systemctl is-active mailscreen.service)"
status=$(ct systemctl show -p StatusText --value mailscreen.service)
case $status in
"started; "*) ok "READY=1 and its STATUS= line: $status" ;;
*) unit_fail "no STATUS= line after start: '$status'" ;;
esac

MAIN=$(ct systemctl show -p MainPID --value mailscreen.service)
st=$(ct cat "/proc/$MAIN/status")
field() { printf '%s\n' "$st" | sed -n "s/^$1:[[:space:]]*//p"; }
assert_eq "the daemon runs under a seccomp filter (mode 2)" 2 "$(field Seccomp)"
assert_eq "no_new_privs" 1 "$(field NoNewPrivs)"
assert_eq "effective capabilities: cap_net_admin cap_dac_read_search" 0000000000001004 "$(field CapEff)"
assert_eq "bounding set: the same" 0000000000001004 "$(field CapBnd)"
assert_eq "its umask (UMask=)" 0077 "$(field Umask)"
# the sandbox as the daemon sees it: its mounts, its memory
mi=$(ct cat "/proc/$MAIN/mountinfo")
mnt_opts() { printf '%s\n' "$mi" | awk -v m="$1" '$5 == m { o = $6 " " $NF } END { print o }'; }
case $(mnt_opts /proc) in
*hidepid=invisible*subset=pid*) ok "its /proc shows only itself (ProtectProc=, ProcSubset=): $(mnt_opts /proc)" ;;
*) unit_fail "its /proc is not restricted: $(mnt_opts /proc)" ;;
esac
case $(mnt_opts /) in
ro*) ok "its root is read-only (ProtectSystem=strict)" ;;
*) unit_fail "its root is writable: $(mnt_opts /)" ;;
esac
printf '%s\n' "$mi" | awk '$5 == "/dev" { f = $0 } END { exit !(f ~ / - tmpfs /) }' ||
	unit_fail "its /dev is the system's (PrivateDevices=)"
ok "its /dev is a private tmpfs (PrivateDevices=)"
# PCRE2's JIT would have mapped writable executable memory
assert_eq "no writable and executable mapping (MemoryDenyWriteExecute=)" 0 \
	"$(ct cat "/proc/$MAIN/maps" | awk '$2 ~ /w/ && $2 ~ /x/' | wc -l)"

wait_until "the deny file is written in the state directory" test -f "$R/var/lib/mailscreen/denied-accounts"
assert_eq "the deny file's mode (Dovecot reads it; UMask=0077 does not change it)" 644 \
	"$(stat -c %a "$R/var/lib/mailscreen/denied-accounts")"

# ---- a block from the log file, and its open connection closed ----
"$MS_PROBE" keep $SERVER4 25 > "$MS_TMP/keep.out" 2>&1 &
wait_for_line "$MS_TMP/keep.out" 0 '^listening$' $! || fail "keep listener did not start: $(cat "$MS_TMP/keep.out")"
peer "$MS_PROBE" hold $ATTACKER $SERVER4 25 20 > "$MS_TMP/hold.out" 2>&1 &
HOLD_PID=$!
wait_for_line "$MS_TMP/hold.out" 0 '^connected$' "$HOLD_PID" ||
	fail "$ATTACKER could not connect: $(cat "$MS_TMP/hold.out")"
ok "$ATTACKER holds an established connection to $SERVER4 port 25"
sasl_fail $ATTACKER 5 "$R/var/log/mail.log"
wait_for_element $ATTACKER
wait_for_line "$MS_TMP/hold.out" 0 '^(reset|closed)$' "$HOLD_PID" ||
	unit_fail "$ATTACKER's connection was not closed: $(cat "$MS_TMP/hold.out")"
ok "$ATTACKER's client saw its connection $(tail -n 1 "$MS_TMP/hold.out")"
wait "$HOLD_PID" 2>/dev/null
unit_journal_has() { unit_journal | grep -q -F -e "$1"; }
wait_until "the daemon logged: closed 1 open connection of $ATTACKER" \
	unit_journal_has "closed 1 open connection of $ATTACKER"

# ---- a block from the journal ----
ct systemd-run --quiet --wait --unit=mstest-smtpd -p SyslogIdentifier=postfix/smtpd /bin/sh -c \
	"for i in 1 2 3 4 5; do echo 'warning: unknown[$ATTACKER_J]: SASL LOGIN authentication failed: UGFzc3dvcmQ6'; done" ||
	fail "systemd-run mstest-smtpd failed"
wait_for_element $ATTACKER_J

# ---- reload ----
ct systemctl reload mailscreen.service || unit_fail "systemctl reload failed on a good configuration"
ok "systemctl reload succeeds on a good configuration"
cp "$CT_CONF" "$MS_TMP/good.conf"
printf '[daemon]\nno_such_key = 1\n' >> "$CT_CONF"
ct systemctl reload mailscreen.service 2> "$MS_TMP/reload.err" &&
	unit_fail "systemctl reload succeeded on a broken configuration"
ok "systemctl reload fails on a broken configuration: $(head -n 1 "$MS_TMP/reload.err")"
assert_eq "the unit is still active" active "$(ct systemctl is-active mailscreen.service)"
cp "$MS_TMP/good.conf" "$CT_CONF"
ct systemctl reload mailscreen.service || unit_fail "systemctl reload failed on the good configuration again"
ok "systemctl reload succeeds again once the configuration is good"

# ---- stop ----
ct systemctl stop mailscreen.service || unit_fail "systemctl stop failed"
assert_eq "the unit stopped cleanly (Result)" success "$(ct systemctl show -p Result --value mailscreen.service)"
[ -s "$R/var/lib/mailscreen/state" ] || unit_fail "no state in /var/lib/mailscreen: $(ls -la "$R/var/lib/mailscreen")"
ok "the state was saved in /var/lib/mailscreen"
# journal_clean FROM - no seccomp, permission or read-only error in the
# unit's journal from line FROM on
journal_clean() {
	unit_journal | tail -n +"$1" > "$MS_TMP/unit.journal"
	if grep -E -i -e 'operation not permitted|permission denied|read-only file system|bad system call|seccomp|EPERM' \
		"$MS_TMP/unit.journal" > "$MS_TMP/denied"; then
		unit_fail "the sandbox refused something: $(cat "$MS_TMP/denied")"
	fi
	ok "no seccomp, permission or read-only error in the unit's journal ($(wc -l < "$MS_TMP/unit.journal") lines)"
}
journal_clean 1

# ---- control_group: without CAP_CHOWN, only a group the daemon is in ----
printf '\n[daemon]\ncontrol_group = adm\n' >> "$CT_CONF"
ct systemctl start mailscreen.service 2> /dev/null && unit_fail "control_group = adm: started without the group"
ct journalctl --no-pager -o cat -u mailscreen.service |
	grep -q -F "cannot give control socket '/run/mailscreen/control' to group 'adm': Operation not permitted (the daemon must belong to it: under systemd, add SupplementaryGroups=adm" ||
	unit_fail "control_group = adm: no hint to SupplementaryGroups="
ok "control_group = adm: refused, with a hint to SupplementaryGroups=adm"
ct systemctl stop mailscreen.service
mkdir -p "$R/etc/systemd/system/mailscreen.service.d" &&
	printf '[Service]\nSupplementaryGroups=adm\n' > "$R/etc/systemd/system/mailscreen.service.d/group.conf" &&
	ct systemctl daemon-reload || fail "cannot add the drop-in"
ct systemctl start mailscreen.service || unit_fail "control_group = adm with SupplementaryGroups=adm: start failed"
assert_eq "control_group = adm with SupplementaryGroups=adm: the socket's group and mode" "adm 660" \
	"$(ct stat -c '%G %a' /run/mailscreen/control)"
ct systemctl stop mailscreen.service || unit_fail "systemctl stop failed"

# ---- a dedicated user: the unit's two commented ways ----
# (the package may have made it already)
ct id -u mailscreen > /dev/null 2>&1 ||
	ct useradd --system --no-create-home --user-group --shell /usr/sbin/nologin mailscreen ||
	fail "cannot add user mailscreen in the container"
MS_UID=$(ct id -u mailscreen)
DROPIN=$R/etc/systemd/system/mailscreen.service.d
rm -f "$DROPIN/group.conf"
# as_user HOW ADDR - start, check the daemon runs as mailscreen with the two
# capabilities, block ADDR from the log file, stop
as_user() {
	ct systemctl daemon-reload && ct systemctl start mailscreen.service ||
		unit_fail "$1: start failed"
	MAIN=$(ct systemctl show -p MainPID --value mailscreen.service)
	st=$(ct cat "/proc/$MAIN/status")
	assert_eq "$1: uid (real, effective, saved, fs)" "$MS_UID $MS_UID $MS_UID $MS_UID" \
		"$(field Uid | tr -s '[:space:]' ' ' | sed 's/ $//')"
	assert_eq "$1: effective capabilities" 0000000000001004 "$(field CapEff)"
	sasl_fail "$2" 5 "$R/var/log/mail.log"
	wait_for_element "$2"
	ct systemctl stop mailscreen.service || unit_fail "$1: stop failed"
	assert_eq "$1: stopped cleanly" success "$(ct systemctl show -p Result --value mailscreen.service)"
}
from=$(($(unit_journal | wc -l) + 1))
cp "$MS_TMP/good.conf" "$CT_CONF"
printf '\n[daemon]\nuser = mailscreen\n' >> "$CT_CONF"
printf '[Service]\nCapabilityBoundingSet=CAP_CHOWN CAP_SETUID CAP_SETGID CAP_SETPCAP\n' > "$DROPIN/user.conf"
as_user "user = mailscreen (the daemon switches)" 203.0.113.21
cp "$MS_TMP/good.conf" "$CT_CONF"
# the Debian package's own drop-in
cp "$MS_REPO/contrib/debian/service-user.conf" "$DROPIN/user.conf"
as_user "User=mailscreen (systemd switches)" 203.0.113.22
journal_clean "$from"

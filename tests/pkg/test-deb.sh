#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-deb.sh - the Debian package: 'make deb' builds it, lintian finds no
# error and no warning that is not overridden (contrib/debian/
# mailscreen.lintian-overrides says why each override is there); then, in
# a throwaway root, it installs, upgrades with a locally changed rule file
# and purges:
#
#   * install: the binary in /usr/sbin prints the package's version; every
#     file under /etc/mailscreen is a conffile; the unit runs /usr/sbin
#     paths and is enabled (deb-systemd-helper's symlink); the system user
#     and group exist with home /var/lib/mailscreen; the man pages, the
#     docs, the Dovecot examples and the bash completion are in place and
#     work; 'mailscreen check' accepts the shipped configuration;
#   * upgrade to a second version built from a scratch copy of the tree,
#     whose auth.conf and smtp.conf changed: with auth.conf changed
#     locally, dpkg asks (here answered by --force-confold), keeps the
#     local file and writes the new one as auth.conf.dpkg-dist; the
#     unchanged smtp.conf is replaced; 'mailscreen check' shows both;
#   * remove keeps the configuration; purge leaves nothing under
#     /etc/mailscreen or /var/lib/mailscreen, nor the unit's enablement.
#     The user stays (contrib/debian/mailscreen.postrm says why).
#
# The throwaway root is an overlayfs over / (upper layer on a tmpfs) in a
# private mount namespace, entered with chroot: dpkg writes only to the
# tmpfs, which goes with the namespace. No systemd runs in it, so the
# package's scripts enable the unit but start nothing. Root only; exits 77
# (skip) where overlayfs over / cannot be mounted.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "test-deb: needs root"; exit 77; }
for c in unshare chroot lintian dpkg-buildpackage; do
	command -v "$c" >/dev/null || { echo "test-deb: no $c (make deps-test)"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debs"
fail() { echo "FAIL: $*"; exit 1; }

v1=$(cat VERSION)
v2=$v1+upgradetest1
host_status=$(dpkg-query -W -f='${Status}' mailscreen 2>/dev/null || true)

# ---- build and lintian ----
echo "== make deb ($v1)"
make -s deb >"$tmp/build1.log" 2>&1 || { tail -n 40 "$tmp/build1.log"; fail "make deb"; }
deb1=build/deb/mailscreen_${v1}_$(dpkg --print-architecture).deb
[ -f "$deb1" ] || fail "make deb left no $deb1"
cp "$deb1" "$tmp/debs/v1.deb"

echo "== lintian"
lintian --fail-on error,warning --show-overrides "$deb1" 2>&1 | grep -v 'root privileges' || true
lintian --fail-on error,warning "$deb1" >/dev/null 2>&1 || fail "lintian: errors or warnings not overridden"

# The second version: a copy of the sources with a new VERSION and two
# rule files changed as an upgrade would change them; the first build's
# objects are copied too, so only what VERSION touches is rebuilt.
echo "== make deb ($v2, from a changed copy)"
mkdir "$tmp/src"
cp -pR Makefile VERSION COPYING README.md HACKING.md watcher filters rules contrib docs tests "$tmp/src/"
rm -rf "$tmp/src/tests/out"
echo "$v2" >"$tmp/src/VERSION"
sed -i '/^\[auth-ip\]/,/^\[/ s/^window *= *10m$/window      = 15m/' "$tmp/src/rules/auth.conf"
sed -i '/^\[conn-rate\]/,/^\[/ s/^limit *= *31$/limit       = 41/' "$tmp/src/rules/smtp.conf"
if ! grep -q '= 15m' "$tmp/src/rules/auth.conf" || ! grep -q '= 41' "$tmp/src/rules/smtp.conf"; then
	fail "the shipped rules changed: update the edits of the second version"
fi
if [ -d "build/deb/mailscreen-$v1/build" ]; then
	mkdir -p "$tmp/src/build/deb/mailscreen-$v2"
	cp -pR "build/deb/mailscreen-$v1/build" "$tmp/src/build/deb/mailscreen-$v2/"
fi
make -s -C "$tmp/src" deb >"$tmp/build2.log" 2>&1 || { tail -n 40 "$tmp/build2.log"; fail "make deb ($v2)"; }
cp "$tmp/src/build/deb/mailscreen_${v2}_$(dpkg --print-architecture).deb" "$tmp/debs/v2.deb"

# ---- what runs inside the throwaway root ----
cat >"$tmp/debs/inside.sh" <<'EOF'
set -eu
fail() { echo "FAIL: $*"; exit 1; }
v1=$1 v2=$2
export DEBIAN_FRONTEND=noninteractive
[ ! -d /run/systemd/system ] || fail "systemd runs in the throwaway root"

echo "== install $v1"
dpkg -i /mnt/v1.deb
[ "$(/usr/sbin/mailscreen --version)" = "mailscreen $v1" ] || fail "mailscreen --version: $(/usr/sbin/mailscreen --version)"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' mailscreen | awk 'NF { print $1 }')
n=0
for f in $(find /etc/mailscreen -type f); do
	echo "$conffiles" | grep -qxF "$f" || fail "$f is not a conffile"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n files under /etc/mailscreen"
unit=/lib/systemd/system/mailscreen.service
grep -q '^ExecStart=/usr/sbin/mailscreen run' $unit || fail "unit: no ExecStart with /usr/sbin"
grep -q '^ExecReload=/usr/sbin/mailscreen reload' $unit || fail "unit: no ExecReload with /usr/sbin"
! grep -q /usr/local $unit || fail "unit: /usr/local left in it"
[ "$(readlink /etc/systemd/system/multi-user.target.wants/mailscreen.service)" = $unit ] ||
	fail "the unit is not enabled"
grep -qx User=mailscreen $unit.d/user.conf || fail "unit: no drop-in running it as user mailscreen"
pw=$(getent passwd mailscreen) || fail "no user mailscreen"
echo "$pw" | awk -F: '$3 < 1000 && $6 == "/var/lib/mailscreen" && $7 ~ /nologin$/ { ok = 1 } END { exit !ok }' ||
	fail "user mailscreen: $pw"
getent group mailscreen >/dev/null || fail "no group mailscreen"
[ "$(id -gn mailscreen)" = mailscreen ] || fail "mailscreen's group: $(id -gn mailscreen)"
for page in 8/mailscreen 5/mailscreen.conf; do
	out=$(MANWIDTH=80 man -P cat "${page%%/*}" "${page#*/}" 2>&1) || fail "man ${page%%/*} ${page#*/}: $out"
	echo "$out" | grep -q mailscreen || fail "man ${page%%/*} ${page#*/} is empty"
done
for f in README.md filters.md copyright examples/dovecot/05-mailscreen-deny.conf; do
	[ -s "/usr/share/doc/mailscreen/$f" ] || fail "no /usr/share/doc/mailscreen/$f"
done
comp=$(bash -c '. /usr/share/bash-completion/completions/mailscreen
	c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mailscreen; echo "${COMPREPLY[*]}"; }
	c mailscreen re; c mailscreen list ""; c mailscreen run --f; c mailscreen list blocks ""
	_mailscreen_rules | tr "\n" " "') || fail "completion: $comp"
echo "$comp"
[ "$(echo "$comp" | sed -n 1p)" = "replay reset resume reload report" ] || fail "completion of 're'"
echo "$comp" | sed -n 2p | grep -qw accounts || fail "completion of 'list'"
echo "$comp" | sed -n 3p | grep -qw -- --foreground || fail "completion of 'run --f'"
[ -z "$(echo "$comp" | sed -n 4p)" ] || fail "completion after 'list blocks'"
echo "$comp" | sed -n 5p | grep -qw auth-ip || fail "completion's rule names"
/usr/sbin/mailscreen check >/tmp/check1 2>&1 || { cat /tmp/check1; fail "check of the shipped configuration"; }
grep -q 'rules: .* from /etc/mailscreen/rules' /tmp/check1 || fail "check did not read /etc/mailscreen/rules"

echo "== change auth-ip's limit locally, upgrade to $v2"
sed -i '/^\[auth-ip\]/,/^\[/ s/^limit *= *5$/limit       = 3/' /etc/mailscreen/rules/auth.conf
cp /etc/mailscreen/rules/auth.conf /tmp/auth.local
echo 'state from v1' >/var/lib/mailscreen/probe
dpkg -i --force-confold /mnt/v2.deb >/tmp/upgrade 2>&1 || { cat /tmp/upgrade; fail "upgrade"; }
cat /tmp/upgrade
grep -q "Configuration file '/etc/mailscreen/rules/auth.conf'" /tmp/upgrade ||
	fail "dpkg did not treat the changed auth.conf as a changed conffile"
[ "$(/usr/sbin/mailscreen --version)" = "mailscreen $v2" ] || fail "not upgraded: $(/usr/sbin/mailscreen --version)"
cmp -s /tmp/auth.local /etc/mailscreen/rules/auth.conf || fail "the local auth.conf was overwritten"
d=/etc/mailscreen/rules/auth.conf.dpkg-dist
[ -f $d ] || fail "no $d"
grep -q '^window *= *15m' $d && grep -q '^limit *= *5$' $d || fail "$d is not $v2's auth.conf"
grep -q '^limit *= *41$' /etc/mailscreen/rules/smtp.conf || fail "the unchanged smtp.conf was not upgraded"
/usr/sbin/mailscreen check >/tmp/check2 2>&1 || { cat /tmp/check2; fail "check after the upgrade"; }
grep -Eq 'auth-ip +3 events within 10m' /tmp/check2 || { cat /tmp/check2; fail "check: auth-ip is not the local one"; }
grep -Eq 'conn-rate +41 events within 1m' /tmp/check2 || { cat /tmp/check2; fail "check: conn-rate is not $v2's"; }
[ -f /var/lib/mailscreen/probe ] || fail "the upgrade lost the state directory"

echo "== remove, purge"
dpkg -r mailscreen
[ ! -e /usr/sbin/mailscreen ] || fail "remove left the binary"
[ -f /etc/mailscreen/rules/auth.conf ] || fail "remove took the configuration"
dpkg --purge mailscreen
left=$(find /etc/mailscreen /var/lib/mailscreen /etc/systemd/system -name '*mailscreen*' 2>/dev/null || true)
[ -z "$left" ] || fail "purge left: $left"
[ ! -e /lib/systemd/system/mailscreen.service ] && [ ! -e /lib/systemd/system/mailscreen.service.d ] ||
	fail "purge left the unit"
! dpkg-query -W mailscreen >/dev/null 2>&1 || dpkg-query -W -f='${Status}' mailscreen | grep -q not-installed ||
	fail "dpkg still knows mailscreen"
echo "inside: ok"
EOF

# ---- the throwaway root ----
cat >"$tmp/root.sh" <<'EOF'
set -eu
tmp=$1
mount -t tmpfs -o mode=0755 tmpfs "$tmp/ovl"
mkdir "$tmp/ovl/upper" "$tmp/ovl/work" "$tmp/ovl/root"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/ovl/upper,workdir=$tmp/ovl/work" "$tmp/ovl/root"; then
	echo "overlayfs over / cannot be mounted here"; exit 77
fi
r=$tmp/ovl/root
mount --rbind /dev "$r/dev"
mount -t proc proc "$r/proc"
mount --rbind /sys "$r/sys"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mount --bind "$tmp/debs" "$r/mnt"
chroot "$r" /bin/sh /mnt/inside.sh "$2" "$3"
EOF
mkdir "$tmp/ovl"
echo "== the throwaway root"
rc=0
unshare -m --propagation private sh "$tmp/root.sh" "$tmp" "$v1" "$v2" || rc=$?
[ $rc -eq 0 ] || exit $rc

# the host is as it was
[ "$(dpkg-query -W -f='${Status}' mailscreen 2>/dev/null || true)" = "$host_status" ] ||
	fail "the host's dpkg status of mailscreen changed"
echo "test-deb: ok"

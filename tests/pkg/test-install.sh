#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-install.sh - make install and make uninstall into a DESTDIR:
#
#   * install puts the runtime in place (binary, man pages, unit with the
#     PREFIX's paths, completion, /etc/mailscreen) and a manifest;
#   * install again (an upgrade) replaces a configuration file that is
#     unchanged since the last install, but keeps one changed locally
#     (mailscreen.conf and a rule file) and writes the shipped one beside
#     it as FILE.dist;
#   * an admin's mailscreen.conf that was there before the first install
#     is never replaced;
#   * uninstall removes everything install put there except the locally
#     changed configuration files, and leaves no empty directory behind.
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
d=$tmp/root
etc=$d/etc/mailscreen
man=$d/usr/local/share/mailscreen/installed-files

echo "== install"
make -s install DESTDIR="$d" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make install"; }
cat "$tmp/out"
for f in usr/local/sbin/mailscreen usr/local/share/man/man8/mailscreen.8 \
	usr/local/share/man/man5/mailscreen.conf.5 lib/systemd/system/mailscreen.service \
	usr/local/share/bash-completion/completions/mailscreen usr/local/share/zsh/site-functions/_mailscreen \
	etc/mailscreen/mailscreen.conf \
	etc/mailscreen/rules/auth.conf etc/mailscreen/filters/postfix.conf; do
	[ -f "$d/$f" ] || fail "make install did not install /$f"
done
[ -x "$d/usr/local/sbin/mailscreen" ] || fail "the binary is not executable"
grep -q '^ExecStart=/usr/local/sbin/mailscreen run' "$d/lib/systemd/system/mailscreen.service" ||
	fail "the unit does not run /usr/local/sbin/mailscreen"
[ -f "$man" ] || fail "no manifest"
n=$(find "$d" -type f | wc -l)
[ "$(grep -vc '^- ' "$man")" -eq $((n - 1)) ] || fail "the manifest does not list the $((n - 1)) files installed"
[ "$(find "$d" -type f | grep -c /etc/mailscreen/rules/)" -eq "$(find rules -maxdepth 1 -name '*.conf' | wc -l)" ] ||
	fail "not every rule file installed"

echo "== change mailscreen.conf and auth.conf locally; an older shipped postfix.conf; install again"
printf '\n[daemon]\nlog_level = debug\n' >>"$etc/mailscreen.conf"
cp "$etc/mailscreen.conf" "$tmp/conf.local"
sed -i 's/^limit *= *5$/limit = 3/' "$etc/rules/auth.conf"
cp "$etc/rules/auth.conf" "$tmp/auth.local"
# postfix.conf as a previous version shipped it, untouched since
echo '# an older postfix.conf' >"$etc/filters/postfix.conf"
old=$(sha256sum <"$etc/filters/postfix.conf" | cut -d' ' -f1)
sed -i "s,^[0-9a-f]* /etc/mailscreen/filters/postfix.conf\$,$old /etc/mailscreen/filters/postfix.conf," "$man"
make -s install DESTDIR="$d" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make install (again)"; }
cat "$tmp/out"
cmp -s "$tmp/conf.local" "$etc/mailscreen.conf" || fail "the local mailscreen.conf was replaced"
cmp -s "$tmp/auth.local" "$etc/rules/auth.conf" || fail "the local auth.conf was replaced"
cmp -s contrib/mailscreen.conf "$etc/mailscreen.conf.dist" || fail "no mailscreen.conf.dist"
cmp -s rules/auth.conf "$etc/rules/auth.conf.dist" || fail "no auth.conf.dist"
cmp -s filters/postfix.conf "$etc/filters/postfix.conf" || fail "the unchanged older postfix.conf was not replaced"
grep -q "kept /etc/mailscreen/rules/auth.conf (changed locally); the shipped version is /etc/mailscreen/rules/auth.conf.dist" \
	"$tmp/out" || fail "install did not say it kept auth.conf"
[ ! -e "$etc/filters/postfix.conf.dist" ] || fail "postfix.conf.dist written for an unchanged file"

echo "== uninstall"
make -s uninstall DESTDIR="$d" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make uninstall"; }
cat "$tmp/out"
left=$(cd "$d" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./etc/mailscreen/mailscreen.conf ./etc/mailscreen/rules/auth.conf " ] ||
	fail "uninstall left: $left (only the two locally changed files should stay)"
cmp -s "$tmp/conf.local" "$etc/mailscreen.conf" || fail "uninstall changed the local mailscreen.conf"
empty=$(find "$d" -mindepth 1 -type d -empty)
[ -z "$empty" ] || fail "uninstall left empty directories: $empty"

echo "== an admin's own mailscreen.conf, there before the first install"
rm -rf "$d"
mkdir -p "$etc"
echo '# mine' >"$etc/mailscreen.conf"
make -s install DESTDIR="$d" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make install (3)"; }
[ "$(cat "$etc/mailscreen.conf")" = '# mine' ] || fail "install replaced the admin's mailscreen.conf"
[ -f "$etc/mailscreen.conf.dist" ] || fail "no mailscreen.conf.dist beside the admin's"
make -s uninstall DESTDIR="$d" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make uninstall (3)"; }
[ "$(cd "$d" && find . -type f)" = ./etc/mailscreen/mailscreen.conf ] ||
	fail "uninstall left or took: $(cd "$d" && find . -type f | tr '\n' ' ')"
[ "$(cat "$etc/mailscreen.conf")" = '# mine' ] || fail "uninstall changed the admin's mailscreen.conf"
echo "test-install: ok"

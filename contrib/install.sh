#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# install.sh - make install / make uninstall (and the Debian package's
# install step, with MANIFEST=no). The one list of what mailscreen
# installs is files() below.
#
#   sh contrib/install.sh install|uninstall
#   environment: DESTDIR PREFIX SYSCONFDIR UNITDIR, MANIFEST (yes|no)
#
# install copies the runtime: the binary, the manual pages, the systemd
# unit (its /usr/local/sbin paths made $PREFIX/sbin), the bash and zsh completions,
# and the configuration under $SYSCONFDIR/mailscreen. It writes a manifest,
# $PREFIX/share/mailscreen/installed-files: one line per file ("SHA256
# PATH") and per directory it created ("- PATH/"). The configuration is
# treated as dpkg treats conffiles: a file is replaced only while it is
# unchanged since the last install (its checksum is the one in the
# manifest); a file that was changed locally, or that was there before
# mailscreen was installed, is kept and the shipped version written beside
# it as FILE.dist. A file the previous install put there that is no longer
# shipped is removed if unchanged.
#
# uninstall removes what the manifest lists, except configuration files
# changed since they were installed (it names each one it keeps), then the
# directories install created, if empty. It must never remove anything the
# manifest does not list.
set -eu
cd "$(dirname "$0")/.."

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-/lib/systemd/system}
MANIFEST=${MANIFEST:-yes}
manifest=$PREFIX/share/mailscreen/installed-files
# zsh: Debian's place for a package's completions, else zsh's own for a
# local install (both are in zsh's default fpath)
if [ "$PREFIX" = /usr ]; then zshdir=/usr/share/zsh/vendor-completions; else zshdir=$PREFIX/share/zsh/site-functions; fi
etc=$SYSCONFDIR/mailscreen

# files: "SOURCE DEST MODE KIND" per line; KIND conf is configuration
files() {
	echo "mailscreen $PREFIX/sbin/mailscreen 0755 bin"
	echo "contrib/man/mailscreen.8 $PREFIX/share/man/man8/mailscreen.8 0644 doc"
	echo "contrib/man/mailscreen.conf.5 $PREFIX/share/man/man5/mailscreen.conf.5 0644 doc"
	echo "@unit $UNITDIR/mailscreen.service 0644 unit"
	echo "contrib/completion/mailscreen.bash $PREFIX/share/bash-completion/completions/mailscreen 0644 doc"
	echo "contrib/completion/_mailscreen $zshdir/_mailscreen 0644 doc"
	echo "contrib/mailscreen.conf $etc/mailscreen.conf 0644 conf"
	for f in filters/*.conf; do echo "$f $etc/filters/${f#filters/} 0644 conf"; done
	for f in rules/*.conf; do echo "$f $etc/rules/${f#rules/} 0644 conf"; done
}

sum() { sha256sum <"$1" | cut -d' ' -f1; }
say() { echo "mailscreen: $*"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailscreen-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/new"

# mkdirs DIR: create DIR and its missing parents, each recorded as ours
mkdirs() {
	[ -d "$DESTDIR$1" ] && return 0
	[ "$1" = / ] && { install -d "$DESTDIR"; return 0; }
	mkdirs "$(dirname "$1")"
	install -d -m 0755 "$DESTDIR$1"
	echo "- $1/" >>"$tmp/new"
}

# recorded PATH: the checksum the previous install recorded for PATH
recorded() {
	[ -f "$DESTDIR$manifest" ] || return 0
	awk -v p="$1" '$1 != "-" && substr($0, length($1) + 2) == p { print $1; exit }' "$DESTDIR$manifest"
}

do_install() {
	[ -x mailscreen ] || { say "build it first (make)"; exit 1; }
	sed "s,/usr/local/sbin,$PREFIX/sbin,g" contrib/mailscreen.service >"$tmp/mailscreen.service"
	# directories this install created earlier stay recorded as ours
	if [ -f "$DESTDIR$manifest" ]; then grep '^- ' "$DESTDIR$manifest" >>"$tmp/new" || true; fi
	files | while read -r src dest mode kind; do
		[ "$src" = @unit ] && src=$tmp/mailscreen.service
		mkdirs "$(dirname "$dest")"
		new=$(sum "$src")
		if [ "$kind" = conf ] && [ -e "$DESTDIR$dest" ]; then
			cur=$(sum "$DESTDIR$dest")
			if [ "$cur" != "$new" ] && [ "$cur" != "$(recorded "$dest")" ]; then
				install -m "$mode" "$src" "$DESTDIR$dest.dist"
				echo "$new $dest.dist" >>"$tmp/new"
				say "kept $dest (changed locally); the shipped version is $dest.dist"
				echo "$new $dest" >>"$tmp/new"
				continue
			fi
		fi
		install -m "$mode" "$src" "$DESTDIR$dest"
		echo "$new $dest" >>"$tmp/new"
	done
	[ "$MANIFEST" = yes ] || return 0
	# what the previous install put there and this one no longer ships
	if [ -f "$DESTDIR$manifest" ]; then
		grep -v '^- ' "$DESTDIR$manifest" | while read -r old path; do
			grep -qxF -- "$old $path" "$tmp/new" && continue
			awk -v p="$path" '$1 != "-" && substr($0, length($1) + 2) == p { f = 1 } END { exit !f }' \
				"$tmp/new" && continue
			[ -e "$DESTDIR$path" ] || continue
			if [ "$(sum "$DESTDIR$path")" = "$old" ]; then
				rm -f "$DESTDIR$path"
			else
				say "kept $path (changed locally; no longer shipped)"
			fi
		done
	fi
	mkdirs "$(dirname "$manifest")"
	sort -u "$tmp/new" >"$tmp/manifest"
	install -m 0644 "$tmp/manifest" "$DESTDIR$manifest"
}

do_uninstall() {
	[ -f "$DESTDIR$manifest" ] || { say "no $DESTDIR$manifest: nothing installed with PREFIX=$PREFIX"; exit 1; }
	grep -v '^- ' "$DESTDIR$manifest" | while read -r old path; do
		[ -e "$DESTDIR$path" ] || [ -L "$DESTDIR$path" ] || continue
		case $path in
		"$etc"/*)
			if [ "$(sum "$DESTDIR$path")" != "$old" ]; then
				say "kept $path (changed locally)"
				continue
			fi
		esac
		rm -f "$DESTDIR$path"
	done
	# the directories install created, deepest first; one that still
	# holds something (a kept file, an admin's own) stays
	sed -n 's,^- \(.*\)/$,\1,p' "$DESTDIR$manifest" | sort -r >"$tmp/dirs"
	rm -f "$DESTDIR$manifest"
	while read -r d; do rmdir "$DESTDIR$d" 2>/dev/null || true; done <"$tmp/dirs"
}

case ${1:-} in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: $0 install|uninstall" >&2; exit 2 ;;
esac

# SPDX-License-Identifier: GPL-2.0-or-later
#
# mailservers.sh - the real Debian Postfix and Dovecot in private
# namespaces: what tests/netns/test_e2e_real_servers.sh and
# tests/tools/postfix-dovecot-attempts-run.sh share. Sourced, in private
# mount and PID namespaces (so every server dies with the caller and every
# mount vanishes), after tests/netns/lib.sh (wait_for_line, MS_WAIT).
#
# Owns: a private /dev with a /dev/log listener (mx_dev), Postfix's private
# directories and configuration (mx_postfix), starting both servers and
# waiting until each says it started (mx_start), stopping them (mx_stop).
# The Dovecot configuration is the caller's (the two differ). Must never
# write the host's /etc/postfix, /var/spool/postfix, /var/lib/postfix or
# /dev: only bind mounts over them.
#
# Each function says what failed on stderr and returns 1.

# Debian's python3 (python3-minimal) rather than a wrapper found first in PATH
MX_PY=python3
[ -x /usr/bin/python3 ] && MX_PY=/usr/bin/python3
MX_SYSLOG_PID=

# mx_err WHAT - say WHAT failed, on stderr; false
mx_err() { echo "mailservers: $*" >&2; return 1; }

# mx_dev DIR MAILLOG - a private /dev: a tmpfs (DIR/dev) with the few
# devices the servers and the tools use and a /dev/log socket, served by a
# small syslog daemon (python3, pid in MX_SYSLOG_PID) that writes what
# rsyslog writes on Debian into MAILLOG: for a message "<PRI>MMM dd
# HH:MM:SS TAG[PID]: MSG" the line "MMM dd HH:MM:SS mx TAG[PID]: MSG".
# Then DIR/dev is mounted on /dev.
mx_dev() {
	mkdir -m 0755 "$1/dev" && mount -t tmpfs -o mode=755 tmpfs "$1/dev" ||
		mx_err "cannot mount a tmpfs on $1/dev" || return 1
	for n in null zero full random urandom tty; do
		: > "$1/dev/$n" && mount --bind "/dev/$n" "$1/dev/$n" || mx_err "cannot bind /dev/$n" || return 1
	done
	ln -s /proc/self/fd "$1/dev/fd"
	for n in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${n%%:*}" "$1/dev/${n#*:}"; done
	mkfifo "$1/syslog.ready" || mx_err "mkfifo $1/syslog.ready" || return 1
	$MX_PY - "$1/dev/log" "$2" > "$1/syslog.ready" 2> "$1/syslog.err" <<'PY' &
import os, re, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
out = open(sys.argv[2], 'ab')
print('ready', flush=True)
head = re.compile(rb'^<\d+>([A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d) ')
while True:
    m = s.recv(65536).rstrip(b'\n\0')
    h = head.match(m)
    if h:
        out.write(h.group(1) + b' mx ' + m[h.end():] + b'\n')
        out.flush()
PY
	MX_SYSLOG_PID=$!
	read -r _ < "$1/syslog.ready" ||
		mx_err "the syslog listener did not start: $(cat "$1/syslog.err")" || return 1
	mount --rbind "$1/dev" /dev || mx_err "cannot mount $1/dev on /dev"
}

# mx_postfix DIR SETTING... - Postfix's private directories: the package's
# /etc/postfix copied to DIR/pf-etc, empty DIR/pf-spool and DIR/pf-lib,
# bind-mounted on /etc/postfix, /var/spool/postfix and /var/lib/postfix.
# main.cf: mx.example.org, local domain example.org, IPv4 and IPv6, no
# aliases, SASL through Dovecot, no TLS, and the caller's SETTINGs
# (local_recipient_maps, smtpd_sasl_path, ...). master.cf: the package's,
# every service outside the chroot (the chroot has no /dev/log), smtp
# behind postscreen, as its commented lines have it, and the stock
# submission entry's options without TLS (and with
# smtpd_reject_unlisted_recipient=yes, Postfix's default).
mx_postfix() {
	mx_d=$1
	shift
	mkdir -m 0755 "$mx_d/pf-etc" "$mx_d/pf-spool" "$mx_d/pf-lib" && chown postfix:postfix "$mx_d/pf-lib" &&
		cp -a /etc/postfix/. "$mx_d/pf-etc/" && mount --bind "$mx_d/pf-etc" /etc/postfix &&
		mount --bind "$mx_d/pf-spool" /var/spool/postfix && mount --bind "$mx_d/pf-lib" /var/lib/postfix ||
		mx_err "cannot set up Postfix's private directories" || return 1
	: > /etc/postfix/main.cf
	postconf -e compatibility_level=3.6 myhostname=mx.example.org mydomain=example.org \
		'mydestination=example.org, localhost' 'mynetworks=127.0.0.0/8' inet_protocols=all \
		alias_maps= alias_database= smtpd_sasl_type=dovecot smtpd_tls_security_level=none "$@" ||
		mx_err "postconf -e failed" || return 1
	postconf -F '*/*/chroot = n' &&
	postconf -Me 'smtp/inet = smtp inet n - n - 1 postscreen' \
		'smtpd/pass = smtpd pass - - n - - smtpd' \
		'dnsblog/unix = dnsblog unix - - n - 0 dnsblog' \
		'tlsproxy/unix = tlsproxy unix - - n - 0 tlsproxy' \
		'submission/inet = submission inet n - n - - smtpd' || mx_err "postconf -M failed" || return 1
	set --
	for o in syslog_name=postfix/submission smtpd_tls_security_level=none smtpd_sasl_auth_enable=yes \
		smtpd_tls_auth_only=no smtpd_reject_unlisted_recipient=yes smtpd_client_restrictions= \
		smtpd_helo_restrictions= smtpd_sender_restrictions= smtpd_relay_restrictions= \
		smtpd_recipient_restrictions=permit_sasl_authenticated,reject milter_macro_daemon_name=ORIGINATING; do
		set -- "$@" "submission/inet/$o"
	done
	postconf -P "$@" || mx_err "postconf -P failed"
}

# mx_start DOVECOT_CONF MAILLOG - start Postfix and, once it logged in
# MAILLOG that it started, Dovecot with DOVECOT_CONF (Postfix makes
# /var/spool/postfix/private, where Dovecot may put the SASL socket);
# returns once Dovecot logged that it started too (false after MS_WAIT
# seconds for either line).
mx_start() {
	mx_mark=$(wc -c < "$2")
	mx_out=$(postfix start 2>&1) || mx_err "postfix start: $mx_out" || return 1
	wait_for_line "$2" "$mx_mark" 'postfix/master\[[0-9]+\]: daemon started' ||
		mx_err "Postfix did not log that it started" || return 1
	dovecot -c "$1" || mx_err "dovecot did not start" || return 1
	wait_for_line "$2" "$mx_mark" 'dovecot: master: Dovecot v.* starting up for imap, pop3' ||
		mx_err "Dovecot did not log that it started"
}

# mx_stop DOVECOT_CONF - stop Postfix, Dovecot and the syslog listener;
# whatever did not run or is gone already is no error (an exit trap may
# call it at any point)
mx_stop() {
	postfix stop > /dev/null 2>&1 || :
	doveadm -c "$1" stop 2> /dev/null || :
	[ -z "$MX_SYSLOG_PID" ] || kill "$MX_SYSLOG_PID" 2> /dev/null || :
}

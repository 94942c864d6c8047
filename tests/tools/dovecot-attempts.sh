#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dovecot-attempts.sh OUTDIR - regenerate the fixtures of
# tests/cli/test-dedup.sh with the Dovecot installed here (Debian 12:
# 2.3.19.1), in a private network namespace (never the host's network):
# known numbers of failed logins over IMAP and POP3, and SMTP AUTH
# requests as Postfix's smtpd sends them to Dovecot's auth-client socket,
# once with auth_verbose = no and once with yes.
#
# Writes OUTDIR/{quiet,verbose}-logpath.log (Dovecot's own log_path file,
# as written) and OUTDIR/{quiet,verbose}-syslog.log: the same messages as
# syslog carries them ("dovecot: " tag, no "Info: " level; Dovecot's
# syslog output differs from its log_path output in nothing else),
# merged in time order with the line smtpd logs when Dovecot's reply to a
# SASL request is a failure (smtpd_sasl_glue.c: "warning: NAME[ADDR]: SASL
# LOGIN authentication failed: UGFzc3dvcmQ6", as Postfix before 3.7.8
# writes it), written by the client when it receives that reply. Prints
# the attempts made per address. postfix-dovecot-attempts.sh runs the
# real Postfix instead.
set -eu
out=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
for mode in quiet verbose; do
	unshare -n sh "$here/dovecot-attempts-run.sh" "$mode" "$out"
done

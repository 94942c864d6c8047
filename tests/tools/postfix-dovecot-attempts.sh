#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# postfix-dovecot-attempts.sh OUTDIR - regenerate the Postfix fixtures of
# tests/cli/test-dedup.sh with the Postfix (Debian 12: 3.7) and Dovecot
# (2.3.19) installed here, both real, in private mount, network and pid
# namespaces: the host's /etc/postfix, /var/spool/postfix,
# /var/lib/postfix and /dev are covered by bind mounts from a temporary
# directory and never written, its network is never seen, and no process
# outlives a run (the namespace's processes die with it). Needs the
# postfix package installed but not configured; its own service is never
# started.
#
# Postfix: the stock Debian master.cf with smtp behind postscreen
# (postscreen_greet_action = enforce) and the stock submission entry
# (smtpd_sasl_auth_enable=yes, smtpd_recipient_restrictions=
# permit_sasl_authenticated,reject), but without TLS and with
# smtpd_reject_unlisted_recipient=yes; smtpd_sasl_type = dovecot;
# local recipients of example.org: bob only. Dovecot: passwd-file (bob,
# password "secret"), IMAP and POP3, log_path = syslog, once with
# auth_verbose = no and once with yes. Both log through a small /dev/log
# listener that writes what rsyslog writes into /var/log/mail.log:
# "MMM dd HH:MM:SS mx TAG[PID]: MSG".
#
# Writes OUTDIR/postfix-{quiet,verbose}-syslog.log, each holding what
# these clients (python3 sockets) made, in this order:
#   203.0.113.5      IMAP, one session: 3 failed LOGINs (bob, bob, alice)
#   203.0.113.6      IMAP: a successful LOGIN (bob)
#   203.0.113.13     POP3, one session: 2 failed USER/PASS (carol), no QUIT
#   203.0.113.7      submission, one session: 2 failed AUTH LOGIN (bob, dave)
#   203.0.113.8      submission: 1 failed AUTH PLAIN (eve), then another
#                    session: 1 failed AUTH LOGIN (eve)           - 2
#   2001:db8::bad:2  submission: 1 failed AUTH PLAIN (root)
#   203.0.113.14     submission, one session: 6 AUTH PLAIN (bob, another
#                    password each); Dovecot's auth penalty outgrows
#                    smtpd's 10 s wait: some are answered "Connection lost
#                    to authentication server" (454). The third attempt's
#                    reply is due just as the wait ends, a race: in the
#                    quiet fixture it came in time (2 lost), in the
#                    verbose one Dovecot had checked and logged it when
#                    smtpd gave up (3 lost) - 6
#   203.0.113.11     submission: AUTH PLAIN bob (success), MAIL, RCPT to
#                    two unknown recipients (550 5.1.1), then bob
#                    (250), QUIT
#   203.0.113.12     submission without AUTH: MAIL, RCPT bob (554 5.7.1
#                    Access denied), QUIT
#   203.0.113.9      port 25: waits for the greeting, passes postscreen
#                    (PASS NEW), QUIT; again (PASS OLD), QUIT - 2 connects
#   203.0.113.10     port 25: talks before the greeting (PREGREET), QUIT
#                    - 1 connect
#   2001:db8::bad:3  port 25: passes postscreen (PASS NEW), QUIT - 1 connect
#   2001:db8::bad:1  IMAP: 1 failed LOGIN (root)
# Each client waits for the server's lines of its session (the
# disconnect summary) before the next starts. Prints the attempts made per
# address. KEEP_LOG=FILE keeps a copy of a run's log, even of one that
# failed.
set -eu
out=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v postfix >/dev/null || { echo "postfix is not installed" >&2; exit 1; }
for mode in quiet verbose; do
	unshare --mount --net --pid --fork --mount-proc --propagation private \
		sh "$here/postfix-dovecot-attempts-run.sh" "$mode" "$out"
done

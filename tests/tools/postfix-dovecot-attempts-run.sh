#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# postfix-dovecot-attempts-run.sh MODE OUTDIR - one run of
# postfix-dovecot-attempts.sh, as pid 1 of its private mount, network and
# pid namespaces: every process it starts dies with it.
set -eu
mode=$1 out=$2
dir=$(mktemp -d /tmp/postfix-attempts.XXXXXX)
chmod 755 "$dir"
here=$(cd "$(dirname "$0")" && pwd)
# wait_for_line (MS_WAIT seconds), then the servers' set-up: mx_dev,
# mx_postfix, mx_start, mx_stop
MS_REPO=$(cd "$here/../.." && pwd) MS_TMP=$dir MS_WAIT=30
. "$MS_REPO/tests/netns/lib.sh"
. "$here/mailservers.sh"
trap 'mx_stop "$dir/dovecot.conf"
	[ -n "${KEEP_LOG:-}" ] && cp "$dir/mail.log" "$KEEP_LOG"
	umount -R /dev "$dir/dev" /etc/postfix /var/spool/postfix /var/lib/postfix 2>/dev/null || true; rm -rf "$dir"' EXIT

ip link set lo up
for a in 1 5 6 7 8 9 10 11 12 13 14; do ip addr add 203.0.113.$a/32 dev lo; done
for a in 1 bad:1 bad:2 bad:3; do ip addr add 2001:db8::$a/128 dev lo nodad; done

# /dev: a tmpfs with the few devices the daemons use and a log socket
# writing what rsyslog writes to /var/log/mail.log
mx_dev "$dir" "$dir/mail.log"

# Postfix: the package's files, a fresh main.cf, queue and data
# directories; the stock submission entry, without TLS, rejecting unknown
# recipients
mx_postfix "$dir" 'local_recipient_maps=inline:{bob=ok}' "smtpd_sasl_path=$dir/run/auth-client" \
	postscreen_greet_action=enforce

verbose=no; [ "$mode" = verbose ] && verbose=yes
mkdir -p "$dir/run" "$dir/home"
chown nobody:nogroup "$dir/home"
echo 'bob:{PLAIN}secret' > "$dir/users"
chmod 644 "$dir/users"
cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
log_path = syslog
syslog_facility = mail
protocols = imap pop3
listen = 127.0.0.1, ::1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
auth_verbose = $verbose
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = $dir/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/home/%u
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
CONF
mx_start "$dir/dovecot.conf" "$dir/mail.log"
python3 - "$dir/mail.log" <<'PY'
import base64, re, socket, sys, time
log = sys.argv[1]

def wait_log(pattern, n=1):
    """until the log holds n lines matching pattern (30 s at most)"""
    r = re.compile(pattern)
    for _ in range(300):
        with open(log) as f:
            if sum(1 for l in f if r.search(l)) >= n:
                return
        time.sleep(0.1)
    sys.exit('no line %r in the log' % pattern)

def connect(src, port):
    v6 = ':' in src
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    s.bind((src, 0))
    s.connect(('2001:db8::1' if v6 else '203.0.113.1', port) if port in (25, 587) else
              ('::1' if v6 else '127.0.0.1', port))
    return s, s.makefile('rb')

def reply(f):
    while True:
        l = f.readline()
        if not l or l[3:4] != b'-':
            return l

def cmd(s, f, line):
    s.sendall(line.encode() + b'\r\n')
    return reply(f)

def b64(t):
    return base64.b64encode(t.encode()).decode()

def imap(src, logins, ok=False):
    s, f = connect(src, 143); f.readline()
    for n, (u, p) in enumerate(logins):
        tag = 'a%d' % n
        s.sendall(('%s LOGIN %s %s\r\n' % (tag, u, p)).encode())
        while not f.readline().startswith(tag.encode()): pass
    s.sendall(b'z LOGOUT\r\n'); f.readline(); f.close(); s.close()
    wait_log(r'imap-login: %s.*rip=%s,' % ('Login:' if ok else 'Disconnected', re.escape(src)))

def pop3(src, logins):
    s, f = connect(src, 110); f.readline()
    for u, p in logins:
        cmd(s, f, 'USER ' + u); cmd(s, f, 'PASS ' + p)
    f.close(); s.close()                        # hang up without QUIT
    wait_log(r'pop3-login: Disconnected.*rip=%s,' % re.escape(src))

def submission(src, steps, sessions=1):
    s, f = connect(src, 587)
    reply(f); cmd(s, f, 'EHLO client.example.net')
    for st in steps:
        if st[0] == 'LOGIN':
            cmd(s, f, 'AUTH LOGIN'); cmd(s, f, b64(st[1])); r = cmd(s, f, b64(st[2]))
        elif st[0] == 'PLAIN':
            r = cmd(s, f, 'AUTH PLAIN ' + b64('\0%s\0%s' % (st[1], st[2])))
        else:
            r = cmd(s, f, st)
        print('  %s %s -> %s' % (src, st if isinstance(st, str) else st[:2], r.decode().strip()))
    cmd(s, f, 'QUIT'); f.close(); s.close()
    wait_log(r'postfix/submission/smtpd\[\d+\]: disconnect from [^\[]*\[%s\]' % re.escape(src), sessions)

def smtp(src, pregreet=False, n=1):
    s, f = connect(src, 25)
    if pregreet:
        s.sendall(b'EHLO client.example.net\r\n')
        reply(f)
    else:
        reply(f)                                # waits out postscreen's greet test
        cmd(s, f, 'EHLO client.example.net')
    cmd(s, f, 'QUIT'); f.close(); s.close()
    if pregreet:
        wait_log(r'postscreen\[\d+\]: (?:DISCONNECT|HANGUP).*\[%s\]' % re.escape(src), n)
    else:
        wait_log(r'postfix/smtpd\[\d+\]: disconnect from [^\[]*\[%s\]' % re.escape(src), n)

imap('203.0.113.5', [('bob', 'x1'), ('bob', 'x2'), ('alice', 'x3')])      # 3
imap('203.0.113.6', [('bob', 'secret')], ok=True)                         # a login
pop3('203.0.113.13', [('carol', 'x'), ('carol', 'y')])                     # 2
submission('203.0.113.7', [('LOGIN', 'bob', 'bad'), ('LOGIN', 'dave', 'x')])   # 2
submission('203.0.113.8', [('PLAIN', 'eve', 'x')])                        # 1
submission('203.0.113.8', [('LOGIN', 'eve', 'y')], 2)                     # +1
submission('2001:db8::bad:2', [('PLAIN', 'root', 'toor')])                # 1
# a guesser: Dovecot's auth penalty soon outgrows smtpd's 10 s wait
submission('203.0.113.14', [('PLAIN', 'bob', 'guess%d' % i) for i in range(6)])   # 6
submission('203.0.113.11', [('PLAIN', 'bob', 'secret'), 'MAIL FROM:<bob@example.org>',
                            'RCPT TO:<nobody1@example.org>', 'RCPT TO:<nobody2@example.org>',
                            'RCPT TO:<bob@example.org>'])
submission('203.0.113.12', ['MAIL FROM:<x@example.net>', 'RCPT TO:<bob@example.org>'])
smtp('203.0.113.9')                                                       # PASS NEW
smtp('203.0.113.9', n=2)                                                  # PASS OLD
smtp('203.0.113.10', pregreet=True)
smtp('2001:db8::bad:3')                                                   # PASS NEW
imap('2001:db8::bad:1', [('root', 'toor')])                               # 1
PY
cp "$dir/mail.log" "$out/postfix-$mode-syslog.log"
echo "$mode: attempts 203.0.113.5=3 203.0.113.13=2 203.0.113.7=2 203.0.113.8=2 2001:db8::bad:1=1 2001:db8::bad:2=1 203.0.113.14=6 (AUTH commands);" \
	"connects 203.0.113.9=2 203.0.113.10=1 2001:db8::bad:3=1"

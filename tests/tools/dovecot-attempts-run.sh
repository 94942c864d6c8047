#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# dovecot-attempts-run.sh MODE OUTDIR - one run of dovecot-attempts.sh,
# inside its private network namespace.
set -eu
mode=$1 out=$2
dir=$(mktemp -d /tmp/dovecot-attempts.XXXXXX)
chmod 755 "$dir"
trap 'dovecot -c "$dir/dovecot.conf" stop 2>/dev/null || true; rm -rf "$dir"' EXIT
ip link set lo up
for a in 203.0.113.5 203.0.113.6 203.0.113.7 203.0.113.8; do ip addr add $a/32 dev lo; done
ip addr add 2001:db8::bad:1/128 dev lo
verbose=no; [ "$mode" = verbose ] && verbose=yes
mkdir -p "$dir/run"
echo 'bob:{PLAIN}secret' > "$dir/users"
chmod 644 "$dir/users"
cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
log_path = $dir/dovecot.log
protocols = imap pop3
listen = 127.0.0.1, ::1
ssl = no
disable_plaintext_auth = no
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
dovecot -c "$dir/dovecot.conf"
i=0
while [ ! -S "$dir/run/auth-client" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
python3 - "$dir" <<'PY'
import base64, socket, sys, time
d = sys.argv[1]
pf = open(d + '/postfix.log', 'w')

def lines(sock):
    f = sock.makefile('rb')
    return f

def imap(src, fam, logins):
    s = socket.socket(fam); s.bind((src, 0)); s.connect(('::1' if fam == socket.AF_INET6 else '127.0.0.1', 143))
    f = s.makefile('rb'); f.readline()
    for n, (u, p) in enumerate(logins):
        tag = 'a%d' % n
        s.sendall(('%s LOGIN %s %s\r\n' % (tag, u, p)).encode())
        while not f.readline().startswith(tag.encode()): pass
    s.sendall(b'z LOGOUT\r\n'); f.readline(); s.close()

def pop3(src, logins):
    s = socket.socket(); s.bind((src, 0)); s.connect(('127.0.0.1', 110))
    f = s.makefile('rb'); f.readline()
    for u, p in logins:
        s.sendall(('USER %s\r\n' % u).encode()); f.readline()
        s.sendall(('PASS %s\r\n' % p).encode()); f.readline()
    s.close()       # hang up without QUIT

def sasl(src, attempts):
    s = socket.socket(socket.AF_UNIX); s.connect(d + '/run/auth-client')
    f = s.makefile('rb')
    s.sendall(b'VERSION\t1\t1\nCPID\t4242\n')
    while not f.readline().startswith(b'DONE'): pass
    for n, (u, p) in enumerate(attempts):
        # the LOGIN mechanism as smtpd relays it: user name, then password
        s.sendall(('AUTH\t%d\tLOGIN\tservice=smtp\tnologin\tlip=192.0.2.25\trip=%s\n' % (n + 1, src)).encode())
        f.readline()                                    # CONT: "Username:"
        s.sendall(('CONT\t%d\t%s\n' % (n + 1, base64.b64encode(u.encode()).decode())).encode())
        f.readline()                                    # CONT: "Password:"
        s.sendall(('CONT\t%d\t%s\n' % (n + 1, base64.b64encode(p.encode()).decode())).encode())
        reply = f.readline()
        if reply.startswith(b'FAIL'):
            pf.write('%s mx postfix/submission/smtpd[4242]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n'
                     % (time.strftime('%b %d %H:%M:%S'), src))
            pf.flush()
    s.close()

imap('203.0.113.5', socket.AF_INET, [('bob', 'x1'), ('bob', 'x2'), ('alice', 'x3')])     # 3
imap('203.0.113.6', socket.AF_INET, [('bob', 'secret')])                                 # a login
pop3('203.0.113.7', [('carol', 'x'), ('carol', 'y')])                                     # 2
sasl('203.0.113.8', [('bob', 'bad'), ('dave', 'x'), ('bob', 'secret')])                   # 2 (and a success)
imap('2001:db8::bad:1', socket.AF_INET6, [('root', 'toor')])                             # 1
time.sleep(1)
PY
dovecot -c "$dir/dovecot.conf" stop
i=0
while [ -e "$dir/run/master.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -v ' master: ' "$dir/dovecot.log" | grep -v '^.* imap(bob)' > "$out/$mode-logpath.log" || true
# syslog: "MMM DD HH:MM:SS PROC: LEVEL: MSG" -> "MMM DD HH:MM:SS mx dovecot: PROC: MSG"
sed -E 's/^([A-Z][a-z]{2} [0-9]{2} [0-9:]{8}) ([^ ]+): (Info|Warning|Error): /\1 mx dovecot: \2: /' \
	"$out/$mode-logpath.log" > "$dir/dovecot-syslog.log"
sort -s -k3,3 "$dir/dovecot-syslog.log" "$dir/postfix.log" > "$out/$mode-syslog.log"
echo "$mode: attempts 203.0.113.5=3 203.0.113.7=2 203.0.113.8=2 2001:db8::bad:1=1"

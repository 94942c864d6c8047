# SPDX-License-Identifier: GPL-2.0-or-later
#
# e2e_client.py - the mail clients of test_e2e_real_servers.sh: real SMTP,
# IMAP and POP3 dialogues with the real Postfix and Dovecot, from a chosen
# source address (run in the clients' network namespace).
#
#   e2e_client.py imap SRC USER PASS [USER PASS...]   one connection, a LOGIN
#                                                     each; prints OK or NO each
#   e2e_client.py imapmail SRC USER PASS              LOGIN, SELECT INBOX, LOGOUT;
#                                                     prints the SELECT's result
#   e2e_client.py pop3 SRC USER PASS                  USER/PASS; prints +OK or -ERR
#   e2e_client.py auth SRC USER PASS                  submission (587): EHLO,
#                                                     AUTH PLAIN; prints the reply code
#   e2e_client.py send SRC USER PASS RCPT             submission: AUTH PLAIN, then a
#                                                     message to RCPT; prints the
#                                                     final reply code (250: queued)
#   e2e_client.py harvest SRC N                       port 25 (postscreen, then
#                                                     smtpd): N RCPTs to unknown
#                                                     users; prints each reply code
#   e2e_client.py rset SRC N                          port 25: N RSETs, then QUIT
#   e2e_client.py flood SRC N                         port 25: N connections at
#                                                     once, each reads the greeting
#                                                     and says QUIT
#   e2e_client.py batch                               each line of stdin one of the
#                                                     above: all at once, in threads
#
# The server is 192.0.2.1 (2001:db8::1 for an IPv6 SRC). Prints one line
# per result; a broken connection (the client was blocked mid-session)
# prints "error: ..." and exits 1. Every read has a 30 s limit, so nothing
# hangs; the test decides what each outcome means.
import base64
import socket
import sys
import threading


def connect(src, port):
    v6 = ':' in src
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    s.settimeout(30)
    s.bind((src, 0))
    s.connect(('2001:db8::1' if v6 else '192.0.2.1', port))
    return s, s.makefile('rb')


def line(f):
    ln = f.readline()
    if not ln:
        raise ConnectionError('connection closed by the server')
    return ln.decode('ascii', 'replace').rstrip('\r\n')


def reply(f):
    """one SMTP reply (all its lines); returns the last"""
    while True:
        ln = line(f)
        if ln[3:4] != '-':
            return ln


def cmd(s, f, text):
    s.sendall(text.encode() + b'\r\n')
    return reply(f)


def b64(text):
    return base64.b64encode(text.encode()).decode()


def imap(src, *pairs):
    s, f = connect(src, 143)
    line(f)
    for n in range(0, len(pairs), 2):
        tag = 'a%d' % n
        s.sendall(('%s LOGIN %s %s\r\n' % (tag, pairs[n], pairs[n + 1])).encode())
        while True:
            ln = line(f)
            if ln.startswith(tag + ' '):
                print(ln.split(' ')[1])
                break
    s.sendall(b'z LOGOUT\r\n')
    s.close()


def imapmail(src, user, password):
    s, f = connect(src, 143)
    line(f)
    for tag, text in (('a', 'LOGIN %s %s' % (user, password)), ('b', 'SELECT INBOX'), ('c', 'LOGOUT')):
        s.sendall(('%s %s\r\n' % (tag, text)).encode())
        while True:
            ln = line(f)
            if ln.startswith(tag + ' '):
                break
        if tag != 'c' and ln.split(' ')[1] != 'OK':
            break
    print(ln.split(' ')[1] if tag == 'c' else 'failed at %s: %s' % (tag, ln))
    s.close()


def pop3(src, user, password):
    s, f = connect(src, 110)
    line(f)
    s.sendall(('USER %s\r\n' % user).encode())
    line(f)
    s.sendall(('PASS %s\r\n' % password).encode())
    print(line(f).split(' ')[0])
    s.sendall(b'QUIT\r\n')
    s.close()


def submission(src, user, password, rcpt=None):
    s, f = connect(src, 587)
    reply(f)
    cmd(s, f, 'EHLO client.example.net')
    r = cmd(s, f, 'AUTH PLAIN ' + b64('\0%s\0%s' % (user, password)))
    if rcpt is not None and r.startswith('235'):
        for text in ('MAIL FROM:<%s@example.org>' % user, 'RCPT TO:<%s>' % rcpt, 'DATA'):
            r = cmd(s, f, text)
            if r[0] not in '23':
                break
        else:
            r = cmd(s, f, 'Subject: e2e\r\n\r\nhello\r\n.')
    print(r[:3])
    cmd(s, f, 'QUIT')
    s.close()


def smtp25(src):
    """a port-25 session: waits out postscreen's greeting test, then EHLO"""
    s, f = connect(src, 25)
    reply(f)
    cmd(s, f, 'EHLO client.example.net')
    return s, f


def harvest(src, n):
    s, f = smtp25(src)
    cmd(s, f, 'MAIL FROM:<x@example.net>')
    for i in range(int(n)):
        print(cmd(s, f, 'RCPT TO:<nobody%d@example.org>' % i)[:9])
    cmd(s, f, 'QUIT')
    s.close()


def rset(src, n):
    s, f = smtp25(src)
    for _ in range(int(n)):
        cmd(s, f, 'RSET')
    print(cmd(s, f, 'QUIT')[:3])
    s.close()


def flood(src, n):
    results = []

    def one():
        try:
            s, f = connect(src, 25)
            reply(f)
            cmd(s, f, 'QUIT')
            s.close()
            results.append('ok')
        except (OSError, ConnectionError) as e:
            results.append('error: %s' % e)
    threads = [threading.Thread(target=one) for _ in range(int(n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('%d greeted, %d broken' % (results.count('ok'), len(results) - results.count('ok')))


class ThreadOut:
    """sys.stdout for batch: each thread prints into a buffer of its own"""
    def __init__(self, real):
        self.real, self.local = real, threading.local()

    def write(self, text):
        buf = getattr(self.local, 'buf', None)
        return (buf if buf is not None else self.real).write(text)

    def flush(self):
        self.real.flush()


def batch():
    """each line of stdin is a command (CMD SRC ARGS...): all run at once, in
    threads of this one process; prints "CMD SRC: OUTPUT" for each"""
    import io
    out = sys.stdout = ThreadOut(sys.stdout)
    results = []

    def one(words):
        out.local.buf = io.StringIO()
        try:
            COMMANDS[words[0]](*words[1:])
        except (OSError, ConnectionError) as e:
            print('error: %s' % e)
        results.append('%s %s: %s' % (words[0], words[1], out.local.buf.getvalue().strip().replace('\n', ' ')))
    jobs = [line.split() for line in sys.stdin if line.strip()]
    threads = [threading.Thread(target=one, args=(w,)) for w in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.stdout = out.real
    print('\n'.join(sorted(results)))


COMMANDS = {'imap': imap, 'imapmail': imapmail, 'pop3': pop3, 'auth': submission,
            'send': submission, 'harvest': harvest, 'rset': rset, 'flood': flood}

if __name__ == '__main__':
    if len(sys.argv) == 2 and sys.argv[1] == 'batch':
        batch()
        sys.exit(0)
    if len(sys.argv) < 3 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except (OSError, ConnectionError) as e:
        print('error: %s' % e)
        sys.exit(1)

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-check-cluster.sh - "mailscreen check" and [cluster]: a bad
# Redis address, node or prefix, an unknown share/accept word, accept =
# counts (counts are shared in Redis), and a password file others may read or that
# someone else owns are each refused with the file and line of the key
# (exit 1); a good section passes. A rule with shared = yes where share
# has no counts is warned of (it counts alone); shared = maybe is refused.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-check-cluster.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
: > "$tmp/mail.log"
conf() {        # conf CLUSTER-LINES
	cat > "$tmp/a.conf" <<CONF
[daemon]
filters = $(pwd)/filters
rules = $(pwd)/rules
[source mail]
path = $tmp/mail.log
filters = postfix
[cluster]
$1
CONF
}
refused() {     # refused NAME LINE EXPECTED-ERROR
	"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
	expect "$1: exit status" 1 $?
	expect "$1: the error" "$tmp/a.conf:$2: $3" "$(cat "$tmp/err")"
}

conf "redis = 192.0.2.7"
refused "no port" 8 "redis '192.0.2.7': give unix:/PATH or HOST:PORT ([ADDRESS]:PORT for IPv6)"
conf "redis = unix:redis.sock"
refused "relative socket" 8 "redis 'unix:redis.sock': a unix socket path must be absolute (unix:/run/redis/redis.sock)"
conf "redis = 192.0.2.7:6379
node = mx 1"
refused "bad node" 9 "node 'mx 1': use only A-Z a-z 0-9 . _ -"
conf "prefix = a/b"
refused "bad prefix" 8 "prefix 'a/b': use only A-Z a-z 0-9 . _ - :"
conf "share = blocks everything"
refused "unknown share word" 8 "share: 'everything' is not one of blocks allows accounts counts"
conf "accept = blocks counts"
refused "counts are not accepted" 8 "accept: counts is shared in Redis, not accepted; accept blocks, allows and accounts"
conf "accept = blocks allow"
refused "unknown accept word" 8 "accept: 'allow' is not one of blocks allows accounts counts"

echo secret > "$tmp/pw"
chmod 640 "$tmp/pw"
conf "redis = [2001:db8::7]:6379
user = mailscreen
password_file = $tmp/pw"
refused "password file readable by the group" 10 \
	"password_file '$tmp/pw' may be read by others (mode 0640): chmod 600 it"
chmod 600 "$tmp/pw"
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$tmp/pw"
	refused "password file of another user" 10 \
		"password_file '$tmp/pw' is owned by uid 65534, neither root nor the daemon's user: chown it"
	chown 0 "$tmp/pw"
fi
conf "redis = 192.0.2.7:6379
user = mailscreen
password_file = $tmp/pw
node = mx1.example.org
share = blocks allows accounts
accept = blocks"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "a good [cluster]: exit status" 0 $?
expect "a good [cluster]: no message" "" "$(cat "$tmp/err")"

mkdir "$tmp/rules"
cp rules/*.conf "$tmp/rules/"
printf '[auth-shared]\nevents = auth-fail\nlimit = 5\nwindow = 10m\nblock = 1h\nshared = yes\n' \
	> "$tmp/rules/shared.conf"
sed -i "s|^rules = .*|rules = $tmp/rules|" "$tmp/a.conf"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "a shared rule without share counts: exit status" 0 $?
expect "a shared rule without share counts: the warning" "$tmp/rules/shared.conf:2: warning: rule 'auth-shared' is \
shared but [cluster] share does not include counts: it counts this node's events alone" "$(cat "$tmp/err")"
sed -i 's/^shared = yes/shared = maybe/' "$tmp/rules/shared.conf"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "shared = maybe: exit status" 1 $?
expect "shared = maybe: the error" "$tmp/rules/shared.conf:6: shared: 'maybe' is not yes or no" "$(cat "$tmp/err")"
sed -i 's/^shared = maybe/shared = yes/' "$tmp/rules/shared.conf"
sed -i 's/^share = .*/share = blocks counts/' "$tmp/a.conf"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "a shared rule with share counts: exit status" 0 $?
expect "a shared rule with share counts: no message" "" "$(cat "$tmp/err")"

# a host name: looked up at each connection, in the daemon's loop
sed -i 's/^redis = .*/redis = redis.example.org:6379/' "$tmp/a.conf"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "redis as a host name: exit status" 0 $?
expect "redis as a host name: the warning" "$tmp/a.conf: warning: [cluster] redis 'redis.example.org:6379' names a \
host: it is looked up at each connection, and the daemon waits on the resolver meanwhile (a slow DNS stalls the logs \
and the control socket); give its address" "$(cat "$tmp/err")"
for r in '[2001:db8::7]:6379' "unix:$tmp/redis.sock"; do
	sed -i "s|^redis = .*|redis = $r|" "$tmp/a.conf"
	"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
	expect "redis = $r: no message" "" "$(cat "$tmp/err")"
done
exit $fail

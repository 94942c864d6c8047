#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_cluster_hostile_redis.sh - a hostile server in the place of Redis
# answers with replies that never end (an array of 2**31-1 elements, one
# of 1,000,000 arrays of 100,000 elements, a string of 2**31-1 bytes, sent as fast
# as the daemon reads): the daemon
# fails the connection once a reply passes its bound (128 MB of objects,
# 16 MB of an unfinished string) and its memory stays bounded, rather
# than grow until the timeout or the kernel's OOM killer.
# netns-timeout: 90
command -v python3 > /dev/null || { echo "skip: python3 is missing"; exit 77; }

# run_against MODE WHAT - the daemon against the fake server, which it
# drops, saying it sent a WHAT too large; its peak RSS (kB) in peak
run_against() {
	rm -f "$MS_TMP/fake.sock"
	python3 "$MS_REPO/tests/netns/fake_redis.py" "$MS_TMP/fake.sock" "$1" &
	fake=$!
	wait_until "the fake server listens" test -S "$MS_TMP/fake.sock"
	mkdir -p "$MS_TMP/state"
	: > "$MS_TMP/mail.log"
	cat > "$MS_TMP/hostile.conf" <<CONF
[daemon]
filters = $MS_REPO/filters
state_dir = $MS_TMP/state
control = $MS_TMP/control
[source mail]
path = $MS_TMP/mail.log
filters = postfix
[cluster]
redis = unix:$MS_TMP/fake.sock
node = x
CONF
	: > "$MS_TMP/hostile.log"
	"$MS_BIN" run -c "$MS_TMP/hostile.conf" --foreground 2> "$MS_TMP/hostile.log" &
	daemon=$!
	wait_for_line "$MS_TMP/hostile.log" 0 "Redis sent a $2 of more than" "$daemon" &&
		wait_for_line "$MS_TMP/hostile.log" 0 'cluster: lost the read connection to Redis' "$daemon" ||
		fail "the daemon did not drop the read connection: $(tail -n 5 "$MS_TMP/hostile.log")"
	ok "$1: the daemon dropped the read connection to the hostile server"
	peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$daemon/status")
	kill -TERM "$daemon"
	wait "$daemon"
	kill "$fake"
	wait "$fake" 2>/dev/null
}

for mode in array nested string; do
	say "a reply of endless $mode"
	run_against $mode "$([ $mode = string ] && echo string || echo reply)"
	[ "$peak" -lt 600000 ] || fail "$mode: the daemon's memory reached ${peak} kB"
	ok "$mode: the daemon's memory peaked at ${peak} kB"
done

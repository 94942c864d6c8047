# SPDX-License-Identifier: GPL-2.0-or-later
# cluster_lib.sh - helpers for the cluster tests (sourced after lib.sh):
# a real redis-server in a network namespace of its own (never the host's
# Redis; no persistence) with an ACL user and its password file, and
# mailscreen nodes, each in a network namespace of its own (so each has
# its own nftables table), its own state, log, control socket and config.
#
# The nodes reach Redis over TCP by default: it listens on
# $MS_REDIS_ADDR:6379 (an address on its namespace's lo), and node number K
# (0, 1, ... in the order of node_setup) is joined to the Redis namespace by
# a veth pair, 192.0.2.(4K+1)/30 on the Redis side and 192.0.2.(4K+2)/30 on
# the node's, with a route to $MS_REDIS_ADDR through it. A test that sets
# MS_REDIS_TRANSPORT=unix before sourcing this file has its nodes use the
# unix socket instead (both transports stay tested). The test's own
# redis-cli (rcli) always uses the unix socket. Nothing here leaves the
# namespaces run.sh made for the test.

MS_REDIS_SOCK=$MS_TMP/redis.sock
MS_REDIS_NS=$MS_TMP/redis.netns
MS_REDIS_ADDR=192.0.2.100
MS_REDIS_TRANSPORT=${MS_REDIS_TRANSPORT:-tcp}
MS_REDIS_PID=
MS_NODE_COUNT=0

command -v redis-server > /dev/null || { echo "skip: redis-server is missing (make deps-test)"; exit 77; }
command -v redis-cli > /dev/null || { echo "skip: redis-cli is missing (make deps-test)"; exit 77; }

# redis_start - the server, with user mailscreen allowed exactly the
# commands the daemon uses on its own keys, and an admin for the test
redis_start() {
	if [ ! -e "$MS_REDIS_NS" ]; then
		: > "$MS_REDIS_NS" && unshare --net="$MS_REDIS_NS" sh -c "
			ip link set lo up && ip addr add $MS_REDIS_ADDR/32 dev lo" ||
			fail "namespace for redis-server"
	fi
	printf '%s\n' 'test-secret-7' > "$MS_TMP/redis.pw"
	chmod 600 "$MS_TMP/redis.pw"
	cat > "$MS_TMP/redis.conf" <<REDISCONF
port 6379
bind $MS_REDIS_ADDR
unixsocket $MS_REDIS_SOCK
unixsocketperm 700
save ""
appendonly no
dir $MS_TMP
user default off
user mailscreen on >test-secret-7 ~mailscreen:* resetchannels -@all +eval +xadd +xread +xrange +hset +hget +hdel +hgetall +evalsha +time +zadd +zremrangebyscore +zremrangebyrank +zcard +pexpire +set
user admin on >admin-secret ~* &* +@all
REDISCONF
	: > "$MS_TMP/redis.log"
	nsenter --net="$MS_REDIS_NS" redis-server "$MS_TMP/redis.conf" >> "$MS_TMP/redis.log" 2>&1 &
	MS_REDIS_PID=$!
	wait_until "redis-server answers" rcli_ping
}

rcli() { redis-cli -s "$MS_REDIS_SOCK" --user admin --pass admin-secret --no-auth-warning "$@"; }
rcli_ping() { [ "$(rcli ping 2>/dev/null)" = PONG ]; }

redis_stop() {
	kill -KILL "$MS_REDIS_PID" 2>/dev/null
	wait "$MS_REDIS_PID" 2>/dev/null
	MS_REDIS_PID=
	rm -f "$MS_REDIS_SOCK"
	ok "redis-server killed"
}

# node_setup NAME [EXTRA] - a namespace and a configuration for node NAME;
# EXTRA is added to its [cluster] section
node_setup() {
	nd=$MS_TMP/node.$1
	mkdir -p "$nd/state"
	[ -e "$nd/mail.log" ] || : > "$nd/mail.log"
	[ -e "$nd/daemon.log" ] || : > "$nd/daemon.log"
	if [ ! -e "$nd/netns" ]; then
		: > "$nd/netns" && unshare --net="$nd/netns" ip link set lo up || fail "namespace for node $1"
		node_link "$1"
	fi
	if [ "$MS_REDIS_TRANSPORT" = unix ]; then
		nd_redis=unix:$MS_REDIS_SOCK
	else
		nd_redis=$MS_REDIS_ADDR:6379
	fi
	cat > "$nd/mailscreen.conf" <<NODECONF
[daemon]
filters = $MS_REPO/filters
rules = ${MS_RULES:-$MS_REPO/rules}
state_dir = $nd/state
control = $nd/control
deny_file = $nd/denied
blocklist = $nd/blocklist
[source mail]
path = $nd/mail.log
filters = $(ms_filter_names)
[cluster]
redis = $nd_redis
user = mailscreen
password_file = $MS_TMP/redis.pw
node = $1
${2:-}
NODECONF
}

# node_link NAME - the veth pair from node NAME's namespace to Redis's
node_link() {
	nl_k=$MS_NODE_COUNT
	MS_NODE_COUNT=$((MS_NODE_COUNT + 1))
	nl_r=192.0.2.$((4 * nl_k + 1)) nl_n=192.0.2.$((4 * nl_k + 2))
	nl_nd=$MS_TMP/node.$1
	# made here (the test's namespace), one end sent to each side
	ip link add "r$nl_k" type veth peer name "n$nl_k" &&
		ip link set "r$nl_k" netns "$MS_REDIS_NS" &&
		ip link set "n$nl_k" netns "$nl_nd/netns" &&
		nsenter --net="$MS_REDIS_NS" sh -c "ip addr add $nl_r/30 dev r$nl_k && ip link set r$nl_k up" &&
		nsenter --net="$nl_nd/netns" sh -c "ip addr add $nl_n/30 dev n$nl_k && ip link set n$nl_k up &&
			ip route add $MS_REDIS_ADDR/32 via $nl_r" ||
		fail "veth link from node $1 to redis-server"
}

# node_start NAME - run it in its namespace, wait until it started
node_start() {
	nd=$MS_TMP/node.$1
	off=$(wc -c < "$nd/daemon.log")
	nsenter --net="$nd/netns" "$MS_BIN" run -c "$nd/mailscreen.conf" --foreground 2>> "$nd/daemon.log" &
	eval "NODE_PID_$1=$!"
	wait_for_line "$nd/daemon.log" "$off" '^mailscreen: started with ' $! ||
		fail "node $1 did not start: $(tail -n 5 "$nd/daemon.log")"
	ok "node $1 started"
}

node_pid() { eval "echo \$NODE_PID_$1"; }

# node_kill NAME [SIGNAL]
node_kill() {
	nk_p=$(node_pid "$1")
	kill -"${2:-TERM}" "$nk_p"
	wait "$nk_p" 2>/dev/null
	ok "node $1 stopped (SIG${2:-TERM})"
}

# node_ctl NAME COMMAND [ARGS...] - the command must succeed (MS_OUT)
node_ctl() {
	nc_n=$1 nc_c=$2
	shift 2
	MS_OUT=$("$MS_BIN" "$nc_c" -s "$MS_TMP/node.$nc_n/control" "$@" 2>&1) ||
		fail "node $nc_n: mailscreen $nc_c $*: $MS_OUT"
}

node_log_size() { wc -c < "$MS_TMP/node.$1/daemon.log"; }

# node_wait_log NAME OFFSET ERE
node_wait_log() {
	wait_for_line "$MS_TMP/node.$1/daemon.log" "$2" "$3" "$(node_pid "$1")" ||
		fail "node $1 did not log /$3/ within ${MS_WAIT}s; its log: $(tail -n 8 "$MS_TMP/node.$1/daemon.log")"
	ok "node $1 logged /$3/"
}

# node_elements NAME SET - the set's elements in node NAME's kernel, one a line
node_elements() {
	nsenter --net="$MS_TMP/node.$1/netns" nft -j list set inet mailscreen "$2" 2>/dev/null | jq -r '
		.nftables[] | select(.set) | (.set.elem // [])[] |
		(if type == "object" and has("elem") then .elem else {val: .} end) |
		(.val | if type == "object" then
			(if .prefix then "\(.prefix.addr)/\(.prefix.len)"
			 elif .range then "\(.range[0])-\(.range[1])" else tojson end)
		  else . end)'
}
node_has() { node_elements "$1" "$(set_of "$2")" | grep -F -x -q -e "$2"; }

now_ms() { date +%s%3N; }

# node_wait_element NAME ADDR [START_MS] - poll node NAME's set until ADDR
# is in it; with START_MS, say how long it took from then
node_wait_element() {
	nw_deadline=$(($(date +%s) + MS_WAIT))
	until node_has "$1" "$2"; do
		[ "$(date +%s)" -le "$nw_deadline" ] ||
			fail "$2 not in node $1's set after ${MS_WAIT}s; its log: $(tail -n 8 "$MS_TMP/node.$1/daemon.log")"
		sleep 0.01
	done
	if [ -n "${3:-}" ]; then
		ok "$2 is in node $1's kernel set, $(($(now_ms) - $3)) ms after the decision (polling included)"
	else
		ok "$2 is in node $1's kernel set"
	fi
}

node_wait_no_element() {
	nw_deadline=$(($(date +%s) + MS_WAIT))
	while node_has "$1" "$2"; do
		[ "$(date +%s)" -le "$nw_deadline" ] || fail "$2 still in node $1's set after ${MS_WAIT}s"
		sleep 0.01
	done
	ok "$2 is gone from node $1's kernel set"
}

node_assert_no_element() {
	node_has "$1" "$2" && fail "$2 must not be in node $1's set"
	ok "$2 is not in node $1's kernel set"
}

# two_nodes - Redis started, nodes a and b set up and started, each having
# read the snapshot
two_nodes() {
	redis_start
	node_setup a
	node_setup b
	node_start a
	node_start b
	node_wait_log a 0 'cluster: read the snapshot'
	node_wait_log b 0 'cluster: read the snapshot'
}

# shared_rule - the rules the nodes read (MS_RULES): auth-shared alone, 5
# failures in 10m block for 1h, counted across the cluster (shared = yes)
shared_rule() {
	mkdir -p "$MS_TMP/rules"
	cat > "$MS_TMP/rules/shared.conf" <<'RULES'
[auth-shared]
events = auth-fail
limit = 5
window = 10m
block = 1h
shared = yes
RULES
	MS_RULES=$MS_TMP/rules
}

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_ipv6.sh - IPv6 clients are counted and blocked per /64.
#
# auth-ip counts IPv6 failures per /64 (ipv6_prefix = 64): one failure each
# from five different addresses of 2001:db8:1:2::/64 blocks the whole /64 -
# one element 2001:db8:1:2::/64 in block6 with a 1h timeout - so a sixth
# address of it, 2001:db8:1:2::99, which never failed, is dropped on port 25.
# 4 failures from 2001:db8:1:3::5 (another /64 of the same /48) written
# first neither block it nor add to the /64's count: with four of the /64's
# own addresses they do not block anything (barrier-proved), and it still
# connects afterwards.
# Run by run.sh, which has sourced lib.sh.

NET=2001:db8:1:2
INNOCENT=$NET::99
NEIGHBOUR=2001:db8:1:3::5

peer_addr $INNOCENT/64 || fail "cannot add $INNOCENT to the peer"
peer_addr $NEIGHBOUR/64 || fail "cannot add $NEIGHBOUR to the peer"
ms_listen $SERVER6 25

say "before any block, both clients connect"
expect_connect $INNOCENT $SERVER6 25
expect_connect $NEIGHBOUR $SERVER6 25

ms_config
ms_start

say "4 failures from $NEIGHBOUR, then one each from 4 addresses of $NET::/64: no block"
sasl_fail $NEIGHBOUR 4
for h in 5 6 7 8; do
	sasl_fail $NET::$h
done
barrier 198.51.100.66
[ -z "$(set_elements block6)" ] || fail "block6 must be empty, holds: $(set_elements block6 | tr '\n' ';')"
ok "block6 is empty"

say "a failure from a 5th address blocks the /64"
log_mark
sasl_fail $NET::9
wait_log "^mailscreen: block 2001:db8:1:2::/64 for 1h: rule auth-ip, 5 auth-fail within 10m; line: .*unknown\[2001:db8:1:2::9\]"
wait_for_element $NET::/64
assert_timeout $NET::/64 3600
assert_eq "block6 elements" "$NET::/64 3600" "$(set_elements block6 | tr '\n' ';' | sed 's/;$//')"

say "another address of the /64 is dropped, the neighbouring /64 is not"
expect_dropped $INNOCENT $SERVER6 25
expect_connect $NEIGHBOUR $SERVER6 25
assert_no_element 2001:db8:1:3::/64
assert_no_element $NEIGHBOUR
ms_stop

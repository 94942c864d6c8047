# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_screen_repeat_prefix.sh - repeat offenders get longer blocks
# ([repeat]), and enough blocked addresses of one prefix block the prefix
# ([prefix]).
#
# With [repeat] factor = 2, permanent_after = 3 and [prefix] enabled,
# threshold = 3 (IPv4 /24, IPv6 /48, 1d):
#   - 198.51.100.50 blocked by auth-ip (5 failures): 1h in the kernel;
#     unblocked by hand (element gone), 5 failures again: 2h, logged as
#     block #2; unblocked, 5 more: permanent (no kernel timeout, expiry
#     null in list blocks);
#   - 203.0.113.21, .22, .23 blocked by rule: at the third, 203.0.113.0/24
#     is in block4 for 1d, listed with origin "prefix"; 203.0.113.5, which
#     never failed, is dropped now;
#   - IPv6: three /64s of 2001:db8:1::/48 blocked by rule (auth-ip counts
#     and blocks IPv6 per /64) block the /48, and 2001:db8:1:99::5, which
#     never failed, is dropped.
# Run by run.sh, which has sourced lib.sh.

peer_addr 2001:db8:1:99::5/64 || fail "cannot add an IPv6 address to the peer"
ms_listen $SERVER4 25
ms_listen $SERVER6 25
ms_config "[repeat]
factor = 2
permanent_after = 3

[prefix]
enabled = yes
threshold = 3"
ms_start

R=198.51.100.50
say "first block of $R: 1h"
log_mark
sasl_fail $R 5
wait_log "^mailscreen: block 198\.51\.100\.50 for 1h: rule auth-ip, 5 auth-fail within 10m"
wait_for_element $R
assert_timeout $R 3600

say "unblocked, 5 failures again: 2h, block #2"
ctl_ok unblock $R
assert_eq "unblock says" "unblocked $R" "$MS_OUT"
wait_no_element $R
log_mark
sasl_fail $R 5
wait_log "^mailscreen: block 198\.51\.100\.50 for 2h: rule auth-ip, 5 auth-fail within 10m, block #2"
wait_for_element $R
assert_timeout $R 7200

say "unblocked, 5 failures again: the third block is permanent"
ctl_ok unblock $R
wait_no_element $R
log_mark
sasl_fail $R 5
wait_log "^mailscreen: block 198\.51\.100\.50 for permanent: rule auth-ip, 5 auth-fail within 10m, block #3|^mailscreen: block 198\.51\.100\.50 permanently"
wait_for_element $R
assert_timeout $R none
assert_eq "list blocks: expiry of $R" "null" "$(ctl_json ".[] | select(.target == \"$R\") | .expiry" list blocks)"

say "three blocked addresses of 203.0.113.0/24 block the /24"
expect_connect $ATTACKER $SERVER4 25
sasl_fail 203.0.113.21 5
sasl_fail 203.0.113.22 5
wait_for_element 203.0.113.21
wait_for_element 203.0.113.22
assert_no_element 203.0.113.0/24
log_mark
sasl_fail 203.0.113.23 5
wait_log "^mailscreen: block 203\.0\.113\.23 for 1h"
wait_for_element 203.0.113.0/24
assert_timeout 203.0.113.0/24 86400
assert_eq "list blocks: origin of 203.0.113.0/24" "prefix" \
	"$(ctl_json '.[] | select(.target == "203.0.113.0/24") | .origin' list blocks)"
reason=$(ctl_json '.[] | select(.target == "203.0.113.0/24") | .reason' list blocks)
case $reason in
*3*203.0.113.0/24*) ok "its reason: $reason" ;;
*) fail "the prefix block's reason should say how many addresses of 203.0.113.0/24 were blocked: '$reason'" ;;
esac
expect_dropped $ATTACKER $SERVER4 25
expect_connect $BYSTANDER $SERVER4 25

say "IPv6: three blocked /64s of 2001:db8:1::/48 block the /48"
sasl_fail 2001:db8:1:1::5 5
sasl_fail 2001:db8:1:2::5 5
wait_for_element 2001:db8:1:1::/64
wait_for_element 2001:db8:1:2::/64
log_mark
sasl_fail 2001:db8:1:3::5 5
wait_log "^mailscreen: block 2001:db8:1:3::/64 for 1h"
wait_for_element 2001:db8:1::/48
assert_eq "list blocks: origin of 2001:db8:1::/48" "prefix" \
	"$(ctl_json '.[] | select(.target == "2001:db8:1::/48") | .origin' list blocks)"
expect_dropped 2001:db8:1:99::5 $SERVER6 25

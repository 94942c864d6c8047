# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_logging_block_hits.sh - [logging] block_hits: the packets a block
# dropped, read from the kernel's per-element counters at each kernel check
# (verify_interval = 1s here), are logged per block, at most once a minute
# per block, at most block_hit_lines blocks a check (the rest summed in one
# line), and not at all with block_hits = no.
#
#   - 203.0.113.5 blocked, one connection dropped: "block hits: 203.0.113.5
#     dropped N packets since it was made (auth-ip)";
#   - it drops again, then 203.0.113.40 is blocked and drops: .40 is
#     reported, .5 is not (reported less than a minute ago);
#   - block_hits = no: .41 and .42 blocked and dropping, two kernel checks
#     later nothing is logged of them;
#   - block_hits = yes, block_hit_lines = 1: one of them is reported, the
#     other summed in "1 more blocks dropped N packets".
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
for a in 203.0.113.40 203.0.113.41 203.0.113.42; do
	peer_addr $a/24 || fail "cannot add $a to the peer"
done
conf() {
	ms_config "[daemon]
log_level = debug
[nftables]
verify_interval = 1s
[logging]
$1"
}
conf "block_hits = yes"
ms_start

say "a blocked address drops a connection: reported"
barrier $ATTACKER
log_mark
expect_dropped $ATTACKER $SERVER4 25
wait_log '^mailscreen: block hits: 203\.0\.113\.5 dropped [1-9][0-9]* packets since it was made \(auth-ip\)$'

say "at most once a minute per block"
log_mark
expect_dropped $ATTACKER $SERVER4 25
barrier 203.0.113.40
expect_dropped 203.0.113.40 $SERVER4 25
wait_log '^mailscreen: block hits: 203\.0\.113\.40 dropped [1-9][0-9]* packets since it was made \(auth-ip\)$'
log_has '^mailscreen: block hits: 203\.0\.113\.5 ' && fail "203.0.113.5 reported twice within a minute"
ok "203.0.113.5 not reported again within the minute"

say "block_hits = no: nothing said"
conf "block_hits = no
block_hit_lines = 1"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: reloaded '
barrier 203.0.113.41
barrier 203.0.113.42
off_mark=$(wc -c < "$MS_DLOG")
expect_dropped 203.0.113.41 $SERVER4 25
expect_dropped 203.0.113.42 $SERVER4 25
log_mark
wait_log 'block hits: kernel check read, [0-9]+ blocks have dropped packets$'
log_mark
wait_log 'block hits: kernel check read, [0-9]+ blocks have dropped packets$'
MS_MARK=$off_mark
log_has '^mailscreen: block hits: 203\.0\.113\.4[12] ' && fail "block hits logged with block_hits = no"
ok "two kernel checks, no block hits line"

say "block_hit_lines = 1: one line, the other block summed"
conf "block_hits = yes
block_hit_lines = 1"
log_mark
kill -HUP "$MS_PID"
wait_log '^mailscreen: block hits: 1 more blocks dropped [1-9][0-9]* packets \(block_hit_lines = 1\)$'
n=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -c '^mailscreen: block hits: 203\.0\.113\.4[12] dropped ')
assert_eq "blocks reported on a line of their own" 1 "$n"
ms_stop

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_logging_startup.sh - [logging] startup_lists: at start the daemon
# logs the counts it keeps per rule, the block list and the allow list,
# bounded by startup_list_entries (the rest counted in one line); with
# startup_lists = no, none of it.
#
#   - 2 blocks, 2 failures of 198.51.100.50 counted, 2 [allow] entries;
#     restart with startup_list_entries = 1: the counted key with its
#     count, the list sizes, one entry of each list and "1 more not listed";
#   - restart with startup_lists = no: no "startup:" line before the
#     privileges are dropped (which is logged after the lists).
# Run by run.sh, which has sourced lib.sh.

conf() {
	ms_config "[allow]
address = 198.51.100.77
[logging]
startup_list_entries = 1
$1"
}
conf ""
ms_start
barrier $ATTACKER
barrier 198.51.100.31
sasl_fail 198.51.100.50 2
barrier 198.51.100.32
ms_stop

say "restart: the lists, bounded"
log_mark
ms_start
wait_log '^mailscreen: privileges dropped: '
for re in '^mailscreen: startup: rule auth-ip: 198\.51\.100\.50: 2 events within 10m$' \
	'^mailscreen: startup: rule auth-ip: 1 keys counted$' \
	'^mailscreen: startup: block list: 3 blocks, 0 accounts blocked$' \
	'^mailscreen: startup: block 198\.51\.100\.31 until .*: auth-ip, 5 auth-fail within 10m$' \
	'^mailscreen: startup: block list: 2 more not listed \(startup_list_entries = 1\)$' \
	'^mailscreen: startup: allow list: 2 entries$' \
	'^mailscreen: startup: allow 192\.0\.2\.10 \(\[allow\], no expiry\)$' \
	'^mailscreen: startup: allow list: 1 more not listed \(startup_list_entries = 1\)$'; do
	log_has "$re" || fail "not logged at start: /$re/"
done
n=$(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -c '^mailscreen: startup: block [0-9]')
assert_eq "blocks listed" 1 "$n"
ms_stop

say "startup_lists = no: nothing listed"
conf "startup_lists = no"
log_mark
ms_start
wait_log '^mailscreen: privileges dropped: '
log_has '^mailscreen: startup: ' && fail "lists logged with startup_lists = no"
ok "no startup: line"
ms_stop

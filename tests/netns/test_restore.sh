# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_restore.sh - the second line of defence after a flush: when a batch
# the daemon sends finds its table gone (here the daemon is stopped with
# SIGSTOP while "nft flush ruleset" runs, so its change notifications are
# read only after the next batch failed), it creates the table again and
# puts back every block it knows of, with the time each has left; the
# attacker blocked before the flush is dropped again, and the new block is
# there too. (test_flush_notify.sh proves the first line: the restore on
# the notification itself.)
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config
ms_start

sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25

kill -STOP $MS_PID
nft flush ruleset
assert_eq "ruleset after the flush" "" "$(nft list ruleset)"
expect_connect $ATTACKER $SERVER4 25
ok "the flush removed the block (the kernel held it, not the daemon)"

log_mark
sasl_fail $BYSTANDER 5
kill -CONT $MS_PID
wait_for_element $BYSTANDER
# After SIGCONT the daemon reads the log and the change notifications in
# one turn of its loop, in epoll's order: usually the batch finds the table
# gone first ("missing or broken"), sometimes the notification comes first
# ("deleted by another process", test_flush_notify.sh's path), and then
# the bystander's block may come after the restore, in its own batch.
# Either way both blocks must be in the kernel (checked below, each).
wait_log "table inet mailscreen (was missing or broken; restored table inet mailscreen with 2 blocks|deleted by another process; restored table inet mailscreen with [12] blocks)$"
wait_for_element $ATTACKER
t=$(element_timeout $ATTACKER)
[ "$t" -gt 3000 ] && [ "$t" -le 3600 ] || fail "restored block of $ATTACKER has timeout $t s, expected its remaining time (3000-3600 s)"
ok "the restored block keeps its remaining time ($t s)"
expect_dropped $ATTACKER $SERVER4 25
expect_dropped $BYSTANDER $SERVER4 25
expect_connect $COLLEAGUE $SERVER4 25

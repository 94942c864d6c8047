# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_blocklist_trust.sh - the block list file is trusted like the
# configuration: before each reading it must belong to root (or the
# daemon's user) and be writable by no one else. A refused reading is
# logged with the file, the reason and what to do; the blocks made from
# the previous good version stay; once fixed, the file is read at once
# (a change of mode or owner is an inotify event like an edit).
#
#   - a good list blocks 198.51.100.20 (the bystander: it is dropped);
#   - a new version, saved group-writable (0664, by rename), drops it and
#     adds 203.0.113.80: refused, logged with 'chmod go-w'; 198.51.100.20
#     is still dropped, 203.0.113.80 not blocked;
#   - chmod go-w: the new version applies (203.0.113.80 blocked,
#     198.51.100.20 unblocked and connects again);
#   - the file given to uid 65534, then 203.0.113.5 added to it: refused
#     (logged with the uid); 203.0.113.5 still connects; chown root: it is
#     blocked and dropped.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config
BL=$MS_BLOCKLIST
bl_re=$(printf '%s' "$BL" | sed 's/[.[\*^$()+?{|/]/\\&/g')
echo "$BYSTANDER 1h from the abuse desk" > "$BL"
chmod 0644 "$BL"
ms_start
wait_for_element $BYSTANDER
expect_dropped $BYSTANDER $SERVER4 25

say "a new version saved group-writable: refused, the old blocks stay"
log_mark
printf '203.0.113.80 1h scanner\n' > "$BL.tmp"
chmod 0664 "$BL.tmp"
mv "$BL.tmp" "$BL"
wait_log "^mailscreen: warning: block list '$bl_re' refused: '$bl_re' is writable by others \(chmod go-w '$bl_re'\); keeping the previous 1 entries; it is read again once fixed"
ok "logged: $(grep -F 'refused' "$MS_DLOG" | tail -n 1 | cut -c 1-160)..."
assert_no_element 203.0.113.80
assert_timeout $BYSTANDER 3600
expect_dropped $BYSTANDER $SERVER4 25

say "chmod go-w: the new version applies at once"
log_mark
chmod go-w "$BL"
wait_log "^mailscreen: block list '$bl_re': 1 entries \(1 added, 1 removed\)"
wait_for_element 203.0.113.80
wait_no_element $BYSTANDER
expect_connect $BYSTANDER $SERVER4 25

say "a file of another user: refused until it is root's again"
log_mark
chown 65534 "$BL"
wait_log "^mailscreen: warning: block list '$bl_re' refused: '$bl_re' belongs to uid 65534; only root \(or the daemon's user\) may own it; keeping the previous 1 entries"
log_mark
echo "$ATTACKER 2h" >> "$BL"
wait_log "^mailscreen: warning: block list '$bl_re' refused: '$bl_re' belongs to uid 65534"
assert_no_element $ATTACKER
expect_connect $ATTACKER $SERVER4 25
wait_for_element 203.0.113.80
log_mark
chown 0 "$BL"
wait_log "^mailscreen: block list '$bl_re': 2 entries \(1 added, 0 removed\)"
wait_for_element $ATTACKER
assert_timeout $ATTACKER 7200
expect_dropped $ATTACKER $SERVER4 25

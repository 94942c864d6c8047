# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_blocklist_file.sh - the hand-edited block list file ([daemon]
# blocklist): watched for changes, one "ADDRESS[/LEN] DURATION [comment]"
# a line.
#
#   - the daemon starts without the file; "192.0.2.77 60 from the abuse
#     desk" written to it: 192.0.2.77 is in block4 with a 3600 s timeout
#     within 2 s (a bare number is minutes), listed with origin "file" and
#     the file's name, line and comment as reason;
#   - "198.51.100.0/24 90" (a range, 5400 s) and "203.0.113.80 permanent"
#     (no timeout) added by an atomic rename; 203.0.113.5 is in the range
#     of neither and still connects, 198.51.100.20 is dropped;
#   - a bad line (line 4) is logged with the file and its line number, and
#     the good line after it still applies;
#   - the allow-listed 192.0.2.10 in the file is not blocked (logged);
#   - removing a line (written in place) unblocks its entry, the others
#     stay;
#   - reset blocks lifts a manual block and keeps the file's (they would
#     come back at the next start), saying how many and where;
#   - deleting the file unblocks every entry it made, but not a block made
#     by a rule meanwhile.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config
ms_start
BL=$MS_BLOCKLIST
bl_re=$(printf '%s' "$BL" | sed 's/[.[\*^$()+?{|/]/\\&/g')

say "a first line: blocked within 2 s, a bare number is minutes"
log_mark
t0=$(date +%s%N)
echo "192.0.2.77 60 from the abuse desk" > "$BL"
MS_WAIT=2 wait_for_element 192.0.2.77
took=$((($(date +%s%N) - t0) / 1000000))
[ $took -le 2000 ] || fail "192.0.2.77 took $took ms to be blocked"
ok "blocked $took ms after the file was written"
assert_timeout 192.0.2.77 3600
wait_log "^mailscreen: block 192\.0\.2\.77 for 1h: $bl_re:1 from the abuse desk$"
assert_eq "list blocks: origin and reason" "file $BL:1 from the abuse desk" \
	"$(ctl_json '.[] | select(.target == "192.0.2.77") | "\(.origin) \(.reason)"' list blocks)"

say "a range for 90 minutes and a permanent entry, saved by rename"
cat > "$BL.tmp" <<EOF
# blocked by hand
192.0.2.77 60 from the abuse desk
198.51.100.0/24 90
203.0.113.80 permanent # scanner
EOF
mv "$BL.tmp" "$BL"
wait_for_element 198.51.100.0/24
assert_timeout 198.51.100.0/24 5400
wait_for_element 203.0.113.80
assert_timeout 203.0.113.80 none
assert_timeout 192.0.2.77 3600
expect_dropped $BYSTANDER $SERVER4 25
expect_connect $ATTACKER $SERVER4 25

say "a bad line is reported with its line number; the others apply"
log_mark
cat > "$BL.tmp" <<EOF
# blocked by hand
192.0.2.77 60 from the abuse desk
198.51.100.0/24 90
mail.example.net 1h
203.0.113.80 permanent # scanner
203.0.113.81 2h
EOF
mv "$BL.tmp" "$BL"
wait_log "^mailscreen: warning: $bl_re:4: 'mail\.example\.net' is not an IP address"
ok "logged: $(grep -F "$BL:4:" "$MS_DLOG" | tail -n 1)"
wait_for_element 203.0.113.81
assert_timeout 203.0.113.81 7200
for a in 192.0.2.77 198.51.100.0/24 203.0.113.80; do
	wait_for_element $a
done

say "an allow-listed address in the file is not blocked"
log_mark
echo "$COLLEAGUE 1h colleague by mistake" >> "$BL"
wait_log "^mailscreen: warning: $bl_re:7: 192\.0\.2\.10 is on the allow list; not blocked"
assert_no_element $COLLEAGUE
expect_connect $COLLEAGUE $SERVER4 25

say "removing a line unblocks its entry"
log_mark
sed -i '/^198\.51\.100\.0\/24 /d' "$BL"
wait_log "^mailscreen: unblock 198\.51\.100\.0/24: removed from $bl_re$"
wait_no_element 198.51.100.0/24
expect_connect $BYSTANDER $SERVER4 25
for a in 192.0.2.77 203.0.113.80 203.0.113.81; do
	wait_for_element $a
done

say "reset blocks lifts every block but the file's, and says so"
ctl_ok block 203.0.113.90 1h
ctl_ok reset blocks
assert_eq "reset blocks says" "1 blocks and 0 account blocks removed
3 blocks of the block list file $BL kept (delete their lines there, or 'mailscreen unblock --from-file ADDR')" "$MS_OUT"
wait_no_element 203.0.113.90
for a in 192.0.2.77 203.0.113.80 203.0.113.81; do
	wait_for_element $a
done
assert_eq "blocks left: the file's" "192.0.2.77 file 203.0.113.80 file 203.0.113.81 file" \
	"$(ctl_json '[.[] | "\(.target) \(.origin)"] | sort | join(" ")' list blocks)"

say "deleting the file unblocks its entries, not a rule's block"
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
log_mark
rm "$BL"
for a in 192.0.2.77 203.0.113.80 203.0.113.81; do
	wait_no_element $a
done
assert_eq "blocks left" "$ATTACKER auth-ip" "$(ctl_json '.[] | "\(.target) \(.origin)"' list blocks)"
wait_for_element $ATTACKER

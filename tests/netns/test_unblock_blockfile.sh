# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_unblock_blockfile.sh - `unblock` of a block that comes from the
# block list file must not let it silently come back at the next start.
#
#   - the file (comments, a blank line, mode 0640, no final newline) blocks
#     four targets; `unblock 203.0.113.80` is refused, naming the file, the
#     line and `unblock --from-file`; the block stays in the kernel;
#   - `unblock --from-file 203.0.113.80` deletes exactly that line (every
#     other byte of the file stays, and its owner and mode), says so, and
#     the daemon unblocks it at once;
#   - `unblock --from-file 198.51.100.20`, an address inside the file's
#     198.51.100.0/24: the range's line is named and kept, the file is not
#     touched, and the daemon refuses (not blocked itself, inside the
#     range); the range stays blocked;
#   - after a restart, 203.0.113.80 is not blocked again, the others are.
# Run by run.sh, which has sourced lib.sh.

ms_config
ms_start
BL=$MS_BLOCKLIST

printf '# blocked by hand\n192.0.2.77 60 from the abuse desk\n198.51.100.0/24 90\n203.0.113.80 permanent # scanner\n\n# the rest\n203.0.113.81 1h' > "$BL.tmp"
chmod 0640 "$BL.tmp"
mv "$BL.tmp" "$BL"
cp "$BL" "$MS_TMP/orig"
for t in 192.0.2.77 198.51.100.0/24 203.0.113.80 203.0.113.81; do wait_for_element $t; done

say "a plain unblock of a file entry is refused, saying what to do"
ctl_refused "203\.0\.113\.80 is blocked by the block list file $BL, line 4, .*mailscreen unblock --from-file 203\.0\.113\.80" \
	unblock 203.0.113.80
assert_eq "the block is still listed as the file's" "file" \
	"$(ctl_json '.[] | select(.target == "203.0.113.80") | .origin' list blocks)"
wait_for_element 203.0.113.80
cmp -s "$BL" "$MS_TMP/orig" || fail "a refused unblock changed the file"

say "unblock --from-file deletes exactly that line, then unblocks"
out=$("$MS_BIN" unblock -c "$MS_CONF" --from-file 203.0.113.80 2>&1) || fail "unblock --from-file: $out"
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -F -q -x "$BL:4: deleted: 203.0.113.80 permanent # scanner" ||
	fail "unblock --from-file did not say which line it deleted: $out"
printf '%s\n' "$out" | grep -F -q "unblocked 203.0.113.80 (its line is gone from $BL)" ||
	fail "unblock --from-file did not unblock: $out"
printf '# blocked by hand\n192.0.2.77 60 from the abuse desk\n198.51.100.0/24 90\n\n# the rest\n203.0.113.81 1h' > "$MS_TMP/want"
cmp "$BL" "$MS_TMP/want" || fail "the file is not the original without line 4: $(od -c "$BL" | tail -n 5)"
ok "every other byte kept (comments, blank line, no final newline)"
assert_eq "mode and owner kept" "640 0:0" "$(stat -c '%a %u:%g' "$BL")"
wait_no_element 203.0.113.80
wait_for_element 203.0.113.81
cp "$BL" "$MS_TMP/orig"

say "an address inside a file range: the range's line is named and kept"
"$MS_BIN" unblock -c "$MS_CONF" --from-file 198.51.100.20 > "$MS_TMP/out" 2>&1 && fail "unblock of an address inside a range must fail"
cat "$MS_TMP/out"
grep -F -q "$BL:3: kept: 198.51.100.0/24 90 (198.51.100.0/24 covers 198.51.100.20" "$MS_TMP/out" ||
	fail "the covering range's line was not named"
grep -F -q "it lies in the blocked range 198.51.100.0/24" "$MS_TMP/out" || fail "the daemon's refusal is missing"
cmp -s "$BL" "$MS_TMP/orig" || fail "the file was changed"
wait_for_element 198.51.100.0/24
ok "range kept, file untouched"

say "after a restart the deleted entry stays unblocked"
ms_stop
nft flush table inet mailscreen
log_mark
ms_start
wait_log "block list '$BL': 3 entries"
for t in 192.0.2.77 198.51.100.0/24 203.0.113.81; do wait_for_element $t; done
assert_no_element 203.0.113.80
ms_stop

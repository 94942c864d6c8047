# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_control.sh - the control commands against the running daemon, over
# its socket: what each shows, does and refuses.
#
#   - status, text and --json: not paused, the counts, the source with its
#     file, lines read and read position (= the log's size);
#   - list blocks --json: origin and reason of a rule's block; the kernel's
#     packet counter for it grows when the blocked address tries to connect;
#   - block ADDR 1h --reason TEXT: in the kernel for 3600 s, listed with
#     origin manual and the reason; block without a duration: 24 h;
#     refused: an address inside a blocked range, unblocking an address
#     inside a blocked range or one that is not blocked; a bad address
#     (by the command line, and by the daemon itself when sent raw);
#   - reset failures (counts gone: 2 + 3 failures do not block), reset
#     blocks (set and deny file emptied), reset allows (manual ones only),
#     reset all;
#   - reload works; a broken configuration makes reload fail with an error
#     (exit 1) while the daemon keeps running and blocking;
#   - an unknown command is refused (by the command line, and by the
#     daemon when sent raw);
#   - a peer that is not root is refused: "permission denied", by the
#     socket file's mode and, with the mode opened, by the daemon itself;
#   - pause: failures still counted (list failures shows them), a decision
#     only logged ("paused: would block"), no element; status says paused;
#     resume, and the next failure of the address past the limit blocks it.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config
ms_start

say "status"
sasl_fail 203.0.113.61 2
barrier $ATTACKER
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -q "^mailscreen: up " || fail "status: no 'mailscreen: up' line: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q -F -x "configuration: $MS_CONF" || fail "status: no configuration line: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q "^blocks: 1, blocked accounts: 0, allows: 1," || fail "status: wrong counts: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q "^  mail: 7 lines, 7 events$" || fail "status: wrong source line: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q -F "    $MS_LOG: offset $(wc -c < "$MS_LOG") " || fail "status: no position of $MS_LOG: $MS_OUT"
ok "status (text) shows the counts, the source and its position"
assert_eq "status --json: paused" "false" "$(ctl_json .paused status)"
assert_eq "status --json: blocks, accounts, allows" "1 0 1" "$(ctl_json '"\(.blocks) \(.accounts) \(.allows)"' status)"
assert_eq "status --json: auth-fail events" "7" "$(ctl_json '.events["auth-fail"]' status)"
assert_eq "status --json: the source" "mail 7 $MS_LOG $(wc -c < "$MS_LOG")" \
	"$(ctl_json '.sources[0] | "\(.name) \(.lines) \(.files[0].path) \(.files[0].offset)"' status)"

say "list blocks: origin, reason, and the kernel's drop counter"
assert_eq "list blocks: $ATTACKER" "auth-ip 5 auth-fail within 10m" \
	"$(ctl_json ".[] | select(.target == \"$ATTACKER\") | \"\(.origin) \(.reason)\"" list blocks)"
p0=$(ctl_json ".[] | select(.target == \"$ATTACKER\") | .packets" list blocks)
expect_dropped $ATTACKER $SERVER4 25
p1=$(ctl_json ".[] | select(.target == \"$ATTACKER\") | .packets" list blocks)
[ "$p1" -gt "$p0" ] 2>/dev/null || fail "the drop counter of $ATTACKER did not grow: $p0 -> $p1"
ok "the drop counter grew from $p0 to $p1"

say "block and unblock by hand"
ctl_ok block 203.0.113.62 1h --reason "port scan seen by the IDS"
assert_eq "block says" "blocked 203.0.113.62 for 1h" "$MS_OUT"
wait_for_element 203.0.113.62
assert_timeout 203.0.113.62 3600
assert_eq "list blocks: 203.0.113.62" "manual port scan seen by the IDS" \
	"$(ctl_json '.[] | select(.target == "203.0.113.62") | "\(.origin) \(.reason)"' list blocks)"
ctl_ok block 198.51.100.64
wait_for_element 198.51.100.64
assert_timeout 198.51.100.64 86400
ctl_ok block 198.51.100.128/25 2h
wait_for_element 198.51.100.128/25
ctl_refused "198\.51\.100\.131 is not blocked itself; it lies in the blocked range 198\.51\.100\.128/25" \
	unblock 198.51.100.131
# a block inside a blocked range is a block of its own: it outlives the range
ctl_ok block 198.51.100.130 1h
assert_eq "block inside the range says" "blocked 198.51.100.130 for 1h" "$MS_OUT"
assert_eq "list blocks: both" "198.51.100.128/25 198.51.100.130" \
	"$(ctl_json '[.[].target | select(startswith("198.51.100.1"))] | join(" ")' list blocks)"
ctl_refused "198\.51\.100\.99 is not blocked" unblock 198.51.100.99
ms_ctl block 203.0.113.300 1h && fail "block of a bad address succeeded"
[ "$MS_RC" -eq 2 ] || fail "block 203.0.113.300: expected usage error 2, found $MS_RC"
ok "the command line refuses a bad address: $MS_ERR"
r=$(ctl_raw block 203.0.113.300 1h) && fail "the daemon accepted 'block 203.0.113.300': $r"
printf '%s\n' "$r" | grep -q "^error: .*203\.0\.113\.300" || fail "the daemon's refusal should name the address: $r"
ok "the daemon refuses it too: $r"
ctl_ok unblock 198.51.100.128/25
assert_eq "unblock says" "unblocked 198.51.100.128/25" "$MS_OUT"
wait_no_element 198.51.100.128/25
wait_for_element 198.51.100.130
t=$(element_timeout 198.51.100.130)
[ "$t" -gt 3500 ] && [ "$t" -le 3600 ] || fail "198.51.100.130 is back for ${t}s, not the rest of its hour"
ok "198.51.100.130 stays blocked for the rest of its own hour (${t}s) after the range went"
ctl_ok unblock 198.51.100.130
wait_no_element 198.51.100.130

say "reset failures"
sasl_fail 203.0.113.63 2
barrier 203.0.113.64
[ "$(ctl_json '[.[] | select(.key == "203.0.113.63")] | length' list failures)" = 1 ] ||
	fail "203.0.113.63's 2 failures are not listed: $MS_OUT"
ctl_ok reset failures
assert_eq "reset failures says" "failure counts cleared" "$MS_OUT"
assert_eq "list failures after reset" "0" "$(ctl_json length list failures)"
sasl_fail 203.0.113.63 3
barrier 203.0.113.65
assert_no_element 203.0.113.63

say "reset blocks, reset allows, reset all"
ctl_ok block-account dave@example.org 1h
wait_until "the deny file lists dave@example.org" deny_has dave@example.org
ctl_ok allow 198.51.100.66 1h
n=$(ctl_json '.blocks' status)
ctl_ok reset blocks
assert_eq "reset blocks says" "$n blocks and 1 account blocks removed" "$MS_OUT"
wait_until "block4 is empty" sh -c "[ -z \"\$(nft list set inet mailscreen block4 | grep elements)\" ]"
wait_until "the deny file is empty" sh -c "[ -f '$MS_DENY' ] && [ ! -s '$MS_DENY' ]"
expect_connect $ATTACKER $SERVER4 25
ctl_ok reset allows
assert_eq "reset allows says" "1 manual allows removed" "$MS_OUT"
assert_eq "list allows after reset" "$COLLEAGUE" "$(ctl_json '[.[].target] | join(" ")' list allows)"
ctl_ok allow 198.51.100.66 1h
ctl_ok block 203.0.113.67 1h
sasl_fail 203.0.113.68 2
barrier 203.0.113.69
ctl_ok reset all
printf '%s\n' "$MS_OUT" | grep -q "^failure counts cleared$" &&
	printf '%s\n' "$MS_OUT" | grep -q "^2 blocks and 0 account blocks removed$" &&
	printf '%s\n' "$MS_OUT" | grep -q "^1 manual allows removed$" || fail "reset all says: $MS_OUT"
ok "reset all: $(echo "$MS_OUT" | tr '\n' ';')"
assert_eq "status after reset all: blocks, allows, tracked keys" "0 1 0" \
	"$(ctl_json '"\(.blocks) \(.allows) \(.tracked_keys)"' status)"
wait_no_element 203.0.113.67

say "reload; a broken configuration is refused and the daemon keeps running"
log_mark
ctl_ok reload
assert_eq "reload says" "reloaded" "$MS_OUT"
wait_log '^mailscreen: reloaded '
cp "$MS_CONF" "$MS_TMP/good.conf"
printf '[daemon]\nno_such_key = 1\n' >> "$MS_CONF"
line=$(wc -l < "$MS_CONF")
log_mark
ctl_refused "reload refused" reload
wait_log "$MS_CONF:$line: unknown key 'no_such_key'"
ms_alive || fail "the daemon died on a broken configuration"
ctl_ok status
sasl_fail 203.0.113.72 5
wait_for_element 203.0.113.72
cp "$MS_TMP/good.conf" "$MS_CONF"
ctl_ok reload

say "an unknown command is refused"
ms_ctl frobnicate && fail "mailscreen frobnicate succeeded"
printf '%s\n' "$MS_ERR" | grep -q "unknown command 'frobnicate'" || fail "mailscreen frobnicate: $MS_ERR"
ok "the command line refuses it (exit $MS_RC): $(printf '%s\n' "$MS_ERR" | head -n 1)"
r=$(ctl_raw frobnicate) && fail "the daemon accepted 'frobnicate': $r"
assert_eq "the daemon's reply" "error: unknown command 'frobnicate'" "$r"

say "a peer that is not root is refused"
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$MS_BIN" status -s "$MS_SOCK"; }
out=$(nobody 2>&1) && fail "uid 65534 could run status: $out"
printf '%s\n' "$out" | grep -q "permission denied" || fail "uid 65534: expected 'permission denied', found: $out"
ok "uid 65534, socket file closed to it: $out"
chmod o+x "$MS_TMP" && chmod 0666 "$MS_SOCK" || fail "cannot open the socket's mode"
out=$(nobody 2>&1) && fail "uid 65534 could run status through an open socket file: $out"
printf '%s\n' "$out" | grep -q "permission denied (uid 65534)" ||
	fail "uid 65534: expected the daemon's 'permission denied (uid 65534)', found: $out"
ok "uid 65534, socket file open: $out"
ms_alive || fail "the daemon died"

say "pause: counting goes on, no blocks"
ctl_ok pause
printf '%s\n' "$MS_OUT" | grep -q "^paused" || fail "pause says: $MS_OUT"
assert_eq "status --json: paused" "true" "$(ctl_json .paused status)"
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -q "^mailscreen: up .*PAUSED" || fail "status does not say paused: $MS_OUT"
log_mark
sasl_fail 203.0.113.70 3
sasl_fail 203.0.113.71 5
wait_log "^mailscreen: paused: would block 203\.0\.113\.71: rule auth-ip, 5 auth-fail within 10m"
assert_eq "list failures while paused: 203.0.113.70" "3" \
	"$(ctl_json '.[] | select(.rule == "auth-ip" and .key == "203.0.113.70") | .count' list failures)"
log_mark
sasl_fail 203.0.113.70 2
wait_log "^mailscreen: paused: would block 203\.0\.113\.70: rule auth-ip, 5 auth-fail within 10m"
assert_no_element 203.0.113.70
assert_no_element 203.0.113.71
ctl_ok pause
assert_eq "pause again says" "already paused" "$MS_OUT"

say "resume: the next failure past the limit blocks"
ctl_ok resume
assert_eq "resume says" "resumed" "$MS_OUT"
assert_eq "status --json: paused" "false" "$(ctl_json .paused status)"
log_mark
sasl_fail 203.0.113.70
wait_log "^mailscreen: block 203\.0\.113\.70 for 1h: rule auth-ip"
wait_for_element 203.0.113.70

say "report: the blocks made, by origin; a bad --since and --mail without mail_to are refused"
ctl_ok report --since 1h
printf '%s\n' "$MS_OUT" | grep -E -q '^  auth-ip +made [1-9]' || fail "report: no auth-ip blocks: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -E -q '^  manual +made [1-9]' || fail "report: no manual blocks: $MS_OUT"
ok "report lists the blocks by origin"
ctl_refused "--since: " report --since soon
ctl_refused "no \[notify\] mail_to is configured" report --mail

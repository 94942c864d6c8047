# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_admin_status.sh - an admin's daily commands against the running
# daemon: per-rule status, one rule in detail, listings in local time with
# dates, and the history of blocks across an unblock, an expiry and a
# restart.
#
#   - status (text and --json) shows each rule: events counted, keys
#     tracked, blocks in force, made since start and in all, with its
#     limit, window and block duration;
#   - status RULE: its counters, the blocks in force it made (with dates),
#     the keys it tracks with their counts; an unknown rule is refused,
#     naming the rules there are; a bad rule name is refused by the
#     daemon itself when sent raw;
#   - list blocks: the daemon's local time with date and UTC offset (the
#     daemon runs under TZ=XST-05:30), UTC with --utc; both are the start
#     --json gives (ISO 8601 UTC, unchanged); columns stay aligned with an
#     IPv6 range and a long reason in the list;
#   - history: a block unblocked by hand and one that expired are shown
#     with how they ended, newest first, beside the one in force; history
#     ADDR and history of a range narrow it; an account's blocks by name;
#     --json;
#   - after a restart the history is still there (read from the state),
#     and each rule's total in all is kept while "since start" is 0.
# Run by run.sh, which has sourced lib.sh.

command -v jq > /dev/null || skip "jq is not installed"

ms_listen $SERVER4 25
ms_config
# a zone no host uses, so local time cannot be UTC by chance
TZ=XST-05:30
export TZ
ms_start

say "blocks through the rules"
sasl_fail 203.0.113.62 3
barrier $ATTACKER
for i in 0 1 2 3 4 5 6 7 8 9; do
	imap_fail 203.0.113.10$i bob@example.org
done
wait_until "account bob@example.org blocked by auth-account" deny_has bob@example.org

say "status: each rule"
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -q -x "rules:" || fail "status: no rules section: $MS_OUT"
line=$(printf '%s\n' "$MS_OUT" | grep "^  auth-ip: ") || fail "status: no line for auth-ip: $MS_OUT"
assert_eq "status: auth-ip" \
	"  auth-ip: 18 events counted, 11 keys tracked, blocks: 1 in force, 1 made since start, 1 in all (per ip, limit 5 in 10m, block 1h)" \
	"$line"
assert_eq "status --json: auth-ip" "18 11 1 1 1 5 600 3600 ip" \
	"$(ctl_json '.rules["auth-ip"] | "\(.events) \(.tracked) \(.blocks_in_force) \(.blocks_since_start) \(.blocks_total) \(.limit) \(.window_s) \(.block_s) \(.per)"' status)"
assert_eq "status --json: auth-account" "10 1 1 1 account" \
	"$(ctl_json '.rules["auth-account"] | "\(.events) \(.blocks_in_force) \(.blocks_since_start) \(.blocks_total) \(.per)"' status)"

say "status RULE"
ctl_ok status auth-ip
printf '%s\n' "$MS_OUT" | grep -q "^rule auth-ip (.*/auth.conf:[0-9]*): per ip, limit 5 in 10m, block 1h$" ||
	fail "status auth-ip: no head line: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q "^blocks: 1 in force, 1 made since start, 1 in all$" ||
	fail "status auth-ip: no blocks line: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q "^  $ATTACKER since 20[0-9-]* [0-9:]* +0530 until 20[0-9-]* [0-9:]* +0530: 5 auth-fail within 10m$" ||
	fail "status auth-ip: no block of $ATTACKER in local time: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q "^  203.0.113.62: 3, last 20[0-9-]* [0-9:]* +0530$" ||
	fail "status auth-ip: no tracked key 203.0.113.62 with its count: $MS_OUT"
ok "status auth-ip: its settings, counters, block and tracked key"
assert_eq "status auth-ip --json: blocks and keys" "$ATTACKER false 203.0.113.62 3" \
	"$(ctl_json '"\(.blocks[0].target) \(.blocks[0].account) \(.keys[0].key) \(.keys[0].count)"' status auth-ip)"
assert_eq "status auth-account --json: the account block" "bob@example.org true" \
	"$(ctl_json '"\(.blocks[0].target) \(.blocks[0].account)"' status auth-account)"
ctl_refused "unknown rule 'nosuch' \(the rules: .*auth-ip.*\)" status nosuch
r=$(ctl_raw status "no such") || true
case $r in *"is not a rule name"*) ok "the daemon refuses a rule name with a space: $r" ;;
	*) fail "status 'no such' sent raw: expected a refusal, got: $r" ;; esac

say "list blocks: local time with date, UTC with --utc, aligned columns"
ctl_ok block 2001:db8:1234:5678::/64 1h --reason "a long reason that would push every column after it far to the right"
start=$(ctl_json ".[] | select(.target == \"$ATTACKER\") | .start" list blocks)
case $start in 20??-??-??T??:??:??Z) ok "list blocks --json: start stays ISO 8601 UTC ($start)" ;;
	*) fail "list blocks --json: start is not ISO 8601 UTC: $start" ;; esac
epoch=$(date -u -d "$start" +%s)
local_want=$(TZ=XST-05:30 date -d "@$epoch" '+%Y-%m-%d %H:%M:%S +0530')
utc_want=$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M:%S UTC')
ctl_ok list blocks
printf '%s\n' "$MS_OUT" | grep "^$ATTACKER " | grep -q -F "  $local_want  " ||
	fail "list blocks: no '$local_want' on the line of $ATTACKER: $MS_OUT"
ok "list blocks: $ATTACKER since $local_want (local time)"
# every row has a cell starting right under each head (after two spaces)
head=$(printf '%s\n' "$MS_OUT" | head -n 1)
for col in SINCE UNTIL LEFT ORIGIN REASON; do
	at=$(printf '%s\n' "$head" | awk -v c="$col" '{ print index($0, c) }')
	for t in "$ATTACKER" 2001:db8:1234:5678::/64; do
		printf '%s\n' "$MS_OUT" | grep -F "$t " | awk -v at="$at" '{ exit !(substr($0, at - 2, 3) ~ /^  [^ ]$/) }' ||
			fail "list blocks: no cell of $t starts at column $at under $col: $MS_OUT"
	done
done
ok "list blocks: each cell starts under its head with an IPv6 range and a long reason in the list"
ctl_ok list blocks --utc
printf '%s\n' "$MS_OUT" | grep "^$ATTACKER " | grep -q -F "  $utc_want  " ||
	fail "list blocks --utc: no '$utc_want' on the line of $ATTACKER: $MS_OUT"
ok "list blocks --utc: $ATTACKER since $utc_want"

say "history: unblocked, expired, in force"
ctl_ok block 203.0.113.70 1s --reason "short one"
ctl_ok unblock $ATTACKER
has_expired() { [ "$(ctl_json '.[] | select(.target == "203.0.113.70") | .state' history)" = expired ]; }
wait_until "the 1s block of 203.0.113.70 is in the history as expired" has_expired
ctl_ok history
printf '%s\n' "$MS_OUT" | head -n 1 | grep -q "^BLOCK  *ORIGIN  *START  *END  *STATE  *REASON$" ||
	fail "history: no head line: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep "^$ATTACKER " | grep -q -E "auth-ip +[0-9-]+ [0-9:]+ \+0530  [0-9-]+ [0-9:]+ \+0530  unblocked +5 auth-fail within 10m$" ||
	fail "history: no unblocked block of $ATTACKER: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep "^203.0.113.70 " | grep -q -E "manual .* expired +short one$" ||
	fail "history: no expired block of 203.0.113.70: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep "^bob@example.org " | grep -q -E "auth-account .* in force +10 auth-fail within 10m$" ||
	fail "history: the account block in force is not shown: $MS_OUT"
ok "history shows the unblocked, the expired and the blocks in force"
assert_eq "history: newest first" "203.0.113.70 2001:db8:1234:5678::/64" \
	"$(printf '%s\n' "$MS_OUT" | sed -n '2p;3p' | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')"
assert_eq "history $ATTACKER --json" "auth-ip unblocked false" \
	"$(ctl_json '.[] | "\(.origin) \(.state) \(.in_force)"' history $ATTACKER)"
assert_eq "history 203.0.113.0/24: the blocks in it" "203.0.113.70 $ATTACKER" \
	"$(ctl_json '[.[].target] | join(" ")' history 203.0.113.0/24)"
assert_eq "history Bob@Example.org: the account's" "bob@example.org account true" \
	"$(ctl_json '.[] | "\(.target) \(.kind) \(.in_force)"' history Bob@Example.org)"
assert_eq "history of an address never blocked" "0" "$(ctl_json 'length' history 198.51.100.99)"

say "after a restart"
ms_stop
ms_start
assert_eq "history after the restart" "203.0.113.70 expired
$ATTACKER unblocked" \
	"$(ctl_json '.[] | select(.in_force | not) | "\(.target) \(.state)"' history)"
assert_eq "status --json after the restart: auth-ip blocks since start, in all" "0 1" \
	"$(ctl_json '.rules["auth-ip"] | "\(.blocks_since_start) \(.blocks_total)"' status)"
ms_stop

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_screen_account.sh - password guessing against one account from many
# addresses (a botnet) blocks the account, not the addresses; accounts are
# blocked and unblocked by hand through the control socket.
#
# With the shipped rules (auth-account: 10 auth-fail per account in 10m ->
# 1h; auth-ip: 5 per address):
#   - at start the deny file exists and is empty (Dovecot wants it there);
#   - 9 failed IMAP logins of bob@example.org from 9 addresses: counted
#     (list accounts shows 9/10), nothing blocked;
#   - the 10th, from a 10th address and spelt Bob@Example.org, blocks the
#     account "bob@example.org": logged, in list accounts --json (origin
#     auth-account), a line of the deny file; none of the 10 addresses is
#     blocked (one failure each);
#   - unblock-account takes it out of the deny file; a second time is
#     refused ("not blocked");
#   - block-account carol@example.org 1h puts carol there (origin manual,
#     about 1h left) and bob stays out;
#   - a name with ':' (the passwd-file field separator) is refused with a
#     message that says why, and never reaches the deny file.
# Run by run.sh, which has sourced lib.sh.

ms_config
ms_start

say "at start the deny file exists and is empty"
wait_until "the deny file $MS_DENY exists" test -f "$MS_DENY"
assert_eq "deny file contents" "" "$(cat "$MS_DENY")"

say "9 failures of bob@example.org from 9 addresses: counted, not blocked"
for i in 1 2 3 4 5 6 7 8 9; do
	imap_fail 203.0.113.10$i bob@example.org
done
barrier 198.51.100.40
assert_eq "bob's count in list accounts" "9/10" \
	"$(ctl_json '.failures[] | select(.key == "bob@example.org" and .rule == "auth-account") | "\(.count)/\(.limit)"' list accounts)"
assert_eq "blocked accounts" "0" "$(ctl_json '.blocked | length' list accounts)"

say "the 10th failure (as Bob@Example.org, from a 10th address) blocks the account"
log_mark
imap_fail 203.0.113.110 Bob@Example.org
wait_log "^mailscreen: block account 'bob@example\.org' for 1h: rule auth-account, 10 auth-fail within 10m; line: .*rip=203\.0\.113\.110"
assert_eq "list accounts: bob's origin" "auth-account" \
	"$(ctl_json '.blocked[] | select(.account == "bob@example.org") | .origin' list accounts)"
assert_eq "list accounts: blocked" "bob@example.org" "$(ctl_json '[.blocked[].account] | join(" ")' list accounts)"
wait_until "the deny file lists bob@example.org" deny_has bob@example.org
assert_eq "deny file" "bob@example.org" "$(cat "$MS_DENY")"

say "none of the 10 addresses is blocked"
for i in 1 2 3 4 5 6 7 8 9 10; do
	assert_no_element 203.0.113.1$(printf '%02d' $i)
done
assert_eq "blocks (only the barrier)" "198.51.100.40" "$(ctl_json '[.[].target] | join(" ")' list blocks)"

say "unblock-account lifts it"
ctl_ok unblock-account bob@example.org
assert_eq "unblock-account says" "unblocked account bob@example.org" "$MS_OUT"
wait_until "bob@example.org is out of the deny file" sh -c "! grep -q -i bob '$MS_DENY'"
assert_eq "blocked accounts" "0" "$(ctl_json '.blocked | length' list accounts)"
ctl_refused "account 'bob@example.org' is not blocked" unblock-account bob@example.org

say "block-account carol@example.org 1h"
ctl_ok block-account carol@example.org 1h
assert_eq "block-account says" "blocked account carol@example.org for 1h" "$MS_OUT"
wait_until "the deny file lists carol@example.org" deny_has carol@example.org
assert_eq "deny file" "carol@example.org" "$(cat "$MS_DENY")"
assert_eq "list accounts: carol's origin" "manual" \
	"$(ctl_json '.blocked[] | select(.account == "carol@example.org") | .origin' list accounts)"
left=$(ctl_json '.blocked[] | select(.account == "carol@example.org") | .left' list accounts)
case $left in
1h | 59m*) ok "carol's block has $left left" ;;
*) fail "carol's block should have about 1h left, shows '$left'" ;;
esac

say "a name with ':' is refused"
ctl_refused "eve:x@example\.org.*(':'|colon)" block-account 'eve:x@example.org' 1h
assert_eq "blocked accounts" "carol@example.org" "$(ctl_json '[.blocked[].account] | join(" ")' list accounts)"
grep -q eve "$MS_DENY" && fail "the deny file holds the refused name: $(cat "$MS_DENY")"
ok "the deny file still holds only carol@example.org"
ms_alive || fail "the daemon died"

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_exempt_account.sh - [allow] account: an exempt account is never
# blocked by the account screen, while the addresses that fail on it are
# still counted and blocked per address.
#
# With the shipped rules (auth-account: 10 auth-fail per account in 10m;
# auth-ip: 5 per address) and [allow] account = Boss@Example.org:
#   - 15 failed IMAP logins of boss@example.org (any case) from 15
#     addresses: nothing blocked, the account is not counted (list
#     accounts), never in the deny file; status counts 15
#     exempt_account_events; [logging] allow_hits logs them with the entry;
#   - 10 failures of carol@example.org from 10 addresses block carol (the
#     account screen works): the deny file holds carol alone;
#   - 5 failures of boss@example.org from one address block the address;
#   - block-account boss@example.org works and says the account is exempt
#     from automatic blocks;
#   - a local override (mailscreen.local) exempting *@staff.example.org,
#     taken by a reload: dave@staff.example.org failing from 12 addresses
#     is not blocked.
# Run by run.sh, which has sourced lib.sh.

ms_config "account = Boss@Example.org
[logging]
allow_hits = yes"
ms_start

say "15 failures of boss@example.org from 15 addresses: not counted, not blocked"
log_mark
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	case $i in
	*[13579]) imap_fail 203.0.113.1$(printf '%02d' $i) BOSS@example.ORG ;;
	*) imap_fail 203.0.113.1$(printf '%02d' $i) boss@example.org ;;
	esac
done
barrier 198.51.100.40
assert_eq "blocked accounts" "0" "$(ctl_json '.blocked | length' list accounts)"
assert_eq "boss counted by auth-account" "" \
	"$(ctl_json '.failures[] | select(.key == "boss@example.org" and .rule == "auth-account") | .count' list accounts)"
assert_eq "status: exempt_account_events" "15" "$(ctl_json '.exempt_account_events' status)"
wait_log "^mailscreen: exempt auth-fail: .*account 'BOSS@example\.ORG'.*\(rule auth-account: \[allow\] account = boss@example\.org; per-address rules still count it\)"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	assert_no_element 203.0.113.1$(printf '%02d' $i)
done

say "10 failures of carol@example.org from 10 addresses block carol, and only carol"
log_mark
for i in 1 2 3 4 5 6 7 8 9 10; do
	imap_fail 198.51.100.1$(printf '%02d' $i) carol@example.org
done
wait_log "^mailscreen: block account 'carol@example\.org' for 1h: rule auth-account"
wait_until "the deny file lists carol@example.org" deny_has carol@example.org
assert_eq "deny file" "carol@example.org" "$(cat "$MS_DENY")"

say "5 failures of boss@example.org from one address block the address"
log_mark
imap_fail 203.0.113.50 boss@example.org 5
wait_log "^mailscreen: block 203\.0\.113\.50 for 1h: rule auth-ip"
wait_for_element 203.0.113.50
assert_eq "blocked accounts" "carol@example.org" "$(ctl_json '[.blocked[].account] | join(" ")' list accounts)"
deny_has boss@example.org && fail "the deny file holds the exempt account: $(cat "$MS_DENY")"
ok "the exempt account is not in the deny file"

say "block-account of the exempt account works, and says it is exempt"
ctl_ok block-account boss@example.org 1h
printf '%s\n' "$MS_OUT" | grep -q "^blocked account boss@example.org for 1h$" ||
	fail "block-account says: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -q "exempt from automatic blocks (\[allow\] account = boss@example.org)" ||
	fail "block-account does not say the account is exempt: $MS_OUT"
ok "block-account says: $MS_OUT"
wait_until "the deny file lists boss@example.org" deny_has boss@example.org
ctl_ok unblock-account boss@example.org

say "mailscreen.local exempts *@staff.example.org; reload"
printf '[allow]\naccount = *@Staff.Example.org\n' > "$MS_TMP/mailscreen.local"
log_mark
ctl_ok reload
wait_log '^mailscreen: reloaded '
log_mark
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	imap_fail 203.0.113.2$(printf '%02d' $i) dave@staff.example.org
done
barrier 198.51.100.41
assert_eq "blocked accounts" "carol@example.org" "$(ctl_json '[.blocked[].account] | join(" ")' list accounts)"
assert_eq "status: exempt_account_events (15 + 5 + 12)" "32" "$(ctl_json '.exempt_account_events' status)"
deny_has dave@staff.example.org && fail "the deny file holds the exempt account: $(cat "$MS_DENY")"
ok "dave@staff.example.org is not blocked"

ms_stop

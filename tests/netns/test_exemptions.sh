# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_exemptions.sh - what is never counted nor blocked: the static allow
# list, dynamic allows (with expiry), and NAT exemptions (an address range
# shared by the users of one mail domain).
#
#   - 192.0.2.10 (allowed in the configuration) fails 10 times: never
#     blocked; `list allows` shows it with origin config; `unallow` of it is
#     refused with a message naming the configuration file; `block` of it
#     is refused too;
#   - `allow 198.51.100.20 2s`: 5 failures while allowed are not counted
#     (list failures has nothing for it; not blocked); once the allow has
#     expired (awaited in list allows, bounded), 5 new failures block it;
#   - 203.0.113.5 blocked by rule, then `allow 203.0.113.5 1h`: the reply
#     says it was unblocked, the element is gone and it connects again;
#     `unallow` removes the dynamic entry; a second `unallow` is refused;
#   - [nat] exempt = 198.51.100.0/28 example.org: 10 failures of
#     alice@example.org from 198.51.100.7 do not block the address but do
#     block the account (auth-account); 5 failures of eve@example.net from
#     the same address block it.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
ms_config "[nat]
exempt = 198.51.100.0/28 example.org"
ms_start

say "the static allow list: never blocked, listed, not removable at run time"
sasl_fail $COLLEAGUE 10
barrier 203.0.113.40
assert_no_element $COLLEAGUE
assert_eq "list allows: $COLLEAGUE" "config permanent" \
	"$(ctl_json ".[] | select(.target == \"$COLLEAGUE\") | \"\(.origin) \(.left)\"" list allows)"
ctl_refused "$COLLEAGUE is allowed by the configuration \($MS_CONF\)" unallow $COLLEAGUE
ctl_refused "$COLLEAGUE is on the allow list" block $COLLEAGUE 1h
assert_no_element $COLLEAGUE
expect_connect $COLLEAGUE $SERVER4 25

say "a dynamic allow for 2s: failures are not counted while it lasts"
ctl_ok allow $BYSTANDER 2s
assert_eq "allow says" "allowed $BYSTANDER for 2s" "$MS_OUT"
assert_eq "list allows: $BYSTANDER" "manual" \
	"$(ctl_json ".[] | select(.target == \"$BYSTANDER\") | .origin" list allows)"
sasl_fail $BYSTANDER 5
barrier 203.0.113.41
assert_no_element $BYSTANDER
assert_eq "counted failures of $BYSTANDER" "0" \
	"$(ctl_json "[.[] | select(.key == \"$BYSTANDER\")] | length" list failures)"

say "after it expires, 5 new failures block"
allow_over() {
	[ -z "$(ctl_json ".[] | select(.target == \"$BYSTANDER\" and .left != \"expired\") | .target" list allows)" ]
}
MS_WAIT=4 wait_until "the allow of $BYSTANDER is over (list allows)" allow_over
log_mark
sasl_fail $BYSTANDER 5
wait_log "^mailscreen: block 198\.51\.100\.20 for 1h: rule auth-ip, 5 auth-fail within 10m"
wait_for_element $BYSTANDER
expect_dropped $BYSTANDER $SERVER4 25

say "allowing a blocked address unblocks it"
sasl_fail $ATTACKER 5
wait_for_element $ATTACKER
expect_dropped $ATTACKER $SERVER4 25
ctl_ok allow $ATTACKER 1h
printf '%s\n' "$MS_OUT" | grep -q "^$ATTACKER was blocked: unblocked$" ||
	fail "allow of a blocked address should say it unblocked it; said: $MS_OUT"
ok "allow says: $(echo "$MS_OUT" | tr '\n' ';')"
wait_no_element $ATTACKER
expect_connect $ATTACKER $SERVER4 25
assert_eq "list blocks: $ATTACKER" "" "$(ctl_json ".[] | select(.target == \"$ATTACKER\") | .target" list blocks)"
ctl_ok unallow $ATTACKER
assert_eq "unallow says" "removed $ATTACKER from the allow list" "$MS_OUT"
ctl_refused "$ATTACKER is not on the allow list" unallow $ATTACKER

say "NAT: failures of example.org users from 198.51.100.7 do not block the address"
log_mark
imap_fail 198.51.100.7 alice@example.org 10
wait_log "^mailscreen: block account 'alice@example\.org' for 1h: rule auth-account, 10 auth-fail within 10m"
assert_no_element 198.51.100.7
log_has "block 198\.51\.100\.7 " && fail "the NAT address was blocked for its own domain's users"
wait_until "the deny file lists alice@example.org" deny_has alice@example.org
say "... failures of another domain's users from it do"
log_mark
imap_fail 198.51.100.7 eve@example.net 5
wait_log "^mailscreen: block 198\.51\.100\.7 for 1h: rule auth-ip, 5 auth-fail within 10m; line: .*user=<eve@example\.net>"
wait_for_element 198.51.100.7

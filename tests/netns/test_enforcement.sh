# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_enforcement.sh - what mailscreen lists is what the kernel drops, and
# no block ever cuts off loopback, the server itself or an allowed host.
#
#   nested ranges: an address blocked for good under a /24 blocked for 3s is
#     still dropped, permanently, once the /24 has gone; a rule's block made
#     under a short manual range, and addresses under a [prefix] block,
#     stay blocked for their own time (IPv4 and IPv6);
#   protection: a manual block, a block list line or a rule's /64 that
#     would cover loopback, the server's own address or an allowed host is
#     refused or narrowed, saying which; the chain accepts loopback traffic
#     and the allow sets (kept in step with the allow list) before any drop,
#     even when someone puts a covering range into block4 by hand;
#   the kernel check: status counts listed blocks the kernel does not drop
#     (0), and a block whose kernel element was cut short by hand is found
#     and put back.
# Run by run.sh, which has sourced lib.sh.

MS_WAIT=8
peer_addr 2001:db8::bad/64 && peer_addr 2001:db8::10/64 && peer_addr 2001:db8:1:99::5/64 ||
	fail "cannot add IPv6 addresses to the peer"
ms_listen $SERVER4 25
ms_listen $SERVER6 25
ms_listen 127.0.0.1 25
ms_config "[nftables]
verify_interval = 2s

[prefix]
enabled = yes
threshold = 3
block = 3s"
ms_start

# in_set ADDR - the set holds exactly ADDR (an element of its own)
in_set() { [ -n "$(element_timeout "$1")" ]; }

say "a permanent address under a /24 blocked for 3s"
ctl_ok block $ATTACKER permanent
wait_for_element $ATTACKER
ctl_ok block 203.0.113.0/24 3s
wait_for_element 203.0.113.0/24
in_set $ATTACKER && fail "$ATTACKER and 203.0.113.0/24 are both elements (the set cannot hold both)"
assert_eq "the /24 is kept as long as what it covers" none "$(element_timeout 203.0.113.0/24)"
wait_no_element 203.0.113.0/24
wait_for_element $ATTACKER
assert_timeout $ATTACKER none
assert_eq "list blocks: $ATTACKER" "null" "$(ctl_json ".[] | select(.target == \"$ATTACKER\") | .expiry" list blocks)"
expect_dropped $ATTACKER $SERVER4 25

say "a rule's block made under a short manual range outlives it"
ctl_ok block 198.51.100.0/24 3s
wait_for_element 198.51.100.0/24
log_mark
sasl_fail $BYSTANDER 5
wait_log "^mailscreen: block 198\.51\.100\.20 for 1h: rule auth-ip"
wait_no_element 198.51.100.0/24
wait_for_element $BYSTANDER
t=$(element_timeout $BYSTANDER)
[ "$t" -gt 3500 ] || fail "$BYSTANDER is in the set for ${t}s only"
ok "$BYSTANDER stays for the rest of its hour (${t}s)"
expect_dropped $BYSTANDER $SERVER4 25

say "IPv6: a rule's /64 under a /48 blocked for 3s"
ctl_ok block 2001:db8:1::/48 3s
wait_for_element 2001:db8:1::/48
imap_fail 2001:db8:1:99::5 eve 5
wait_until "the /64 is listed" sh -c "'$MS_BIN' list blocks -s '$MS_SOCK' | grep -q '^2001:db8:1:99::/64 '"
wait_no_element 2001:db8:1::/48
wait_for_element 2001:db8:1:99::/64
expect_dropped 2001:db8:1:99::5 $SERVER6 25

say "[prefix]: three rule blocks in 203.0.113.0/24 block it for 3s; each stays for its hour"
log_mark
for a in 203.0.113.21 203.0.113.22 203.0.113.23; do
	peer_addr $a/24
	sasl_fail $a 5
done
wait_log "^mailscreen: block 203\.0\.113\.0/24 for 3s: prefix, 3 addresses of 203\.0\.113\.0/24 blocked"
ok "the prefix block is logged"
wait_for_element 203.0.113.0/24
wait_no_element 203.0.113.0/24
for a in 203.0.113.21 203.0.113.22 203.0.113.23; do
	wait_for_element $a
	expect_dropped $a $SERVER4 25
done
assert_timeout $ATTACKER none

say "blocks that would cover the server, loopback or an allowed host are refused"
ctl_refused "192\.0\.2\.0/24 contains 192\.0\.2\.1 \(an address of this host\)" block 192.0.2.0/24 1h
ctl_refused "192\.0\.2\.10 is on the allow list" block $COLLEAGUE 1h
ctl_refused "contains 127\.0\.0\.0/8 \(loopback\)" block 0.0.0.0/1 1h
ctl_ok allow 2001:db8::10 1h
wait_until "allow6 holds 2001:db8::10" sh -c "nft list set inet mailscreen allow6 | grep -q '2001:db8::10'"
wait_until "allow4 holds $COLLEAGUE" sh -c "nft list set inet mailscreen allow4 | grep -q '$COLLEAGUE'"
log_mark
cat > "$MS_BLOCKLIST" <<EOF
0.0.0.0/1 1h
::/64 1h
2001:db8::/64 1h
198.51.100.99 1h
EOF
wait_log "blocklist:4: |block 198\.51\.100\.99 for 1h"
wait_for_element 198.51.100.99
for l in "blocklist:1: .*0\.0\.0\.0/1 contains 127\.0\.0\.0/8 \(loopback\)" \
	 "blocklist:2: .*::/64 contains ::1 \(loopback\)" \
	 "blocklist:3: .*2001:db8::/64 contains 2001:db8::1 \(an address of this host\)"; do
	log_has "$l" || fail "the daemon did not say: $l"
	ok "logged: $(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -E -m1 -e "$l")"
done
in_set 0.0.0.0/1 && fail "0.0.0.0/1 is in block4"
[ -z "$(set_elements block6 | grep '^::/64 \|^2001:db8::/64 ')" ] || fail "a /64 covering ::1 or the server is in block6"
ok "none of them is in the kernel"

say "a rule's /64 holding the server and an allowed host is narrowed around the attacker"
log_mark
imap_fail 2001:db8::bad mallory 5
wait_log "rule auth-ip: block 2001:db8::/64 narrowed to 2001:db8::[0-9a-f:]*/[0-9]+: 2001:db8::/64 contains"
got=$(set_elements block6 | awk '$1 ~ /^2001:db8::/ { print $1 }')
case $got in
2001:db8::/64|"") fail "block6 holds '$got' for the attacker" ;;
esac
ok "block6 holds $got"
expect_dropped 2001:db8::bad $SERVER6 25
expect_connect 2001:db8::10 $SERVER6 25
r=$("$MS_PROBE" connect $SERVER6 $SERVER6 25 2000)
assert_eq "the server reaches its own address" connected "$r"

say "the chain accepts loopback and allowed hosts before any drop, whatever block4 holds"
nft add element inet mailscreen block4 "{ 192.0.2.0/24 timeout 20s, 127.0.0.0/8 timeout 20s }" ||
	fail "cannot add covering elements by hand"
r=$("$MS_PROBE" connect $SERVER4 $SERVER4 25 2000)
assert_eq "the server reaches itself though 192.0.2.0/24 is in block4" connected "$r"
r=$("$MS_PROBE" connect 127.0.0.1 127.0.0.1 25 2000)
assert_eq "loopback connects though 127.0.0.0/8 is in block4" connected "$r"
expect_connect $COLLEAGUE $SERVER4 25
nft delete element inet mailscreen block4 "{ 192.0.2.0/24 }" 2>/dev/null
nft delete element inet mailscreen block4 "{ 127.0.0.0/8 }" 2>/dev/null
ctl_ok unallow 2001:db8::10
wait_until "allow6 no longer holds 2001:db8::10" \
	sh -c "! nft list set inet mailscreen allow6 | grep -q '2001:db8::10'"

say "the kernel check: nothing missing, and a cut-short element is put back"
wait_until "status: a kernel check has run with nothing missing" \
	sh -c "[ \"\$('$MS_BIN' status --json -s '$MS_SOCK' | jq '.kernel.not_enforced')\" = 0 ]"
ctl_ok block 203.0.113.77 1h
wait_for_element 203.0.113.77
log_mark
nft add element inet mailscreen block4 "{ 203.0.113.77 timeout 1s expires 1s }" ||
	fail "cannot shorten the element by hand"
wait_log "kernel check: 1 listed blocks were not dropped by the kernel until their expiry \(first: 203\.0\.113\.77\)"
wait_for_element 203.0.113.77
t=$(element_timeout 203.0.113.77)
[ "$t" -gt 3000 ] || fail "203.0.113.77 is back for ${t}s only"
ok "203.0.113.77 is back for ${t}s"
wait_until "status: repaired, nothing missing now" sh -c \
	"'$MS_BIN' status --json -s '$MS_SOCK' | jq -e '.kernel.not_enforced == 0 and .kernel.repairs >= 1' >/dev/null"
ok "status: $(ctl_json '.kernel | tostring' status)"

say "a saved block that covers an address allowed since is not restored, and leaves the kernel"
ctl_ok block 198.51.100.0/25 1h
wait_for_element 198.51.100.0/25
ms_stop
# an allow element left over from an allow list of before
nft add element inet mailscreen allow4 "{ 198.51.100.45 }" || fail "cannot add to allow4 by hand"
ms_config "address = 198.51.100.7
[nftables]
verify_interval = 2s"
log_mark
ms_start
wait_log "saved block of 198\.51\.100\.0/25 not restored: 198\.51\.100\.0/25 contains 198\.51\.100\.7 \(on the allow list\)"
ok "logged: $(tail -c +$((MS_MARK + 1)) "$MS_DLOG" | grep -m1 'saved block of 198')"
wait_no_element 198.51.100.0/25
[ -z "$(ctl_json '.[] | select(.target == "198.51.100.0/25") | .target' list blocks)" ] ||
	fail "198.51.100.0/25 is still listed"
ok "198.51.100.0/25 is neither listed nor in the kernel"
wait_for_element 203.0.113.77
assert_timeout $ATTACKER none
wait_until "allow4 no longer holds 198.51.100.45" \
	sh -c "! nft list set inet mailscreen allow4 | grep -q '198\.51\.100\.45'"
log_has "kernel check: the allow sets differed from the allow list; repaired: 0 elements put, 1 taken out" ||
	fail "the repair of allow4 was not logged as expected"
assert_eq "allow4 holds the allow list" "192.0.2.10 198.51.100.7" \
	"$(nft -j list set inet mailscreen allow4 | jq -r '[.nftables[] | select(.set) | .set.elem[] | (.elem.val // .)] | join(" ")')"

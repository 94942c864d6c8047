# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_location.sh - location screening: rules with countries or
# not_countries, on a country database built here by
# tests/tools/make-country-mmdb.pl (203.0.113.0/24 CN, 198.51.100.0/24
# DE, 2001:db8:1::/48 CN, 192.0.2.0/25 registered in US only).
#
#   - rule geo (countries = CN, connect and auth-fail, limit 1) blocks a
#     CN address at its first connection, origin location, the country in
#     the log line, in list blocks (column and JSON), and the hit logged;
#   - a DE address connecting is not counted, not blocked;
#   - rule far (not_countries = DE CN, rcpt-fail, limit 1) blocks an
#     address registered in US at its first unknown recipient, not a DE one;
#   - a database renamed over the old one (198.51.100.0/24 now CN) is read
#     again: the next connection of a DE-turned-CN address blocks it;
#   - restarted with the database missing: one warning (and status says
#     so), the other rules still block, a CN address is not blocked; once
#     the file appears, it is read and the next CN connection blocks.
# Run by run.sh, which has sourced lib.sh.

command -v perl > /dev/null && perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null ||
	{ echo "skip: libmaxmind-db-writer-perl is missing (make deps-test)"; exit 77; }

mkdir -p "$MS_TMP/GeoIP"
DB=$MS_TMP/GeoIP/country.mmdb
mkdb() { perl "$MS_REPO/tests/tools/make-country-mmdb.pl" "$@" || fail "cannot build a test database"; }
mkdb "$DB"

cat > "$MS_TMP/location.conf" <<EOF
[geo]
events    = connect auth-fail
countries = cn
services  = smtp imap pop3 submission
limit     = 1
window    = 1m
block     = 1d

[far]
events        = rcpt-fail
not_countries = DE CN
limit         = 1
window        = 1m
block         = 2h
EOF
MS_RULES="$MS_REPO/rules/auth.conf $MS_TMP/location.conf"
ms_listen $SERVER4 25
ms_config "[location]
database = $DB"
ms_start
log_has "^mailscreen: location: database $DB \(Test-Country\)" || fail "the database was not announced"
ok "the database is read at start"

say "a CN address is blocked at its first connection, origin location"
log_mark
smtp_connect 203.0.113.5
wait_log "^mailscreen: block 203\.0\.113\.5 for 1d: rule geo, location CN: 1 connect within 1m; line: .*connect from unknown\[203\.0\.113\.5\]"
wait_for_element 203.0.113.5
log_has "^mailscreen: location CN: 203\.0\.113\.5 connect \(smtp\) counted by rule geo, 1 of 1" ||
	fail "the location hit was not logged"
ok "the location hit is logged"
assert_eq "origin, country and reason in list blocks --json" "location CN location CN: 1 connect within 1m (rule geo)" \
	"$(ctl_json '.[] | select(.target == "203.0.113.5") | "\(.origin) \(.country) \(.reason)"' list blocks)"
ctl_ok list blocks
printf '%s\n' "$MS_OUT" | head -n 1 | grep -q "ORIGIN *COUNTRY *REASON" || fail "no COUNTRY column: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -E -q "^203\.0\.113\.5 .* location +CN +location CN: " || fail "list blocks: $MS_OUT"
ok "list blocks shows the country"
assert_eq "a block of another origin has no country" "null" \
	"$(ctl_json '[.[] | select(.origin != "location")][0].country // null' list blocks)"

assert_eq "status: rule geo's blocks in force" "1" "$(ctl_json '.rules.geo.blocks_in_force' status)"
assert_eq "status: the database read, one event located" "false 1" \
	"$(ctl_json '"\(.location.off) \(.location.located_events)"' status)"

say "an IPv6 address of CN, and a failed login of CN, block too"
log_mark
sasl_fail 2001:db8:1::5
wait_log "^mailscreen: block 2001:db8:1::/64 for 1d: rule geo, location CN: 1 auth-fail within 1m"

say "a DE address is not counted"
log_mark
smtp_connect 198.51.100.7 3
barrier 198.51.100.41
assert_no_element 198.51.100.7
log_has "location [A-Z]+: 198\.51\.100\.7 " && fail "a DE address was counted by a location rule"
ok "nothing counted for 198.51.100.7"

say "not_countries: an address registered in US is blocked at its first unknown recipient, a DE one is not"
log_mark
new_pid
smtp_rcpt_fail 198.51.100.8 $MS_PID_NEW
new_pid
smtp_rcpt_fail 192.0.2.3 $MS_PID_NEW
wait_log "^mailscreen: block 192\.0\.2\.3 for 2h: rule far, location US: 1 rcpt-fail within 1m"
wait_for_element 192.0.2.3
barrier 198.51.100.42
assert_no_element 198.51.100.8

say "a database renamed over the old one is read again"
mkdb "$DB.new" 203.0.113.0/24=CN 198.51.100.0/24=CN
mv "$DB.new" "$DB"
log_mark
deadline=$(($(date +%s) + MS_WAIT))
# a DE address until now: connects until the new database places it in CN
# (it is looked at once a second at most); each connect is one event
until [ -n "$(element_timeout 198.51.100.9)" ]; do
	[ "$(date +%s)" -le "$deadline" ] || fail "198.51.100.9 not blocked after the database was replaced"
	smtp_connect 198.51.100.9
	sleep 0.2
done
wait_log "^mailscreen: location: database $DB replaced, read again \(Test-Country\)"
log_has "^mailscreen: block 198\.51\.100\.9 for 1d: rule geo, location CN: 1 connect within 1m" ||
	fail "198.51.100.9 was not blocked by rule geo"
ok "198.51.100.9 is CN now, blocked by rule geo"

say "restarted with the database missing: one warning, the other rules still work"
ms_stop
rm -f "$DB"
log_mark
ms_start
log_has "^mailscreen: warning: location: \[location\] database '$DB': No such file or directory .* location screening is off \(2 rules count nothing\)" ||
	fail "no warning about the missing database"
ok "a missing database is a warning"
assert_eq "the restored block keeps origin and country" "location CN" \
	"$(ctl_json '.[] | select(.target == "203.0.113.5") | "\(.origin) \(.country)"' list blocks)"
smtp_connect 203.0.113.6
barrier 198.51.100.43
ms_alive || fail "the daemon stopped"
assert_no_element 203.0.113.6
[ "$(grep -c "location screening is off" "$MS_DLOG")" = 1 ] || fail "the warning was given more than once"
# rule geo's events: the connect and the barrier's 5 failed logins
assert_eq "status: location off, events not screened" "true 6" \
	"$(ctl_json '"\(.location.off) \(.location.unlocated_events)"' status)"
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -q "^location: $DB -- cannot be read: location screening is off" ||
	fail "status does not say location screening is off: $MS_OUT"
ok "a CN address is not blocked without the database, the auth rule still blocks"

say "the database appears: read, and the next CN connection blocks"
mkdb "$DB"
deadline=$(($(date +%s) + MS_WAIT))
until [ -n "$(element_timeout 203.0.113.7)" ]; do
	[ "$(date +%s)" -le "$deadline" ] || fail "203.0.113.7 not blocked after the database appeared"
	smtp_connect 203.0.113.7
	sleep 0.2
done
ok "203.0.113.7 is blocked once the database is there"
ms_stop

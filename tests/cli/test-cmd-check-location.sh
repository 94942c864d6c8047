#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test-cmd-check-location.sh - "mailscreen check" and [location]: a
# database that is missing, not a MaxMind DB file, a directory, or not
# readable by the user checking is an
# error naming the file, what is wrong and what to do (exit 1); a rule
# with countries and no database is a warning naming the rule's file and
# line (the daemon runs it; it counts nothing); a bad country code is refused; a database built here
# (tests/tools/make-country-mmdb.pl) is accepted and named.
MAILSCREEN=${MAILSCREEN:-./mailscreen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cmd-check-location.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
. "$(dirname "$0")/lib.sh"
: > "$tmp/mail.log"
cat > "$tmp/geo.conf" <<RULES
[geo]
events    = connect auth-fail
countries = CN
limit     = 1
window    = 1m
block     = 1d
RULES
conf() {        # conf DATABASE-LINE
	cat > "$tmp/a.conf" <<CONF
[daemon]
filters = $(pwd)/filters
rules = $tmp/geo.conf
[source mail]
path = $tmp/mail.log
filters = postfix
$1
CONF
}

conf "[location]
database = $tmp/none.mmdb"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "missing database: exit status" 1 $?
expect "missing database: the error" \
	"$tmp/a.conf: [location] database '$tmp/none.mmdb': No such file or directory (get a country database, e.g. GeoLite2-Country with geoipupdate or DB-IP's IP to Country Lite, put it there, or remove the key)" \
	"$(cat "$tmp/err")"

echo "not a database" > "$tmp/bad.mmdb"
conf "[location]
database = $tmp/bad.mmdb"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "garbage database: exit status" 1 $?
expect "garbage database: the error" \
	"$tmp/a.conf: [location] database '$tmp/bad.mmdb' is not a MaxMind DB file: The MaxMind DB file contains invalid metadata (download it again, e.g. with geoipupdate)" \
	"$(cat "$tmp/err")"

conf "[location]
database = $tmp"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "a directory: exit status" 1 $?
expect "a directory: the error" \
	"$tmp/a.conf: [location] database '$tmp' is not a file (name a MaxMind DB country database, e.g. /var/lib/GeoIP/GeoLite2-Country.mmdb)" \
	"$(cat "$tmp/err")"

conf ""
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "countries without a database: exit status" 0 $?
expect "countries without a database: a warning" \
	"$tmp/geo.conf:2: warning: rule 'geo' screens by location (countries or not_countries) but [location] database is not set: it counts nothing (set it to a country database: see 'Location screening' in the README)" \
	"$(cat "$tmp/err")"

perl tests/tools/make-country-mmdb.pl "$tmp/country.mmdb" || { echo "not ok - cannot build a test database"; exit 1; }
# the test database itself, read by libmaxminddb's own tool
expect "mmdblookup: 203.0.113.5 in the test database" '"CN" <utf8_string>' \
	"$(mmdblookup -f "$tmp/country.mmdb" -i 203.0.113.5 country iso_code | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')"
conf "[location]
database = $tmp/country.mmdb"
"$MAILSCREEN" check -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "a built database: exit status" 0 $?
expect "a built database: named" "location: $tmp/country.mmdb (Test-Country)" "$(grep '^location:' "$tmp/out")"

printf '%s\n' "Dec  7 10:00:00 mx postfix/smtpd[1]: connect from unknown[203.0.113.5]" \
	"Dec  7 10:00:01 mx postfix/smtpd[2]: connect from unknown[198.51.100.5]" > "$tmp/mail.log"
"$MAILSCREEN" replay --json -c "$tmp/a.conf" "$tmp/mail.log" > "$tmp/out" 2> "$tmp/err"
expect "replay: exit status" 0 $?
expect "replay: the CN address blocked by rule geo, the DE one not" \
	"203.0.113.5 geo location CN: 1 connect within 1m (rule geo)" \
	"$(grep '"type": "block"' "$tmp/out" | sed -n 's/.*"target": "\([^"]*\)", "rule": "\([^"]*\)", "reason": "\([^"]*\)".*/\1 \2 \3/p' | tr '\n' '|' | sed 's/|$//')"

# a database the daemon's user cannot read (here: root's file, mode 0600,
# checked as nobody; root itself reads any file)
if command -v setpriv > /dev/null && [ "$(id -u)" = 0 ]; then
	chmod 755 "$tmp"
	chmod 644 "$tmp/a.conf" "$tmp/geo.conf" "$tmp/mail.log"
	chmod 600 "$tmp/country.mmdb"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
	expect "an unreadable database: exit status" 1 $?
	expect "an unreadable database: the error" \
		"$tmp/a.conf: [location] database '$tmp/country.mmdb': cannot read it: Permission denied (make it readable by the daemon)" \
		"$(grep 'location' "$tmp/err")"
	chmod 644 "$tmp/country.mmdb"
else
	echo "not ok - an unreadable database: needs root and setpriv (util-linux)"
	fail=1
fi

sed -i 's/^countries = CN$/countries = CN XX/' "$tmp/geo.conf"
"$MAILSCREEN" check -q -c "$tmp/a.conf" > "$tmp/out" 2> "$tmp/err"
expect "a bad country code: exit status" 1 $?
expect "a bad country code: the error" \
	"$tmp/geo.conf:3: countries: 'XX' is not an ISO 3166 country code (two letters such as CN, DE, US; -- or unknown for addresses the database does not place)" \
	"$(cat "$tmp/err")"
exit $fail

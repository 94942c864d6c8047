# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_check.sh - `mailscreen check` accepts the shipped configuration and
# rejects broken ones with 'file:line: message'.
#
# Exit 0 and "ok" for: the shipped contrib/mailscreen.conf with the shipped
# filters and rules, the built-in defaults (no configuration file; a real
# /etc/mailscreen is hidden under an empty tmpfs in this private mount
# namespace), and the tests' own configuration. Exit 1, with the first line
# of the output naming the file and line at fault, for: an unknown key, an
# unknown section, a bad duration in a rule (window, then block), a source
# naming a filter file that does not exist, a bad regex in a filter file.
# Needs no network; run by run.sh (which has sourced lib.sh) all the same.

# check_ok WHAT [ARGS...] - `mailscreen check ARGS` succeeds
check_ok() {
	what=$1
	shift
	out=$("$MS_BIN" check "$@" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail "check of $what: expected exit 0, found $rc: $out"
	printf '%s\n' "$out" | tail -n 1 | grep -q '^ok$' || fail "check of $what: no final 'ok' in: $out"
	ok "check accepts $what"
}

# check_bad WHAT FILE LINE ERE - `mailscreen check -c MS_CONF` exits 1 and
# its first line is "FILE:LINE: " followed by text matching ERE
check_bad() {
	out=$("$MS_BIN" check -c "$MS_CONF" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "check of $1: expected exit 1, found $rc: $out"
	first=$(printf '%s\n' "$out" | head -n 1)
	case $first in
	"$2:$3: "*) ;;
	*) fail "check of $1: expected a first line starting '$2:$3: ', found '$first'" ;;
	esac
	printf '%s\n' "${first#"$2:$3: "}" | grep -E -q -e "$4" ||
		fail "check of $1: expected /$4/ after '$2:$3: ', found '$first'"
	ok "check rejects $1: $first"
}

# line_of FILE ERE - number of the first line of FILE matching ERE
line_of() { grep -n -E -e "$2" "$1" | head -n 1 | cut -d: -f1; }

say "good configurations"
check_ok "the shipped contrib/mailscreen.conf" -c "$MS_REPO/contrib/mailscreen.conf"
[ -e /etc/mailscreen ] && { mount -t tmpfs tmpfs /etc/mailscreen || fail "cannot hide /etc/mailscreen"; }
check_ok "the built-in defaults"
ms_config
check_ok "the tests' configuration" -c "$MS_CONF"

say "broken configurations"
ms_config "[daemon]
no_such_key = 1"
check_bad "an unknown key" "$MS_CONF" "$(line_of "$MS_CONF" '^no_such_key')" "unknown key 'no_such_key'"

ms_config "[no_such_section]
x = 1"
check_bad "an unknown section" "$MS_CONF" "$(line_of "$MS_CONF" '^x = 1')" "unknown section \[no_such_section\]"

MS_RULES=$MS_TMP/rules
mkdir "$MS_RULES" && cp "$MS_REPO"/rules/*.conf "$MS_RULES"/ || fail "cannot copy the rules"
ms_config
sed -i 's/^window *=.*/window = 10 parsecs/' "$MS_RULES/auth.conf"
check_bad "a bad window in a rule" "$MS_RULES/auth.conf" "$(line_of "$MS_RULES/auth.conf" '^window')" "window.*10 parsecs"
cp "$MS_REPO/rules/auth.conf" "$MS_RULES/auth.conf"
sed -i 's/^block *=.*/block = 1 fortnight/' "$MS_RULES/auth.conf"
check_bad "a bad block duration in a rule" "$MS_RULES/auth.conf" "$(line_of "$MS_RULES/auth.conf" '^block')" "block.*1 fortnight"
MS_RULES=

ms_config "[source other]
path = $MS_TMP/other.log
filters = postfix no_such_filter"
check_bad "a source naming a missing filter file" "$MS_CONF" \
	"$(line_of "$MS_CONF" 'no_such_filter')" "no_such_filter"

FDIR=$MS_TMP/filters
mkdir "$FDIR" && cp "$MS_REPO"/filters/*.conf "$FDIR"/ || fail "cannot copy the filters"
cat > "$FDIR/broken.conf" <<EOF2
# SPDX-License-Identifier: GPL-2.0-or-later
[broken-sasl]
program = postfix/smtpd
event   = auth-fail
service = smtp
regex   = ^warning: [^\[]*\[(?<ip>[^\]]+)\]: SASL (unclosed
EOF2
ms_config "[daemon]
filters = $FDIR
[source other]
path = $MS_TMP/other.log
filters = broken"
check_bad "a bad regex in a filter file" "$FDIR/broken.conf" 6 "regex"

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_control_hostile.sh - control requests as anyone with access to the
# socket could send them (or a script that feeds it text from a mail log):
# raw, straight to the socket, with no command-line checks on the way; and
# a saved state written by an older version, which took such text in.
#
#   - a --reason carrying a line break and a forged "mailscreen: unblock"
#     line, a CR, an ESC sequence, DEL, a C1 control (U+009B, CSI) is
#     refused, naming the byte and its position, never echoing it; a NUL
#     ends the word (the rest is one word more: a usage error); bytes that
#     are not UTF-8 are refused in a reason;
#   - the same in account names (block-account, unblock-account), in an
#     address, a duration, a subcommand, the command word: refused, and
#     nothing blocked, nothing reset; an error that quotes a bad argument
#     quotes it escaped;
#   - status RULE and history WHO: a control character, a rule name with a
#     space, not UTF-8 or too long, an unknown rule, a bad address, an
#     account name too long, an argument too many, --utc where it is not
#     taken: refused by the daemon itself;
#   - what is fine stays fine: a UTF-8 reason is kept as it is; an account
#     name in Latin-1 (the mail server's own bytes, no control character)
#     is blocked byte for byte in the deny file, shown escaped, can be
#     unblocked, and its history found by that name;
#   - after all that, the daemon's log holds no forged line and no control
#     character (nor any byte that is not UTF-8); neither do `list blocks`,
#     `list accounts`, `status`, `status auth-ip` and `history`, as text and
#     as JSON; nor the state file;
#   - a snapshot of an older version whose reasons, origins and one account
#     name hold line breaks, ESC and OSC sequences, BEL, a C1 control and a
#     NUL: its blocks come back (in the kernel too) with that text escaped
#     (\xNN), the account that no deny file can hold is skipped, both with
#     a warning; again no forged line, no control character anywhere.
# Run by run.sh, which has sourced lib.sh.

STATE=$MS_TMP/state/state

# perl (perl-base, essential in Debian) reads bytes as UTF-8 and computes
# the state file's checksum
command -v perl > /dev/null || { echo "skip: 'perl' is missing"; exit 77; }

# controls FILE... - print (made visible) each line holding a control
# character: C0 (but the line's own end), DEL, C1, or a byte that is not
# UTF-8. Prints nothing for clean text.
controls() {
	perl -ne 'chomp; print "$ARGV:$.: $_\n" if /[\x00-\x1f\x7f]/ || !utf8::decode($_) || /[\x{80}-\x{9f}]/' "$@" |
		cat -v
}

# clean WHAT FILE - FILE must hold no control character
clean() {
	cl_bad=$(controls "$2")
	[ -z "$cl_bad" ] || fail "$1 holds control characters: $cl_bad"
	ok "$1: no control character"
}

# send WORD... - one request, raw: each WORD (printf %b: \n, \r, \t and
# \0NNN octal are bytes) ended by a NUL, then the empty word; the reply in
# R, its status returned
send() {
	R=$( { for w; do printf '%b\0' "$w"; done; printf '\0'; } | "$MS_PROBE" ctlraw "$MS_SOCK")
}

# shown WORD... - the words as send sends them, made visible
shown() { printf '%b ' "$@" | perl -pe 's/([^\x20-\x7e])/sprintf("\\x%02x", ord $1)/ge'; }

# refused ERE WORD... - the daemon must refuse the request with one reply
# line, "error: " then ERE, itself free of control characters
refused() {
	rf_ere=$1
	shift
	send "$@" && fail "the daemon accepted $(shown "$@"): $(printf '%s' "$R" | cat -v)"
	printf '%s\n' "$R" > "$MS_TMP/reply"
	[ "$(wc -l < "$MS_TMP/reply")" -eq 1 ] || fail "reply to $(shown "$@") is not one line: $(cat -v "$MS_TMP/reply")"
	grep -E -q -e "^error: $rf_ere\$" "$MS_TMP/reply" ||
		fail "reply to $(shown "$@"): expected /error: $rf_ere/, found: $(cat -v "$MS_TMP/reply")"
	[ -z "$(controls "$MS_TMP/reply")" ] || fail "the reply to $(shown "$@") holds control characters"
	ok "refused: $(shown "$@")-> $R"
}

# state_sum FILE - FNV-1a 64 of FILE, as the state file's end line has it
state_sum() {
	perl -e 'use integer; local $/; my $t = <STDIN>; my $h = 1469598103934665603;
		for my $c (unpack "C*", $t) { $h = ($h ^ $c) * 1099511628211 } printf "%016x\n", $h' < "$1"
}

ms_listen $SERVER4 25
ms_config
ms_start

FORGED='mailscreen: unblock 203.0.113.81: manual (uid 0)'
B=203.0.113.80

say "control characters in a --reason"
ctl_ok block 203.0.113.81 1h --reason "the address the forged line claims to unblock"
refused "--reason contains a control character \(byte 0x0a at position 2\)" \
	block $B 1h --reason "x\n$FORGED"
refused "--reason contains a control character \(byte 0x0d at position 3\)" \
	block $B 1h --reason "ok\r$FORGED"
refused "--reason contains a control character \(byte 0x1b at position 1\)" \
	block $B 1h --reason '\033[2J\033[1;31mred'
refused "--reason contains a control character \(byte 0x7f at position 2\)" \
	block $B 1h --reason 'a\0177b'
refused "--reason contains a control character \(U\+009B at position 3\)" \
	block $B 1h --reason 'ab\0302\023331m'
refused "--reason contains a control character \(byte 0x09 at position 4\)" \
	block $B --reason 'tab\there' 1h
refused "--reason is not UTF-8 text \(byte 0xe9 at position 4\)" \
	block $B 1h --reason 'caf\0351'
# a NUL ends a word: what follows it is one word more
refused "usage: block ADDR\[/LEN\] \[DURATION\] \[--reason TEXT\]" \
	block $B 1h --reason 'x\0000'"$FORGED"
assert_no_element $B

say "control characters in account names, addresses, durations, subcommands"
refused "argument 1 contains a control character \(byte 0x0a at position 4\)" \
	block-account 'eve\nmailscreen: unblock-account bob@example.org'
refused "argument 1 contains a control character \(byte 0x1b at position 4\)" \
	block-account 'eve\033[8m@example.org' 1h
refused "argument 2 contains a control character \(byte 0x0d at position 3\)" \
	block-account eve@example.org '1h\r'
refused "argument 1 contains a control character \(U\+0085 at position 2\)" \
	unblock-account 'x\0302\0205y'
refused "argument 1 contains a control character \(byte 0x0a at position 13\)" \
	block "$B\n" 1h
refused "argument 2 contains a control character \(byte 0x1b at position 3\)" \
	block $B '1h\033[31m'
refused "argument 1 contains a control character \(byte 0x1b at position 7\)" \
	list 'blocks\033[2J'
refused "argument 1 contains a control character \(byte 0x0a at position 4\)" \
	reset 'all\n'
refused "argument 1 contains a control character \(byte 0x7f at position 1\)" \
	unblock '\0177203.0.113.81'
refused "malformed request \(a request is NUL-terminated words, the first a command name\)" \
	'\033[31mblock' $B
# no control character, but not an address: the error quotes it escaped
refused "'203\.0\.113\.8\\\\xe9' is not an IP address or range" block '203.0.113.8\0351' 1h
assert_no_element $B
assert_eq "blocks after the refusals" "203.0.113.81" "$(ctl_json '[.[].target] | join(" ")' list blocks)"
assert_eq "account blocks after the refusals" "0" "$(ctl_json '.blocked | length' list accounts)"

say "status RULE and history: every argument checked by the daemon"
long() { printf "%${1}s" "" | tr ' ' a; }
refused "argument 1 contains a control character \(byte 0x1b at position 6\)" status 'auth-\033[2J'
refused "'auth ip' is not a rule name \(printable text without spaces, at most 128 bytes\)" status 'auth ip'
refused "'r\\\\xe9' is not a rule name \(printable text without spaces, at most 128 bytes\)" status 'r\0351'
refused "'a{129}' is not a rule name \(printable text without spaces, at most 128 bytes\)" status "$(long 129)"
refused "unknown rule 'nosuch' \(the rules: .*auth-ip.*\)" status nosuch
refused "usage: status \[RULE\] \[--json\] \[--utc\]" status auth-ip auth-account
refused "argument 1 contains a control character \(byte 0x0a at position 4\)" history 'bob\n'
refused "'203\.0\.113\.300' is not an IP address or range" history 203.0.113.300
refused "'a{257}' is neither an address nor an account name \(at most 256 bytes\)" history "$(long 257)"
refused "usage: history \[ADDR\[/LEN\]\|USER\] \[--json\] \[--utc\]" history 192.0.2.1 bob
refused "usage: block ADDR\[/LEN\] \[DURATION\] \[--reason TEXT\]" block $B 1h --utc

say "what is fine stays fine"
UTF8='spam from Köln — ticket #42, 3× “urgent”'
ctl_ok block 203.0.113.85 1h --reason "$UTF8"
wait_for_element 203.0.113.85
assert_eq "the UTF-8 reason, as JSON" "$UTF8" \
	"$(ctl_json '.[] | select(.target == "203.0.113.85") | .reason' list blocks)"
ctl_ok list blocks
printf '%s\n' "$MS_OUT" | grep -q -F -e "$UTF8" || fail "list blocks does not show the UTF-8 reason as it is: $MS_OUT"
ok "list blocks shows the UTF-8 reason as it is"
send block-account 'b\0351b@example.org' 1h || fail "block-account of a Latin-1 name refused: $(printf '%s' "$R" | cat -v)"
assert_eq "block-account of a Latin-1 name says" "ok
blocked account b\\xe9b@example.org for 1h" "$R"
wait_until "the deny file holds the name byte for byte" deny_has "$(printf 'b\351b@example.org')"
ctl_ok list accounts
printf '%s\n' "$MS_OUT" | grep -q -F 'b\xe9b@example.org' || fail "list accounts does not show b\\xe9b@example.org: $MS_OUT"
ok "list accounts shows it escaped"
ctl_json '.blocked[].account' list accounts > /dev/null
send history 'b\0351b@example.org' || fail "history of a Latin-1 name refused: $(printf '%s' "$R" | cat -v)"
printf '%s\n' "$R" | grep -q -F 'b\xe9b@example.org ' || fail "history does not show b\\xe9b@example.org: $R"
ok "history finds the Latin-1 name and shows it escaped"
send unblock-account 'b\0351b@example.org' || fail "unblock-account of a Latin-1 name refused: $(printf '%s' "$R" | cat -v)"
assert_eq "unblock-account of a Latin-1 name says" "ok
unblocked account b\\xe9b@example.org" "$R"
wait_until "the deny file is empty again" sh -c "[ ! -s '$MS_DENY' ]"

say "the log, the lists and the state file hold no control character"
assert_eq "lines of the daemon log starting with the forged text" "0" "$(grep -c -e "^$FORGED" "$MS_DLOG")"
clean "the daemon log" "$MS_DLOG"
for what in "list blocks" "list blocks --json" "list accounts" "list accounts --json" "status" "status --json" \
	"status auth-ip" "status auth-ip --json" "history" "history --json"; do
	# shellcheck disable=SC2086
	ctl_ok $what
	printf '%s\n' "$MS_OUT" > "$MS_TMP/out"
	clean "$what" "$MS_TMP/out"
done
ms_stop
clean "the state file" "$STATE"

say "a saved state from an older version, with control characters in its text"
now=$(($(date +%s) * 1000))
t1=$((now + 3600000))
cat > "$STATE.body" <<EOF
mailscreen-state 1 $now
block 203.0.113.90 $now $t1 1 manual x%0a$(printf '%s' "$FORGED" | sed 's/ /%20/g')
block 203.0.113.92 $now - 1 evil%1b[2J %1b]0;title%07%c2%9b31m%00tail
account mallory%0aroot@example.org $now $t1 manual manual%20block
account carol@example.org $now $t1 manual%1b[31m %0dforged
EOF
{ cat "$STATE.body"; printf 'end %s\n' "$(state_sum "$STATE.body")"; } > "$STATE"
log_mark
ms_start
log_has "^mailscreen: restored 2 blocks" || fail "the daemon did not restore the 2 blocks"
ok "the 2 blocks are restored"
wait_for_element 203.0.113.90
wait_for_element 203.0.113.92
assert_eq "the restored reason of 203.0.113.90, escaped" "manual x\\x0a$FORGED" \
	"$(ctl_json '.[] | select(.target == "203.0.113.90") | "\(.origin) \(.reason)"' list blocks)"
assert_eq "the restored origin and reason of 203.0.113.92, escaped" \
	'evil\x1b[2J \x1b]0;title\x07\xc2\x9b31m\x00tail' \
	"$(ctl_json '.[] | select(.target == "203.0.113.92") | "\(.origin) \(.reason)"' list blocks)"
assert_eq "the restored account blocks" 'carol@example.org manual\x1b[31m \x0dforged' \
	"$(ctl_json '.blocked[] | "\(.account) \(.origin) \(.reason)"' list accounts)"
assert_eq "lines of the daemon log starting with the forged text" "0" "$(grep -c -e "^$FORGED" "$MS_DLOG")"
clean "the daemon log" "$MS_DLOG"
for what in "list blocks" "list blocks --json" "list accounts" "list accounts --json"; do
	# shellcheck disable=SC2086
	ctl_ok $what
	printf '%s\n' "$MS_OUT" > "$MS_TMP/out"
	clean "$what" "$MS_TMP/out"
done
log_has "^mailscreen: warning: saved state: 5 reasons or origins held control characters .*restored escaped" ||
	fail "no warning about the escaped text of the saved state"
ok "a warning says 5 texts were restored escaped"
log_has "^mailscreen: warning: saved state: 1 account blocks not restored \(the first: 'mallory\\\\x0aroot@example\.org' cannot" ||
	fail "no warning about the account name no deny file can hold"
ok "a warning says the account 'mallory\\x0aroot@example.org' was not restored"
ms_stop
clean "the state file written again" "$STATE"

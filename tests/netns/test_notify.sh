# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_notify.sh - blocks are told by mail through sendmail and to the
# program, batched and capped; `mailscreen report` summarises them as
# text, JSON and HTML, across a restart.
#
# sendmail and the program are stand-ins that record their arguments,
# environment and input (a file each per run, then a line "done N" in a
# log the test waits on):
#   - a block from the block list file is neither told nor counted at start;
#   - two blocks made within `batch` (an address with a reason full of
#     shell syntax, an account) give exactly one mail, to both recipients
#     as arguments after "--", listing both; the program gets each block's
#     fields as arguments and environment, the reason verbatim;
#   - a flood of 500 blocks gives one mail that lists max_listed of them
#     and counts the rest; the mails of the hour spent (max_mails_per_hour
#     = 2), the next block waits (logged) and no third mail is sent;
#   - the packets the kernel drops for a block are counted;
#   - report: the blocks by origin, the top addresses; --json, --html FILE
#     (no script, escaped), --mail (the report mail, past the cap); the
#     same counts after a restart.
#   - run --dry-run: a rule's block is mailed as "would block" with "(dry
#     run: nothing was blocked)", the program gets "would-block" and
#     MAILSCREEN_DRY_RUN=1 (0 before), and nothing reaches the kernel.
# Run by run.sh, which has sourced lib.sh.

ms_listen $SERVER4 25
MAILS=$MS_TMP/mails
PROGS=$MS_TMP/progs
sendmail_standin "$MAILS"
mkdir -p "$PROGS"
: > "$PROGS/log"
cat > "$MS_TMP/program" <<EOS
#!/bin/sh
n=\$(( \$(wc -l < "$PROGS/log") + 1 ))
{ for a in "\$@"; do printf 'arg=%s\n' "\$a"; done; env | grep '^MAILSCREEN_' | sort; } > "$PROGS/\$n"
echo "done \$n \$3" >> "$PROGS/log"
EOS
chmod 755 "$MS_TMP/program"

# wait_file_line FILE ERE - FILE gets a line matching ERE
wait_file_line() {
	wait_for_line "$1" 0 "$2" "$MS_PID" || fail "no line /$2/ in $1 within ${MS_WAIT}s: $(cat "$1")"
}

ms_config "
[nftables]
verify_interval = 1s

[notify]
mail_to = root@example.org ops@example.org
mail_from = screen@mx.example.org
sendmail = $MS_TMP/sendmail
program = $MS_TMP/program
batch = 2s
max_listed = 20
max_mails_per_hour = 2
report = no"
printf '198.51.100.252 1d the admin'"'"'s own list\n' > "$MS_BLOCKLIST"
ms_start
wait_for_element 198.51.100.252

say "two blocks within the batch: one mail to both recipients, listing both"
reason='guess $(touch /tmp/pwned); `id` > x'
ctl_ok block 198.51.100.50 2h --reason "$reason"
ctl_ok block-account bob 30m
wait_file_line "$MAILS/log" '^done 1$'
assert_eq "sendmail's arguments" "-i -- root@example.org ops@example.org" "$(tr '\n' ' ' < "$MAILS/1.argv" | sed 's/ $//')"
msg=$MAILS/1.msg
grep -q '^From: screen@mx.example.org$' "$msg" || fail "no From header: $(cat "$msg")"
grep -q '^Subject: mailscreen on .*: 2 blocks$' "$msg" || fail "no Subject with 2 blocks: $(cat "$msg")"
grep -q '^Message-ID: <.*mailscreen@.*>$' "$msg" || fail "no Message-ID: $(cat "$msg")"
grep -q '^Date: ' "$msg" || fail "no Date: $(cat "$msg")"
grep -q ' 198\.51\.100\.50 blocked for 2h by manual$' "$msg" || fail "198.51.100.50 not listed: $(cat "$msg")"
grep -q -F "    $reason" "$msg" || fail "the reason is not listed as it is: $(cat "$msg")"
grep -q " account 'bob' blocked for 30m by manual$" "$msg" || fail "account bob not listed: $(cat "$msg")"
ok "one mail: both blocks, From, Subject, Date, Message-ID"

say "the program got each block's fields as arguments and environment"
wait_file_line "$PROGS/log" '^done 2 '
p=$(grep -l '^arg=198.51.100.50$' "$PROGS"/[0-9]*) || fail "the program never got 198.51.100.50"
grep -q -x -F "arg=$reason" "$p" || fail "the program's reason argument differs: $(cat "$p")"
grep -q -x -F "MAILSCREEN_REASON=$reason" "$p" || fail "MAILSCREEN_REASON differs: $(cat "$p")"
grep -q -x 'MAILSCREEN_TARGET=198.51.100.50' "$p" || fail "no MAILSCREEN_TARGET: $(cat "$p")"
grep -q -x 'MAILSCREEN_DURATION=2h' "$p" || fail "no MAILSCREEN_DURATION: $(cat "$p")"
assert_eq "the program's arguments" "block address 198.51.100.50 2h manual" \
	"$(sed -n 's/^arg=//p' "$p" | head -5 | tr '\n' ' ' | sed 's/ $//')"
p=$(grep -l '^arg=bob$' "$PROGS"/[0-9]*) || fail "the program never got account bob"
grep -q -x 'MAILSCREEN_KIND=account' "$p" || fail "no MAILSCREEN_KIND=account: $(cat "$p")"
[ -e /tmp/pwned ] && fail "a shell ran the reason"
ok "no shell ran the reason"

say "a flood of 500 blocks: one mail listing 20 and counting 480"
awk -v t="$(date '+%b %e %T')" 'BEGIN {
	n = 0
	for (net = 0; net < 2; net++)
		for (h = 1; h <= 254 && n < 500; h++) {
			a = (net ? "198.51.100." : "203.0.113.") h
			if (a == "198.51.100.50") continue
			n++
			for (k = 0; k < 5; k++)
				printf "%s mx postfix/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n", t, 30000 + n * 5 + k, a
		}
}' > "$MS_TMP/flood.log"
cat "$MS_TMP/flood.log" >> "$MS_LOG"
wait_file_line "$MAILS/log" '^done 2$'
msg=$MAILS/2.msg
grep -q '^Subject: mailscreen on .*: 500 blocks$' "$msg" || fail "the flood's mail does not say 500 blocks: $(head -20 "$msg")"
assert_eq "blocks listed in the flood's mail" 20 "$(grep -c ' blocked for .* by auth-ip$' "$msg")"
grep -q '^480 more blocks not listed' "$msg" || fail "no '480 more blocks not listed': $(tail -5 "$msg")"
wait_until "all 500 blocks in the list" sh -c "[ \$('$MS_BIN' list blocks -s '$MS_SOCK' --json | jq length) -ge 501 ]"

say "the hour's 2 mails are spent: the next block waits, no third mail"
log_mark
ctl_ok block 198.51.100.251 1h
wait_log 'notify: the 2 block mails of the hour are sent; the blocks made since wait '
assert_eq "mails sent" 2 "$(wc -l < "$MAILS/log")"
assert_eq "status: mails sent" 2 "$(ctl_json .notify.mails status)"
assert_eq "status: blocks not listed" 480 "$(ctl_json .notify.unlisted status)"

say "the kernel's drops for blocks are counted (at its check, every second here)"
expect_dropped $ATTACKER $SERVER4 25
wait_until "report counts dropped packets" sh -c "[ \$('$MS_BIN' report -s '$MS_SOCK' --json | jq .dropped_packets) -ge 1 ]"

say "report: text, JSON, HTML"
ctl_ok report
printf '%s\n' "$MS_OUT" | grep -q '^blocks made: 503, lifted: 0$' || fail "report: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -E -q '^  auth-ip +made 500, lifted 0$' || fail "report by origin: $MS_OUT"
printf '%s\n' "$MS_OUT" | grep -E -q '^  auth-fail +2500$' || fail "report's events: $MS_OUT"
assert_eq "report --json: blocks made by manual" 3 "$(ctl_json '.origins.manual.made' report --since 2h)"
assert_eq "report --json: top address count" 5 "$(ctl_json '.top_addresses[0].count' report)"
ctl_ok report --html "$MS_TMP/report.html"
[ -z "$MS_OUT" ] || fail "report --html printed to stdout: $MS_OUT"
grep -q '^<!DOCTYPE html>' "$MS_TMP/report.html" || fail "no HTML page written"
grep -q -i '<script' "$MS_TMP/report.html" && fail "the HTML page holds a script"
grep -q '<td>auth-ip</td><td class="n">500</td>' "$MS_TMP/report.html" || fail "HTML: no auth-ip row"
ok "report --html wrote a self-contained page"

say "report --mail: the report mailed now, whatever the hour's block mails"
ctl_ok report --mail --since 2h
wait_file_line "$MAILS/log" '^done 3$'
grep -q '^Subject: mailscreen on .*: report of the last 2h$' "$MAILS/3.msg" || fail "report mail: $(head -12 "$MAILS/3.msg")"
grep -q '^blocks made: 503, lifted: 0$' "$MAILS/3.msg" || fail "report mail's body: $(cat "$MAILS/3.msg")"
ok "the report mail holds the report"

say "the report after a restart counts the same"
ms_stop
ms_start
assert_eq "report --json after a restart: blocks made" 503 "$(ctl_json '.blocks_made' report)"

say "run --dry-run: the mail and the program say what would be blocked, and that nothing was"
ms_stop
ms_start --dry-run
nmails=$(wc -l < "$MAILS/log")
log_mark
sasl_fail 198.51.100.249 5
wait_file_line "$MAILS/log" "^done $((nmails + 1))\$"
msg=$MAILS/$((nmails + 1)).msg
grep -q '^Subject: mailscreen on .*: dry run: would block 198\.51\.100\.249$' "$msg" ||
	fail "the dry run's Subject: $(grep '^Subject' "$msg")"
grep -q -x '(dry run: nothing was blocked)' "$msg" || fail "the body does not say nothing was blocked: $(cat "$msg")"
grep -q ' 198\.51\.100\.249 would be blocked for 1h by auth-ip (dry run)$' "$msg" ||
	fail "198.51.100.249 not listed as would be blocked: $(cat "$msg")"
grep -v ' would be blocked for ' "$msg" | grep -q ' blocked for ' && fail "the dry run's mail says blocked: $(cat "$msg")"
ok "the mail says: $(grep '^Subject' "$msg")"
wait_file_line "$PROGS/log" '^done [0-9]+ 198\.51\.100\.249$'
p=$(grep -l '^arg=198.51.100.249$' "$PROGS"/[0-9]*) || fail "the program never got 198.51.100.249"
assert_eq "the program's arguments in dry run" "would-block address 198.51.100.249 1h auth-ip" \
	"$(sed -n 's/^arg=//p' "$p" | head -5 | tr '\n' ' ' | sed 's/ $//')"
grep -q -x 'MAILSCREEN_DRY_RUN=1' "$p" || fail "no MAILSCREEN_DRY_RUN=1: $(cat "$p")"
grep -q -x 'MAILSCREEN_EVENT=would-block' "$p" || fail "no MAILSCREEN_EVENT=would-block: $(cat "$p")"
p=$(grep -l '^arg=198.51.100.50$' "$PROGS"/[0-9]*)
grep -q -x 'MAILSCREEN_DRY_RUN=0' "$p" || fail "not in dry run, no MAILSCREEN_DRY_RUN=0: $(cat "$p")"
assert_no_element 198.51.100.249

ms_stop

# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_metrics.sh - [metrics]: the Prometheus textfile and the HTTP server
# on 127.0.0.1, with the numbers status shows, and the server's bounds.
#
#   - check refuses a listen address that is none, and warns about one
#     that is not loopback;
#   - after failures that block an address and a SYN the kernel drops:
#     GET /metrics answers 200 (text/plain; version=0.0.4) with output that
#     passes a strict format check and promtool check metrics (Debian's
#     prometheus package); its numbers are status --json's (lines, events by kind,
#     per source, per rule: decisions, blocks, tracked keys), the block is
#     counted by its origin, the kernel's drop counter is there per set,
#     state saves and the version are there;
#   - the textfile, rewritten every second: mode 0644, never a temporary
#     file left beside it, and every read of it while it is rewritten is a
#     whole exposition (its last family there, the last byte a newline);
#     written once more at stop;
#   - hostile clients: POST answers 405 (Allow: GET, HEAD), another path
#     404, a 9 KiB request head 431; idle connections (no byte sent) are
#     closed after 5 s, and while they wait other requests are answered;
#     a connection beyond the 16 open is answered 503 at once;
#   - a reload that changes listen moves the server.
# Run by run.sh, which has sourced lib.sh.

command -v curl > /dev/null || skip "curl is not installed (make deps-test)"
command -v jq > /dev/null || skip "jq is not installed"

PORT=9154
URL=http://127.0.0.1:$PORT/metrics
PROM=$MS_TMP/prom/mailscreen.prom
mkdir -p "$MS_TMP/prom"

# promcheck FILE - the strict checker, then Prometheus's own promtool
promcheck() {
	awk -f "$MS_REPO/tests/promcheck.awk" "$1" || fail "$1: not a valid exposition: $(head -c 2000 "$1")"
	[ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] || fail "$1: does not end with a newline"
	# Debian's prometheus package (make deps-test) ships promtool
	command -v promtool > /dev/null || fail "promtool not found (make deps-test installs prometheus)"
	promtool check metrics < "$1" || fail "promtool check metrics: $1"
}

# metric NAME{LABELS} FILE - the value of one series
metric() { awk -v s="$1" '$1 == s { print $2; f = 1 } END { exit !f }' "$2"; }

say "check: a bad listen address is refused, one not loopback is warned about"
ms_config "[metrics]
listen = 127.0.0.1"
"$MS_BIN" check -c "$MS_CONF" > "$MS_TMP/check.out" 2>&1 && fail "check accepted listen = 127.0.0.1 (no port)"
grep -q "listen '127.0.0.1': write ADDRESS:PORT" "$MS_TMP/check.out" || fail "check: $(cat "$MS_TMP/check.out")"
ok "check refuses listen without a port: $(head -n 1 "$MS_TMP/check.out")"
ms_config "[metrics]
listen = 0.0.0.0:$PORT"
"$MS_BIN" check -c "$MS_CONF" > "$MS_TMP/check.out" 2>&1 || fail "check refused listen = 0.0.0.0: $(cat "$MS_TMP/check.out")"
grep -q "warning: \[metrics\] listen is not a loopback address" "$MS_TMP/check.out" ||
	fail "check did not warn about 0.0.0.0: $(cat "$MS_TMP/check.out")"
ok "check warns about a listen address that is not loopback"

ms_listen $SERVER4 25
ms_config "[metrics]
textfile = $PROM
interval = 1s
listen = 127.0.0.1:$PORT"
ms_start

say "events, a block, a dropped SYN"
sasl_fail 203.0.113.62 3
barrier $ATTACKER
expect_dropped $ATTACKER $SERVER4 25

say "GET /metrics"
curl -sS -D "$MS_TMP/h" -o "$MS_TMP/m" --max-time 3 "$URL" || fail "curl $URL failed"
head -n 1 "$MS_TMP/h" | grep -q "^HTTP/1.1 200 OK" || fail "GET /metrics: $(cat "$MS_TMP/h")"
grep -qi "^Content-Type: text/plain; version=0.0.4; charset=utf-8" "$MS_TMP/h" || fail "content type: $(cat "$MS_TMP/h")"
grep -qi "^Connection: close" "$MS_TMP/h" || fail "no Connection: close: $(cat "$MS_TMP/h")"
promcheck "$MS_TMP/m"
ok "GET /metrics: 200, text/plain version 0.0.4, a valid exposition of $(grep -c -v '^#' "$MS_TMP/m") series"

say "the numbers are status's"
ctl_ok status --json
printf '%s\n' "$MS_OUT" > "$MS_TMP/status.json"
curl -sS -o "$MS_TMP/m" --max-time 3 "$URL" || fail "curl $URL failed"
st() { jq -r "$1" "$MS_TMP/status.json"; }
assert_eq "lines" "$(st .lines)" "$(metric mailscreen_lines_total "$MS_TMP/m")"
assert_eq "auth-fail events" "$(st '.events["auth-fail"]')" "$(metric 'mailscreen_events_total{kind="auth-fail"}' "$MS_TMP/m")"
assert_eq "source mail: lines" "$(st '.sources[0].lines')" "$(metric 'mailscreen_source_lines_total{source="mail"}' "$MS_TMP/m")"
for k in auth-fail connect; do
	assert_eq "source mail: $k events" "$(st ".sources[0].events_by_kind[\"$k\"]")" \
		"$(metric 'mailscreen_source_events_total{source="mail",kind="'$k'"}' "$MS_TMP/m")"
done
[ "$(st '.sources[0].events_by_kind["auth-fail"]')" -ge 3 ] || fail "source mail: fewer than 3 auth-fail events"
assert_eq "source mail: its kinds add up to its events" "$(st '.sources[0].events')" \
	"$(grep '^mailscreen_source_events_total{source="mail",' "$MS_TMP/m" | awk '{ n += $2 } END { print n + 0 }')"
assert_eq "source mail: lag" "$(st '[.sources[0].files[].lag_bytes] | add')" "$(metric 'mailscreen_source_lag_bytes{source="mail"}' "$MS_TMP/m")"
for f in decisions:mailscreen_rule_decisions_total tracked:mailscreen_rule_tracked_keys \
	 blocks_in_force:mailscreen_rule_blocks blocks_since_start:mailscreen_rule_blocks_total \
	 events:mailscreen_rule_events_total; do
	assert_eq "auth-ip ${f%%:*}" "$(st ".rules[\"auth-ip\"].${f%%:*}")" "$(metric "${f#*:}{rule=\"auth-ip\"}" "$MS_TMP/m")"
done
assert_eq "decisions" "$(st .decisions)" "$(metric mailscreen_decisions_total "$MS_TMP/m")"
assert_eq "tracked keys" "$(st .tracked_keys)" "$(metric mailscreen_tracked_keys "$MS_TMP/m")"
assert_eq "blocks of auth-ip by origin" 1 "$(metric 'mailscreen_blocks{origin="auth-ip",kind="address"}' "$MS_TMP/m")"
ctl_ok block 198.51.100.71 1h
ctl_ok block 198.51.100.72 1h
ctl_ok block 2001:db8::73 1h
ctl_ok block-account carol@example.org 1h
curl -sS -o "$MS_TMP/m2" --max-time 3 "$URL" || fail "curl $URL failed"
assert_eq "blocks by origin: manual addresses" 3 "$(metric 'mailscreen_blocks{origin="manual",kind="address"}' "$MS_TMP/m2")"
assert_eq "blocks by origin: manual accounts" 1 "$(metric 'mailscreen_blocks{origin="manual",kind="account"}' "$MS_TMP/m2")"
assert_eq "blocks by origin: auth-ip still" 1 "$(metric 'mailscreen_blocks{origin="auth-ip",kind="address"}' "$MS_TMP/m2")"
assert_eq "blocks by origin add up to status's blocks" "$(ctl_json .blocks status)" \
	"$(grep '^mailscreen_blocks{.*kind="address"' "$MS_TMP/m2" | awk '{ n += $2 } END { print n + 0 }')"
ctl_ok unblock 198.51.100.71
ctl_ok unblock 198.51.100.72
ctl_ok unblock 2001:db8::73
ctl_ok unblock-account carol@example.org
metric 'mailscreen_build_info{version="'"$(cat "$MS_REPO/VERSION")"'"}' "$MS_TMP/m" > /dev/null || fail "no build_info with the version"
[ "$(metric 'mailscreen_state_saves_total{result="ok"}' "$MS_TMP/m")" -ge 1 ] || fail "no state save counted"
metric mailscreen_start_time_seconds "$MS_TMP/m" > /dev/null || fail "no start time"
ok "build info, start time, state saves"
grep -q "203.0.113\|bob@" "$MS_TMP/m" && fail "a client's address in the metrics: $(grep 203.0.113 "$MS_TMP/m")"
ok "no client address in the metrics"

say "the kernel's drop counter of block4, read every interval"
dropped() {
	curl -sS -o "$MS_TMP/m" --max-time 3 "$URL" &&
	[ "$(metric 'mailscreen_set_dropped_packets{set="block4"}' "$MS_TMP/m" || echo 0)" -ge 1 ]
}
wait_until "mailscreen_set_dropped_packets{set=\"block4\"} counts the dropped SYN" dropped

say "the textfile: whole at every read, 0644, no temporary file left"
[ -f "$PROM" ] || fail "no $PROM"
assert_eq "mode of the textfile" 644 "$(stat -c %a "$PROM")"
i=0
while [ $i -lt 60 ]; do
	cat "$PROM" > "$MS_TMP/read.prom"
	tail -n 1 "$MS_TMP/read.prom" | grep -q '^mailscreen_build_info{' ||
		fail "read $i of the textfile is not whole: $(tail -c 200 "$MS_TMP/read.prom")"
	i=$((i + 1))
	sleep 0.05
done
promcheck "$PROM"
ok "60 reads over 3 s (3 rewrites): each a whole exposition"
# a listing may catch a rewrite in progress (its temporary file is there
# until the rename): the directory must come back to the one file
only_textfile() { [ "$(ls -A "$MS_TMP/prom")" = mailscreen.prom ]; }
wait_until "no file beside the textfile between rewrites" only_textfile
assert_eq "textfile: auth-ip decisions" "$(st '.rules["auth-ip"].decisions')" \
	"$(metric 'mailscreen_rule_decisions_total{rule="auth-ip"}' "$PROM")"

say "hostile HTTP"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data x=1 --max-time 3 "$URL")
assert_eq "POST /metrics" 405 "$code"
curl -sS -D - -o /dev/null -X POST --max-time 3 "$URL" | grep -qi "^Allow: GET, HEAD" || fail "405 without Allow"
assert_eq "GET /" 404 "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT/")"
assert_eq "GET /metricsx" 404 "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 3 "${URL}x")"
assert_eq "HEAD /metrics" 200 "$(curl -sS -I -o /dev/null -w '%{http_code}' --max-time 3 "$URL")"
{ printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n'; i=0; while [ $i -lt 90 ]; do printf 'X-Pad-%d: %0100d\r\n' $i 0; i=$((i + 1)); done; } |
	"$MS_PROBE" send 127.0.0.1 127.0.0.1 $PORT 5 > "$MS_TMP/big.out" 2>&1
grep -q "^HTTP/1.1 431 " "$MS_TMP/big.out" || fail "a 9 KiB head: $(cat "$MS_TMP/big.out")"
grep -q "^closed after" "$MS_TMP/big.out" || fail "a 9 KiB head: not closed: $(tail -n 1 "$MS_TMP/big.out")"
ok "a 9 KiB request head: 431, closed"

say "idle connections: other requests answered meanwhile, the 17th turned away, all closed after 5 s"
# idle K..L - open idle connections K to L at once, then wait until all are up
idle() {
	k=$1
	while [ $k -le $2 ]; do
		"$MS_PROBE" send 127.0.0.1 127.0.0.1 $PORT 15 < /dev/null > "$MS_TMP/idle.$k" 2>&1 &
		eval "idle_pid_$k=$!"
		k=$((k + 1))
	done
	k=$1
	while [ $k -le $2 ]; do
		eval "p=\$idle_pid_$k"
		wait_for_line "$MS_TMP/idle.$k" 0 '^connected$' "$p" || fail "idle connection $k: $(cat "$MS_TMP/idle.$k")"
		k=$((k + 1))
	done
}
idle 1 15
assert_eq "GET with 15 idle connections open" 200 "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$URL")"
idle 16 16
printf 'GET /metrics HTTP/1.0\r\n\r\n' | "$MS_PROBE" send 127.0.0.1 127.0.0.1 $PORT 5 > "$MS_TMP/busy.out" 2>&1
grep -q "^HTTP/1.1 503 " "$MS_TMP/busy.out" || fail "the 17th connection: $(cat "$MS_TMP/busy.out")"
ok "the 17th connection: 503 at once ($(tail -n 1 "$MS_TMP/busy.out"))"
k=1
while [ $k -le 16 ]; do
	eval "wait \$idle_pid_$k"
	ms=$(sed -n 's/^closed after \([0-9]*\) ms$/\1/p' "$MS_TMP/idle.$k")
	[ -n "$ms" ] || fail "idle connection $k: $(cat "$MS_TMP/idle.$k")"
	[ "$ms" -ge 4500 ] && [ "$ms" -le 9000 ] || fail "idle connection $k closed after $ms ms, not about 5 s"
	k=$((k + 1))
done
ok "16 idle connections closed after about 5 s ($ms ms), answering nothing"
assert_eq "GET after they are gone" 200 "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$URL")"
curl -sS -o "$MS_TMP/m" --max-time 3 "$URL"
[ "$(metric 'mailscreen_http_requests_total{result="timeout"}' "$MS_TMP/m")" -ge 16 ] || fail "timeouts not counted"
[ "$(metric 'mailscreen_http_requests_total{result="busy"}' "$MS_TMP/m")" -ge 1 ] || fail "busy not counted"
ok "timeouts and busy counted"
# status first: a request's own answer counts once it is sent
ctl_ok status --json
curl -sS -o "$MS_TMP/m" --max-time 3 "$URL"
for r in ok:ok errors:error timeouts:timeout busy:busy; do
	assert_eq "status's metrics server ${r%%:*}" "$(printf '%s\n' "$MS_OUT" | jq -r ".metrics_http.${r%%:*}")" \
		"$(metric "mailscreen_http_requests_total{result=\"${r#*:}\"}" "$MS_TMP/m")"
done
ctl_ok status
printf '%s\n' "$MS_OUT" | grep -E -q '^metrics server: [0-9]+ answered, [0-9]+ refused \(4xx\), [0-9]+ timed out, [0-9]+ busy \(503\)$' ||
	fail "status does not show the metrics server: $MS_OUT"
ok "status shows the metrics server's counters"
ms_alive || fail "the daemon died"

say "reload: the server moves to another port, the textfile goes on"
sed -i "s/^listen = 127.0.0.1:$PORT\$/listen = [::1]:$((PORT + 1))/" "$MS_CONF"
rm -f "$PROM"
log_mark
ctl_ok reload
wait_log '^mailscreen: reloaded '
wait_until "the textfile written again after the reload" test -f "$PROM"
assert_eq "GET on [::1]:$((PORT + 1)) after the reload" 200 \
	"$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://[::1]:$((PORT + 1))/metrics")"
curl -sS -o /dev/null --max-time 2 "$URL" 2> /dev/null && fail "the old address still answers after the reload"
ok "the old address is closed"

say "at stop: the textfile once more"
rm -f "$PROM"
ms_stop
[ -f "$PROM" ] || fail "no textfile written at stop"
promcheck "$PROM"
assert_eq "files beside the textfile" "mailscreen.prom" "$(ls -A "$MS_TMP/prom")"
ok "textfile written at stop"

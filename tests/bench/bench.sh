#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench.sh - throughput and memory of `mailscreen match` against fail2ban's
# and sshguard's offline parsers, on one generated mail log, in one run.
#
# Builds nothing (make bench builds ./mailscreen and the generator first).
# Generates the corpus with tests/bench/gen (deterministic), then runs, each
# pinned to CPU 0 when taskset works, best of BENCH_RUNS:
#   1. mailscreen match -c /dev/null --filter filters/postfix.conf
#                       --filter filters/dovecot.conf --quiet CORPUS
#   2. fail2ban-regex with its shipped postfix (mode=extra: SASL + rejects)
#      and dovecot filters: two passes, as two jails would read the log
#   3. sshg-parser (sshguard's parser) reading the corpus on stdin
# and prints wall time, lines/s, peak RSS (GNU time %M), what each found,
# and CPU time (user + sys), then mailscreen's ratios against each peer beside the targets (printed,
# not asserted). Only offline parsers run: no fail2ban or sshguard service
# is started.
#   4. filter sets: mailscreen match alone, best of BENCH_RUNS each, over
#      the same corpus with the default set (postfix dovecot
#      dovecot-connect, what the default source reads), with every shipped
#      filter file, and with each of the other shipped files alone and
#      added to the default set; lines/s and the ratio to the default set.
#      The corpus is Postfix and Dovecot: the figures show what filters
#      that do not apply to most lines cost.
#   5. the live pipeline (tests/bench/live.sh, as root): `mailscreen run`
#      on the shipped filters and rules, with real nftables, inside a
#      private network namespace (unshare --net; the host's ruleset is
#      never touched), follows a log to which the same corpus, stamped from
#      now (gen -t), is appended at once; reported: lines per second of the
#      daemon's CPU time (utime + stime) until it has read every line,
#      blocks made and socket-table scans, with close_sessions = yes (the
#      default) and = no.
#
# Environment:
#   BIN          mailscreen binary (default ./mailscreen)
#   GEN          corpus generator (default build/bench/gen)
#   BENCH_DIR    output directory (default tests/out/bench)
#   BENCH_LINES  corpus lines (default 1000000)
#   BENCH_SEED   generator seed (default 1)
#   BENCH_RUNS   runs per tool, best kept (default 3)
#   BENCH_F2B_MAX  fail2ban reads at most this many lines (default 1000000)
#   BENCH_CORPUS use this log instead of generating one (no ground truth)
#   BENCH_CPU    CPU to pin to (default 0)
#   BENCH_LIVE   0: skip the live pipeline (default 1)
#   BENCH_ONLY   match: only the corpus, mailscreen match (1) and the filter
#                sets (4): no peers, no live pipeline, no root needed
#                (default: everything)
#   BENCH_SETS   0: skip the filter sets (default 1)
#
# Exit status: 0, or 1 when mailscreen is missing or fails.

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

BIN=${BIN:-./mailscreen}
case $BIN in */*) ;; *) BIN=./$BIN ;; esac
GEN=${GEN:-build/bench/gen}
BENCH_DIR=${BENCH_DIR:-tests/out/bench}
LINES=${BENCH_LINES:-1000000}
SEED=${BENCH_SEED:-1}
RUNS=${BENCH_RUNS:-3}
F2B_MAX=${BENCH_F2B_MAX:-1000000}
CORPUS_IN=${BENCH_CORPUS:-}
CPU=${BENCH_CPU:-0}
ONLY=${BENCH_ONLY:-}
case $ONLY in
'' | match) ;;
*) echo "bench: BENCH_ONLY='$ONLY': use match (or leave it unset)" >&2; exit 1 ;;
esac

# targets (printed beside the results, never asserted)
T_LPS=2000000
T_VS_SSHG=4
T_VS_F2B=100
T_RSS_KB=8192
T_LIVE_LPCS=1000000     # live pipeline: lines per daemon CPU-second

F2B_POSTFIX='/etc/fail2ban/filter.d/postfix.conf[mode=extra]'
F2B_DOVECOT=/etc/fail2ban/filter.d/dovecot.conf

mkdir -p "$BENCH_DIR" || exit 1
W=$BENCH_DIR
RC=0

# ------------------------------------------------------------------

PIN=''
if command -v taskset >/dev/null 2>&1 && taskset -c "$CPU" true 2>/dev/null; then
	PIN="taskset -c $CPU"
fi
TIMEBIN=''
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
	TIMEBIN=/usr/bin/time
fi

now_ns() { date +%s%N; }

# timed IN OUT ERR CMD...: run CMD pinned, stdin from IN; sets WALL (s),
# CPU_S (user + sys, s) and RSS (KB) (both empty without GNU time), CMDRC.
timed() {
	_in=$1 _out=$2 _err=$3
	shift 3
	_t0=$(now_ns)
	if [ -n "$TIMEBIN" ]; then
		# shellcheck disable=SC2086
		$TIMEBIN -f '%U %S %M' -o "$W/.rss" $PIN "$@" <"$_in" >"$_out" 2>"$_err"
		CMDRC=$?
	else
		# shellcheck disable=SC2086
		$PIN "$@" <"$_in" >"$_out" 2>"$_err"
		CMDRC=$?
	fi
	_t1=$(now_ns)
	WALL=$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	RSS='' CPU_S=''
	if [ -n "$TIMEBIN" ]; then
		# the last line; GNU time puts "Command exited ..." before it
		# shellcheck disable=SC2046 # split into user, sys, rss
		set -- $(tail -n 1 "$W/.rss")
		if [ $# -eq 3 ]; then
			CPU_S=$(awk -v u="$1" -v s="$2" 'BEGIN { printf "%.3f", u + s }')
			RSS=$3
		fi
	fi
	case $RSS in *[!0-9]* | '') RSS='' CPU_S='' ;; esac
}

# best WALL_A WALL_B -> smaller; maxkb A B -> larger (either may be empty)
minf() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }
maxkb() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "") print b; else if (b == "" || a + 0 >= b + 0) print a; else print b }'; }
addf() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
lps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%d", n / s; else print "-" }'; }
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }' || printf 'n/a'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) { r = a / b; printf (r >= 10 ? "%.0fx" : "%.1fx"), r } else print "-" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'; }
yesno() { if "$@"; then echo "met"; else echo "NOT met"; fi; }

hr() { echo "------------------------------------------------------------------------------"; }

# ---- 5. the live pipeline ----
# live_run CLOSE: best (least daemon CPU) of RUNS runs of live.sh; sets
# LV_CPU LV_WALL LV_BLOCKS LV_SCANS LV_CLOSED, or LV_ERR
live_run() {
	LV_CPU='' LV_WALL='' LV_BLOCKS='' LV_SCANS='' LV_CLOSED='' LV_ERR=''
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		# shellcheck disable=SC2086 # PIN words
		_out=$(unshare --net sh tests/bench/live.sh "$BIN" "$LIVE_CORPUS" "$LIVE_LINES" \
			"$W/live-$1" "$1" $PIN 2>&1 | tail -n 1)
		case $_out in
		"live cpu_s="*) ;;
		*) LV_ERR=${_out:-live.sh failed}; return ;;
		esac
		# shellcheck disable=SC2086 # key=value words
		set -- "$1" $_out
		_c=${3#cpu_s=}
		if [ -z "$LV_CPU" ] || ge "$LV_CPU" "$_c"; then
			LV_CPU=$_c LV_WALL=${4#wall_s=} LV_BLOCKS=${6#blocks=} LV_CLOSED=${7#closed=} LV_SCANS=${8#scans=}
		fi
		_i=$((_i + 1))
	done
}

live_bench() {
	[ "${BENCH_LIVE:-1}" = 0 ] && return
	[ "$ONLY" = match ] && return
	hr
	echo "live pipeline: mailscreen run, shipped filters and rules, real nftables, private network namespace"
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
		echo "  skipped: needs root, unshare and ip (a network namespace and nftables of its own)"
		return
	fi
	if [ ! -x "$BIN" ]; then
		echo "  skipped: '$BIN' not built"
		return
	fi
	if [ -n "$CORPUS_IN" ]; then
		LIVE_CORPUS=$CORPUS_IN
		echo "  corpus: $CORPUS_IN as given (lines stamped older than the rule windows are skipped)"
	else
		LIVE_CORPUS=$W/live-corpus.log
		if ! "$GEN" -n "$LINES" -s "$SEED" -t "$(date +%s)" -o "$LIVE_CORPUS" 2>/dev/null; then
			echo "  skipped: cannot generate $LIVE_CORPUS"
			return
		fi
		echo "  corpus: as above, stamped from now ($GEN -n $LINES -s $SEED -t NOW), appended at once"
	fi
	LIVE_LINES=$(wc -l <"$LIVE_CORPUS" | tr -d ' ')
	cat "$LIVE_CORPUS" >/dev/null
	printf '  %-15s %8s %8s %13s %8s %8s %8s\n' "close_sessions" "cpu s" "wall s" "lines/cpu-s" \
		"blocks" "scans" "closed"
	LIVE_YES=''
	for close in yes no; do
		live_run $close
		if [ -n "$LV_ERR" ]; then
			printf '  %-15s %s\n' "$close" "$LV_ERR (see $W/live-$close/daemon.log)"
			RC=1
			continue
		fi
		_l=$(lps "$LIVE_LINES" "$LV_CPU")
		[ $close = yes ] && LIVE_YES=$_l
		printf '  %-15s %8s %8s %13s %8s %8s %8s\n' "$close" "$LV_CPU" "$LV_WALL" "$_l" "$LV_BLOCKS" \
			"$LV_SCANS" "$LV_CLOSED"
	done
	echo "  (best of $RUNS by cpu; cpu: the daemon's utime + stime while it read the $LIVE_LINES lines," \
		"start-up excluded;"
	echo "   wall: until status counted them all, polled every 50 ms; blocks: listed at the end;" \
		"scans: socket-table walks to close sessions)"
	if [ -n "$LIVE_YES" ]; then
		printf '  live, close_sessions = yes: %-17s >= %d lines per daemon CPU-second: %s\n' \
			"$LIVE_YES" "$T_LIVE_LPCS" "$(yesno ge "$LIVE_YES" "$T_LIVE_LPCS")"
	fi
}

# ---- 4. filter sets ----
# Each set is run once per round, for RUNS rounds, so that a burst of other
# work on the machine slows every set a little rather than one set a lot;
# each keeps its best wall and cpu time. Set i: SET_LABEL_i, SET_FILES_i,
# SET_NF_i (filters in its files), SET_WALL_i, SET_CPU_i, SET_EV_i.
NSETS=0
S_LABEL='' S_FILES='' S_NF='' S_WALL='' S_CPU='' S_EV=''
set_add() {     # set_add LABEL FILE...
	_label=$1
	shift
	NSETS=$((NSETS + 1))
	eval "SET_LABEL_$NSETS=\$_label SET_FILES_$NSETS=\$* SET_WALL_$NSETS='' SET_CPU_$NSETS='' SET_EV_$NSETS=''"
	eval "SET_NF_$NSETS=\$(for _f in \"\$@\"; do cat \"filters/\$_f.conf\"; done | grep -c '^\[[^]]*\]')"
}

set_get() {     # set_get I: the set's fields into S_LABEL S_FILES S_NF S_WALL S_CPU S_EV
	eval "S_LABEL=\$SET_LABEL_$1 S_FILES=\$SET_FILES_$1 S_NF=\$SET_NF_$1 S_WALL=\$SET_WALL_$1"
	eval "S_CPU=\$SET_CPU_$1 S_EV=\$SET_EV_$1"
}

# set_time I: one timed run of `match --quiet` with set I's files; 1 if it failed
set_time() {
	set_get "$1"
	_args=''
	for _f in $S_FILES; do
		_args="$_args --filter filters/$_f.conf"
	done
	# shellcheck disable=SC2086 # filter arguments
	timed /dev/null /dev/null "$W/set.err" "$BIN" match -c /dev/null $_args --quiet "$CORPUS"
	if [ "$CMDRC" -ne 0 ]; then
		printf '  %-42s failed (exit %s): %s\n' "$S_LABEL" "$CMDRC" "$(tail -n 1 "$W/set.err")"
		return 1
	fi
	_ev=$(sed -n 's/.*events: \([0-9][0-9]*\).*/\1/p' "$W/set.err" | head -n 1)
	eval "SET_WALL_$1=\$(minf \"\$S_WALL\" \"\$WALL\") SET_EV_$1=\$_ev"
	[ -n "$CPU_S" ] && eval "SET_CPU_$1=\$(minf \"\$S_CPU\" \"\$CPU_S\")"
	return 0
}

sets_bench() {
	[ "${BENCH_SETS:-1}" = 0 ] && return
	hr
	if [ ! -x "$BIN" ]; then
		echo "filter sets: '$BIN' not built"
		return
	fi
	DEFAULT_SET='postfix dovecot dovecot-connect'
	ALL_SET='' OTHER_SET=''
	for _p in filters/*.conf; do
		_n=$(basename "$_p" .conf)
		ALL_SET="$ALL_SET $_n"
		case " $DEFAULT_SET " in *" $_n "*) ;; *) OTHER_SET="$OTHER_SET $_n" ;; esac
	done
	NSETS=0
	# shellcheck disable=SC2086 # word lists
	{
		set_add "default ($DEFAULT_SET)" $DEFAULT_SET
		set_add "all $(echo $ALL_SET | wc -w | tr -d ' ') files" $ALL_SET
		for _n in $OTHER_SET; do
			set_add "$_n alone" $_n
			set_add "default + $_n" $DEFAULT_SET $_n
		done
	}
	echo "filter sets: mailscreen match --quiet on the same corpus; $NSETS sets, each run once" \
		"per round, best of $RUNS rounds"
	_r=0
	while [ $_r -lt "$RUNS" ]; do
		_i=1
		while [ $_i -le "$NSETS" ]; do
			set_time $_i || { RC=1; return; }
			_i=$((_i + 1))
		done
		_r=$((_r + 1))
	done
	set_get 1
	BASE_LPS=$(lps "$LINES" "$S_WALL") BASE_CPU=$S_CPU
	printf '  %-42s %3s %7s %7s %10s %7s %9s %9s\n' "filter files" "flt" "wall s" "cpu s" "lines/s" \
		"ratio" "(by cpu)" "events"
	_i=1
	while [ $_i -le "$NSETS" ]; do
		set_get $_i
		_l=$(lps "$LINES" "$S_WALL")
		printf '  %-42s %3d %7s %7s %10s %7s %9s %9s\n' "$S_LABEL" "$S_NF" "$S_WALL" "${S_CPU:--}" "$_l" \
			"$(awk -v a="$_l" -v b="$BASE_LPS" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
			"($(awk -v a="$BASE_CPU" -v b="$S_CPU" \
				'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'))" "${S_EV:-?}"
		_i=$((_i + 1))
	done
	echo "(flt: filters in the files; wall and cpu (user + sys): best of $RUNS each; lines/s = lines / wall,"
	echo " process start included; ratio: lines/s against the default set's, by wall and by cpu time)"
}

main() {
	T_START=$(now_ns)
	echo "mailscreen benchmark  ($(uname -m), $(nproc 2>/dev/null || echo '?') CPUs," \
		"${PIN:+pinned with $PIN, }best of $RUNS)"
	[ -z "$TIMEBIN" ] && echo "note: GNU time (/usr/bin/time, Debian package 'time') missing: no RSS"
	LOAD=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
	if [ -n "$LOAD" ] && ge "$LOAD" 0.5; then
		echo "note: load average $LOAD before starting: other work shares the CPUs, wall times are noisy"
	fi
	hr

	# ---- corpus ----
	EXPECT=''
	if [ -n "$CORPUS_IN" ]; then
		CORPUS=$CORPUS_IN
		LINES=$(wc -l <"$CORPUS" | tr -d ' ')
		echo "corpus: $CORPUS (given; no ground truth)"
	else
		CORPUS=$W/corpus.log
		if [ ! -x "$GEN" ]; then
			echo "bench: generator '$GEN' not built (make $GEN)" >&2
			return 1
		fi
		_t0=$(now_ns)
		if ! "$GEN" -n "$LINES" -s "$SEED" -o "$CORPUS" 2>"$W/corpus.txt"; then
			cat "$W/corpus.txt" >&2
			return 1
		fi
		_t1=$(now_ns)
		echo "corpus: $CORPUS, generated in $(awk -v a="$_t0" -v b="$_t1" \
			'BEGIN { printf "%.2f", (b - a) / 1e9 }') s by $GEN -n $LINES -s $SEED"
		sed -e '/^expect:/d' -e 's/^/  /' "$W/corpus.txt"
		EXPECT=$(sed -n 's/^expect: //p' "$W/corpus.txt")
	fi
	SIZE=$(wc -c <"$CORPUS" | tr -d ' ')
	echo "  $LINES lines, $(awk -v b="$SIZE" 'BEGIN { printf "%.1f MB", b / 1048576 }')"
	# warm the page cache so that no tool pays for the disk
	cat "$CORPUS" >/dev/null
	hr

	# ---- 1. mailscreen ----
	MS_WALL='' MS_CPU='' MS_RSS='' MS_EVENTS='' MS_OWN=''
	if [ ! -x "$BIN" ]; then
		echo "mailscreen: '$BIN' not built"
		RC=1
	else
		i=0
		while [ $i -lt "$RUNS" ]; do
			timed /dev/null /dev/null "$W/mailscreen.err" "$BIN" match -c /dev/null \
				--filter filters/postfix.conf --filter filters/dovecot.conf --quiet "$CORPUS"
			if [ "$CMDRC" -ne 0 ]; then
				echo "mailscreen match failed (exit $CMDRC):"
				sed 's/^/  /' "$W/mailscreen.err" | tail -n 20
				RC=1
				MS_WALL=''
				break
			fi
			MS_WALL=$(minf "$MS_WALL" "$WALL")
			MS_CPU=$(minf "$MS_CPU" "$CPU_S")
			MS_RSS=$(maxkb "$MS_RSS" "$RSS")
			i=$((i + 1))
		done
		if [ -n "$MS_WALL" ]; then
			MS_EVENTS=$(sed -n 's/.*events: \([0-9][0-9]*\).*/\1/p' "$W/mailscreen.err" | head -n 1)
			MS_OWN=$(sed -n 's/^elapsed: .*(\([0-9][0-9]*\) lines\/s).*/\1/p' "$W/mailscreen.err" | head -n 1)
			# one untimed --json pass: events by kind
			"$BIN" match -c /dev/null --filter filters/postfix.conf \
				--filter filters/dovecot.conf --json "$CORPUS" 2>/dev/null |
				grep -o '"event": *"[a-z-]*"' | sed 's/.*"\([a-z-]*\)"$/\1/' |
				LC_ALL=C sort | LC_ALL=C uniq -c |
				awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " } END { print "" }' \
				>"$W/mailscreen.kinds"
		fi
	fi

	# ---- 2. fail2ban-regex ----
	F2B_WALL='' F2B_CPU='' F2B_RSS='' F2B_MATCH='' F2B_NOTE='' F2B_LINES=$LINES
	if [ "$ONLY" = match ]; then
		F2B_NOTE="skipped (BENCH_ONLY=match)"
	elif ! command -v fail2ban-regex >/dev/null 2>&1; then
		F2B_NOTE="not installed"
	elif [ ! -r "$F2B_DOVECOT" ]; then
		F2B_NOTE="filters missing under /etc/fail2ban/filter.d"
	else
		F2B_IN=$CORPUS
		if [ "$LINES" -gt "$F2B_MAX" ]; then
			F2B_IN=$W/corpus-f2b.log
			head -n "$F2B_MAX" "$CORPUS" >"$F2B_IN"
			F2B_LINES=$F2B_MAX
			F2B_NOTE="first $F2B_MAX lines only; lines/s from those"
		fi
		i=0
		while [ $i -lt "$RUNS" ]; do
			timed /dev/null "$W/f2b-postfix.out" "$W/f2b-postfix.err" fail2ban-regex \
				--print-no-missed --print-no-ignored "$F2B_IN" "$F2B_POSTFIX"
			w1=$WALL r1=$RSS c1=$CMDRC u1=$CPU_S
			timed /dev/null "$W/f2b-dovecot.out" "$W/f2b-dovecot.err" fail2ban-regex \
				--print-no-missed --print-no-ignored "$F2B_IN" "$F2B_DOVECOT"
			if [ "$c1" -ne 0 ] || [ "$CMDRC" -ne 0 ]; then
				F2B_NOTE="fail2ban-regex failed, see $W/f2b-*.err"
				F2B_WALL=''
				break
			fi
			F2B_WALL=$(minf "$F2B_WALL" "$(addf "$w1" "$WALL")")
			[ -n "$u1" ] && [ -n "$CPU_S" ] && F2B_CPU=$(minf "$F2B_CPU" "$(addf "$u1" "$CPU_S")")
			F2B_RSS=$(maxkb "$(maxkb "$F2B_RSS" "$r1")" "$RSS")
			i=$((i + 1))
			# a slow machine: one run says enough
			if [ $i -lt "$RUNS" ] && ge "$F2B_WALL" 120; then
				F2B_NOTE="${F2B_NOTE:+$F2B_NOTE; }1 run only (slow)"
				break
			fi
		done
		if [ -n "$F2B_WALL" ]; then
			m1=$(sed -n 's/^Lines: .* \([0-9][0-9]*\) matched.*/\1/p' "$W/f2b-postfix.out")
			m2=$(sed -n 's/^Lines: .* \([0-9][0-9]*\) matched.*/\1/p' "$W/f2b-dovecot.out")
			F2B_MATCH="${m1:-?} postfix + ${m2:-?} dovecot matched lines"
		fi
	fi

	# ---- 3. sshg-parser ----
	SG_WALL='' SG_CPU='' SG_RSS='' SG_ATTACKS='' SG_NOTE=''
	SG=''
	for p in /usr/libexec/sshguard/sshg-parser /usr/lib/sshguard/sshg-parser \
		/usr/local/libexec/sshg-parser "$(command -v sshg-parser 2>/dev/null)"; do
		if [ -n "$p" ] && [ -x "$p" ]; then
			SG=$p
			break
		fi
	done
	if [ "$ONLY" = match ]; then
		SG_NOTE="skipped (BENCH_ONLY=match)"
	elif [ -z "$SG" ]; then
		SG_NOTE="not installed"
	else
		i=0
		while [ $i -lt "$RUNS" ]; do
			timed "$CORPUS" "$W/sshg.out" "$W/sshg.err" "$SG"
			if [ "$CMDRC" -ne 0 ]; then
				SG_NOTE="sshg-parser failed (exit $CMDRC), see $W/sshg.err"
				SG_WALL=''
				break
			fi
			SG_WALL=$(minf "$SG_WALL" "$WALL")
			SG_CPU=$(minf "$SG_CPU" "$CPU_S")
			SG_RSS=$(maxkb "$SG_RSS" "$RSS")
			i=$((i + 1))
		done
		[ -n "$SG_WALL" ] && SG_ATTACKS="$(wc -l <"$W/sshg.out" | tr -d ' ') attacks reported"
	fi

	# ---- table ----
	MS_LPS='' F2B_LPS='' SG_LPS=''
	[ -n "$MS_WALL" ] && MS_LPS=$(lps "$LINES" "$MS_WALL")
	[ -n "$F2B_WALL" ] && F2B_LPS=$(lps "$F2B_LINES" "$F2B_WALL")
	[ -n "$SG_WALL" ] && SG_LPS=$(lps "$LINES" "$SG_WALL")

	printf '%-27s %8s %8s %10s %9s  %s\n' "tool" "wall s" "cpu s" "lines/s" "peak RSS" "found"
	if [ -n "$MS_WALL" ]; then
		printf '%-27s %8s %8s %10s %9s  %s\n' "mailscreen match" "$MS_WALL" "${MS_CPU:--}" \
			"$MS_LPS" "$(mb "$MS_RSS")" "${MS_EVENTS:-?} events"
	else
		printf '%-27s %s\n' "mailscreen match" "no result"
	fi
	if [ -n "$F2B_WALL" ]; then
		printf '%-27s %8s %8s %10s %9s  %s\n' "fail2ban-regex (2 filters)" "$F2B_WALL" \
			"${F2B_CPU:--}" "$F2B_LPS" "$(mb "$F2B_RSS")" "$F2B_MATCH"
		[ -n "$F2B_NOTE" ] && printf '%-27s %s\n' "" "($F2B_NOTE)"
	else
		printf '%-27s %s\n' "fail2ban-regex" "$F2B_NOTE"
	fi
	if [ -n "$SG_WALL" ]; then
		printf '%-27s %8s %8s %10s %9s  %s\n' "sshg-parser" "$SG_WALL" "${SG_CPU:--}" \
			"$SG_LPS" "$(mb "$SG_RSS")" "$SG_ATTACKS"
	else
		printf '%-27s %s\n' "sshg-parser" "$SG_NOTE"
	fi
	echo "(wall and cpu: best run each; lines/s = lines / wall, process start included)"
	hr

	if [ -n "$MS_WALL" ]; then
		[ -n "$MS_OWN" ] && echo "mailscreen's own summary: $MS_OWN lines/s (without process start and exit)"
		[ -s "$W/mailscreen.kinds" ] && echo "mailscreen events by kind: $(cat "$W/mailscreen.kinds")"
	fi
	if [ -n "$EXPECT" ]; then
		echo "corpus ground truth: $EXPECT"
		echo "  (auth_attempts: SASL + PAM failure lines; auth_block: addresses with 5 of them in 600 s)"
	fi
	hr

	echo "mailscreen vs peers     throughput by wall  (by cpu)   peer RSS / ours   target (by wall)"
	if [ -n "$MS_WALL" ] && [ -n "$SG_WALL" ]; then
		r=$(awk -v a="$MS_LPS" -v b="$SG_LPS" 'BEGIN { print a / b }')
		printf '  vs sshg-parser        %18s  %8s   %15s   >= %dx: %s\n' \
			"$(ratio "$MS_LPS" "$SG_LPS")" "($(ratio "$SG_CPU" "$MS_CPU"))" \
			"$(ratio "$SG_RSS" "$MS_RSS")" "$T_VS_SSHG" "$(yesno ge "$r" "$T_VS_SSHG")"
	else
		echo "  vs sshg-parser        -"
	fi
	if [ -n "$MS_WALL" ] && [ -n "$F2B_WALL" ]; then
		r=$(awk -v a="$MS_LPS" -v b="$F2B_LPS" 'BEGIN { print a / b }')
		# cpu ratio per line: fail2ban may have read a subset
		rc=$(awk -v a="$F2B_CPU" -v n="$F2B_LINES" -v b="$MS_CPU" -v m="$LINES" \
			'BEGIN { if (a > 0 && b > 0) print (a / n) / (b / m); else print 0 }')
		printf '  vs fail2ban-regex     %18s  %8s   %15s   >= %dx: %s\n' \
			"$(ratio "$MS_LPS" "$F2B_LPS")" "($(ratio "$rc" 1))" \
			"$(ratio "$F2B_RSS" "$MS_RSS")" "$T_VS_F2B" "$(yesno ge "$r" "$T_VS_F2B")"
	else
		echo "  vs fail2ban-regex     -"
	fi
	if [ -n "$MS_WALL" ]; then
		printf '  one core: %-34s >= %d lines/s: %s\n' "$MS_LPS lines/s" "$T_LPS" \
			"$(yesno ge "$MS_LPS" "$T_LPS")"
		if [ -n "$MS_RSS" ]; then
			printf '  peak RSS: %-34s < %d MB: %s\n' "$(mb "$MS_RSS")" $((T_RSS_KB / 1024)) \
				"$(yesno awk -v a="$MS_RSS" -v b="$T_RSS_KB" 'BEGIN { exit !(a < b) }')"
		fi
	fi
	sets_bench
	live_bench
	T_END=$(now_ns)
	hr
	echo "bench took $(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.0f", (b - a) / 1e9 }') s;" \
		"files in $W (this report: bench.txt)"
	return $RC
}

# stream the report and keep a copy; the status survives the pipe in a file
{
	main "$@"
	echo $? >"$W/.rc"
} 2>&1 | tee "$W/bench.txt"
RC=$(cat "$W/.rc" 2>/dev/null || echo 1)
rm -f "$W/.rc" "$W/.rss"
exit "$RC"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-samples.sh [FILTERFILE...] - check a filter file against its annotated
# sample log, filters/samples/NAME.log beside filters/NAME.conf.  Without
# arguments: every filters/*.conf.
#
# Sample format: every log line is preceded by one or more annotations
#   #> KIND [key=value ...]        one per event the line must produce
#   #> none                        the line must produce no event
# KIND is an event kind; keys are filter ip user service session count
# only_if_counted, and only the keys given are compared, except that an
# event of an only_if_counted filter (one that counts only for a key a rule
# already counts) is matched only by an annotation that says
# only_if_counted=true, so every such line shows it.  A value with spaces is
# written in double quotes (\" and \\ escape inside them).  A bare - means
# the event must not have that key (session=-: no session); "-" in quotes is
# the text -.  Lines starting with '#' (and not "#>") are comments; blank
# lines are skipped.
#
# The log lines alone are run through
#   ${MAILSCREEN:-./mailscreen} match --filter FILTERFILE --json TEMPLOG
# and, for every log line, the multiset of events must equal the
# annotations.  Also an error: an annotation naming a filter the file does
# not have, and a filter of the file that no sample line exercises.
#
# Prints "SAMPLE:LINE: expected ... got ..." per mismatch, then
# "samples NAME: N lines, N events, N failed".  Exit 0 when all pass, 1 on a
# failure, 77 (skip) when jq is missing.

MAILSCREEN=${MAILSCREEN:-./mailscreen}

if ! command -v jq >/dev/null 2>&1; then
	echo "run-samples: jq not found (install it: make deps, or apt-get install jq)" >&2
	exit 77
fi
if [ ! -x "$MAILSCREEN" ]; then
	echo "run-samples: $MAILSCREEN is not an executable (build it with make, or set MAILSCREEN)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-samples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# parse_sample SAMPLE: writes $tmp/log (log lines only), $tmp/expect (one
# JSON object per log line: temp line, sample line, wanted events) and
# $tmp/errors (annotation format problems, "SAMPLE:LINE: message").
parse_sample() {
	awk -v q="'" -v sample="$1" -v logf="$tmp/log" -v expf="$tmp/expect" -v errf="$tmp/errors" '
	BEGIN {
		nkinds = split("connect auth-fail auth-ok rcpt-fail rset abuse disconnect", k, " ")
		for (i = 1; i <= nkinds; i++) kinds[k[i]] = 1
		split("filter ip user service session count only_if_counted", k, " ")
		for (i in k) keys[k[i]] = 1
		for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i)
		npend = 0; hasnone = 0; logno = 0; firstann = 0
		printf "" > logf; printf "" > expf; printf "" > errf
	}
	function jstr(s,    out, i, c) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\") c = "\\\\"
			else if (c == "\"") c = "\\\""
			else if (c in ctl) c = ctl[c]
			out = out c
		}
		return "\"" out "\""
	}
	function err(msg) { printf "%s:%d: %s\n", sample, NR, msg >> errf }
	/^#>/ {
		rest = substr($0, 3)
		sub(/^[ \t]+/, "", rest)
		if (!match(rest, /^[^ \t]+/)) { err("empty annotation"); next }
		kind = substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1)
		if (kind != "none" && !(kind in kinds)) { err("unknown event kind " q kind q); next }
		obj = "{\"kind\":" jstr(kind) ",\"keys\":{"; sep = ""
		split("", seen)
		for (;;) {
			sub(/^[ \t]+/, "", rest)
			if (rest == "") break
			if (!match(rest, /^[a-z_]+=/)) { err("bad annotation text " q rest q " (want key=value)"); next }
			key = substr(rest, 1, RLENGTH - 1); rest = substr(rest, RLENGTH + 1)
			if (!(key in keys)) { err("unknown key " q key q " (known: filter ip user service session count only_if_counted)"); next }
			if (key in seen) { err("key " q key q " given twice"); next }
			seen[key] = 1
			if (substr(rest, 1, 1) == "\"") {
				val = ""; closed = 0
				for (i = 2; i <= length(rest); i++) {
					c = substr(rest, i, 1)
					if (c == "\\" && i < length(rest)) { i++; val = val substr(rest, i, 1); continue }
					if (c == "\"") { closed = 1; break }
					val = val c
				}
				if (!closed) { err("unterminated quoted value for " q key q); next }
				rest = substr(rest, i + 1)
				if (rest != "" && rest !~ /^[ \t]/) { err("text after the quoted value of " q key q); next }
			} else {
				match(rest, /^[^ \t]*/)
				val = substr(rest, 1, RLENGTH); rest = substr(rest, RLENGTH + 1)
				if (val == "-") { obj = obj sep jstr(key) ":null"; sep = ","; continue }
			}
			obj = obj sep jstr(key) ":" jstr(val); sep = ","
		}
		obj = obj "}}"
		if (kind == "none") {
			if (obj != "{\"kind\":\"none\",\"keys\":{}}") { err(q "none" q " takes no keys"); next }
			hasnone = 1
		} else {
			pend[++npend] = obj
			annline[npend] = NR
		}
		if (!firstann) firstann = NR
		next
	}
	/^#/ || /^[ \t]*$/ { next }
	{
		logno++
		print > logf
		if (!npend && !hasnone) err("log line without an annotation (#> KIND ... or #> none)")
		if (npend && hasnone) err(q "#> none" q " together with event annotations")
		want = ""
		for (i = 1; i <= npend; i++) want = want (i > 1 ? "," : "") pend[i]
		printf "{\"line\":%d,\"sample\":%d,\"want\":[%s]}\n", logno, NR, want >> expf
		npend = 0; hasnone = 0; firstann = 0
	}
	END {
		if (npend || hasnone) { NR = firstann; err("annotation not followed by a log line") }
	}' "$1"
}

# check_one FILTERFILE
check_one() {
	file=$1
	name=$(basename "$file" .conf)
	sample=$(dirname "$file")/samples/$name.log
	if [ ! -f "$file" ]; then
		echo "$file: no such filter file"
		echo "samples $name: 0 lines, 0 events, 1 failed"
		return 1
	fi
	if [ ! -f "$sample" ]; then
		echo "$file: no sample log $sample (every filter file needs one)"
		echo "samples $name: 0 lines, 0 events, 1 failed"
		return 1
	fi
	parse_sample "$sample" || return 1

	# Section names of the filter file, as a JSON array.
	filters=$(sed -n 's/^[[:blank:]]*\[\([^]]*\)\][[:blank:]]*$/\1/p' "$file" |
		jq -R . | jq -s -c .) || return 1

	"$MAILSCREEN" match --filter "$file" --json "$tmp/log" >"$tmp/out" 2>"$tmp/stderr"
	st=$?
	if [ $st -ne 0 ]; then
		echo "$file: mailscreen match exited with status $st:"
		sed 's/^/    /' "$tmp/stderr"
		echo "samples $name: ? lines, ? events, 1 failed"
		return 1
	fi
	if ! jq -e . "$tmp/out" >/dev/null 2>"$tmp/jqerr" && [ -s "$tmp/out" ]; then
		echo "$file: mailscreen match printed something that is not JSON:"
		sed 's/^/    /' "$tmp/jqerr"
		echo "samples $name: ? lines, ? events, 1 failed"
		return 1
	fi

	cat "$tmp/errors"
	nerr=$(wc -l <"$tmp/errors")

	jq -n -r --slurpfile exp "$tmp/expect" --slurpfile got "$tmp/out" \
		--argjson filters "$filters" --arg sample "$sample" --arg file "$file" '
	# Does event $e satisfy annotation $a (its kind, and every key it lists;
	# a null value: the key is absent; an only_if_counted event fits only an
	# annotation that says so)?
	def fits($a; $e):
		$e.event == $a.kind and
		(($e.only_if_counted != true) or ($a.keys | has("only_if_counted"))) and
		all($a.keys | to_entries[];
			.key as $k | .value as $v |
			if $v == null then ($e | has($k) | not)
			else ($e | has($k)) and (($e[$k] | tostring) == $v) end);
	# Can the annotations $ann be paired one to one with the events $evs?
	def pairs($ann; $evs):
		if ($ann | length) == 0 then ($evs | length) == 0
		else any(range(0; $evs | length) as $i
				| select(fits($ann[0]; $evs[$i]))
				| pairs($ann[1:]; $evs[:$i] + $evs[$i + 1:]); .)
		end;
	def show_want:
		if length == 0 then "none"
		else map([.kind] + (.keys | to_entries
				| map("\(.key)=\(.value | if . == null then "-" else tojson end)")) | join(" "))
			| join("; ") end;
	def show_got:
		if length == 0 then "none"
		else map([.event] + ([ "filter", "ip", "user", "service", "session", "count", "only_if_counted" ] as $ks
				| [ . as $e | $ks[] | . as $k | select($e | has($k)) | "\($k)=\($e[$k] | tostring | tojson)" ])
				| join(" ")) | join("; ") end;

	(reduce $got[] as $e ({}; .[$e.line | tostring] += [$e])) as $by
	| ($exp | map(.line | tostring)) as $known
	| [
		( $exp[] | . as $x | ($by[$x.line | tostring] // []) as $evs
		  | select((($x.want | length) == ($evs | length) and pairs($x.want; $evs)) | not)
		  | "\($sample):\($x.sample): expected \($x.want | show_want) got \($evs | show_got)" ),
		( $by | keys[] | select(. as $l | $known | index($l) | not)
		  | "\($sample): event for input line \(.) that is not a sample log line: \($by[.] | show_got)" ),
		( $exp[] | . as $x | $x.want[] | select(.keys.filter != null)
		  | select(.keys.filter as $f | $filters | index($f) | not)
		  | "\($sample):\($x.sample): annotation names filter \(.keys.filter | tojson), which \($file) does not have" ),
		( $filters[] | select(. as $f | [$got[] | select(.filter == $f)] | length == 0)
		  | "\($file): filter [\(.)] is not exercised: no sample line produces an event from it" )
	  ] as $msgs
	| ($msgs[]),
	  "#counts \($exp | length) \($got | length) \($msgs | length)"
	' >"$tmp/result" 2>"$tmp/jqerr" || {
		echo "$file: jq failed:"; sed 's/^/    /' "$tmp/jqerr"
		echo "samples $name: ? lines, ? events, 1 failed"
		return 1
	}
	grep -v '^#counts ' "$tmp/result"
	read -r nlines nevents nbad <<-EOF
	$(sed -n 's/^#counts //p' "$tmp/result")
	EOF
	failed=$((nbad + nerr))
	echo "samples $name: $nlines lines, $nevents events, $failed failed"
	[ "$failed" -eq 0 ]
}

if [ $# -eq 0 ]; then
	set -- filters/*.conf
fi
rc=0
for f in "$@"; do
	check_one "$f" || rc=1
done
exit $rc

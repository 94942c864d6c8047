# SPDX-License-Identifier: GPL-2.0-or-later
#
# promcheck.awk - a strict checker of the Prometheus text exposition format
# (0.0.4), for the tests where promtool is not installed (Debian's
# prometheus package weighs about 100 MB): awk -f tests/promcheck.awk FILE
# prints each fault as "FILE:LINE: what" and exits 1 if there is any.
#
# Stricter than the format needs: only HELP and TYPE comments, each family
# with exactly one of each before its samples; a family's samples
# together; metric and label names as the format allows them; label values
# with no escape but \\ \" \n; a value that is a number, NaN or +-Inf; no
# series (name and label set) twice; a counter's name ending in _total;
# no empty line; the text ending with a newline.
function bad(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg; faults++ }
function isname(s, label) {
	if (label) return s ~ /^[a-zA-Z_][a-zA-Z0-9_]*$/
	return s ~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
}
function isvalue(s) {
	return s ~ /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/ || s ~ /^(NaN|[-+]?Inf)$/
}
# the family a sample name belongs to (a counter's samples are its name)
function family(n) { return n }
# parse the label set at s (after "{"); sets rest (after "}") and key (sorted
# label pairs); returns 0 on a fault
function labels(s,    i, c, name, val, n, pairs, k, tmp, j, seen) {
	n = 0
	delete pairs
	delete seen
	i = 1
	while (1) {
		if (substr(s, i, 1) == "}") { i++; break }
		name = ""
		while ((c = substr(s, i, 1)) != "=" && c != "") { name = name c; i++ }
		if (c == "") { bad("label set not closed"); return 0 }
		if (!isname(name, 1)) { bad("bad label name '" name "'"); return 0 }
		if (name in seen) { bad("label '" name "' twice"); return 0 }
		seen[name] = 1
		i++
		if (substr(s, i, 1) != "\"") { bad("label value of '" name "' not quoted"); return 0 }
		i++
		val = ""
		while (1) {
			c = substr(s, i, 1)
			if (c == "") { bad("label value of '" name "' not closed"); return 0 }
			if (c == "\"") { i++; break }
			if (c == "\\") {
				c = substr(s, i + 1, 1)
				if (c != "\\" && c != "\"" && c != "n") { bad("bad escape \\" c " in label '" name "'"); return 0 }
				val = val "\\" c
				i += 2
				continue
			}
			val = val c
			i++
		}
		pairs[++n] = name "=" val
		c = substr(s, i, 1)
		if (c == ",") { i++; if (substr(s, i, 1) == "}") { i++; break } continue }
		if (c == "}") { i++; break }
		bad("expected , or } after label '" name "'")
		return 0
	}
	for (k = 2; k <= n; k++)
		for (j = k; j > 1 && pairs[j - 1] > pairs[j]; j--) { tmp = pairs[j]; pairs[j] = pairs[j - 1]; pairs[j - 1] = tmp }
	key = ""
	for (k = 1; k <= n; k++) key = key "," pairs[k]
	rest = substr(s, i)
	return 1
}
{
	if ($0 == "") { bad("empty line"); next }
	if (substr($0, 1, 1) == "#") {
		if ($2 != "HELP" && $2 != "TYPE") { bad("a comment that is neither HELP nor TYPE"); next }
		if (!isname($3, 0)) { bad("bad metric name '" $3 "'"); next }
		if ($3 in done) { bad($2 " of " $3 " after another family"); next }
		if (cur != $3) { if (cur != "") done[cur] = 1; cur = $3 }
		if ($2 == "HELP") {
			if ($3 in help) bad("a second HELP for " $3)
			help[$3] = 1
		} else {
			if ($3 in type) bad("a second TYPE for " $3)
			if ($3 in sampled) bad("TYPE of " $3 " after its samples")
			if ($4 !~ /^(counter|gauge|untyped|histogram|summary)$/ || NF != 4) bad("bad TYPE line")
			type[$3] = $4
			if ($4 == "counter" && $3 !~ /_total$/) bad("counter " $3 " does not end in _total")
		}
		next
	}
	line = $0
	match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)
	if (RSTART != 1) { bad("no metric name"); next }
	name = substr(line, 1, RLENGTH)
	line = substr(line, RLENGTH + 1)
	key = ""
	if (substr(line, 1, 1) == "{") {
		if (!labels(substr(line, 2))) next
		line = rest
	}
	if (substr(line, 1, 1) != " ") { bad("no space before the value"); next }
	n = split(substr(line, 2), parts, " ")
	if (n < 1 || n > 2 || !isvalue(parts[1]) || (n == 2 && parts[2] !~ /^-?[0-9]+$/)) { bad("bad value '" substr(line, 2) "'"); next }
	f = family(name)
	if (f in done) { bad("sample of " f " after another family"); next }
	if (cur != f) { if (cur != "") done[cur] = 1; cur = f }
	if (!(f in type)) bad("sample of " f " without TYPE")
	if (!(f in help)) bad("sample of " f " without HELP")
	sampled[f] = 1
	if ((name "{" key "}") in series) bad("series " name "{" key "} twice")
	series[name "{" key "}"] = 1
	nsamples++
}
END {
	if (NR == 0) { printf "%s: empty\n", FILENAME; exit 1 }
	if (faults) exit 1
}

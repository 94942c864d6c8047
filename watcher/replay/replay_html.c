// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * replay_html - see replay_html.h. Every piece of text goes through
 * replay_html_text(): made printable first (text_sanitize: control bytes and
 * invalid UTF-8 as \xNN), then the five HTML metacharacters as entities.
 */
#include "replay_html.h"
#include "duration.h"
#include "jsonw.h"
#include "log.h"
#include "logtime.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVG_W 960
#define SVG_H 220
#define PLOT_H 170
#define MAX_BARS 240
#define MAX_MARKS 1000          /* blocks marked one by one on the timeline; beyond, per bar */
#define MAX_ROWS 5000           /* blocks in the table: a browser must still open the file */

void replay_html_text(FILE *o, const char *s, size_t n)
{
	size_t cap = n * 4 + 16;
	char *t = xmalloc(cap);

	text_sanitize(t, cap, s, n);
	for (const char *p = t; *p; p++)
		switch (*p) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*p, o);
		}
	free(t);
}

static void html_str(FILE *o, const char *s)
{
	replay_html_text(o, s, strlen(s));
}

static void fmt_time(uint64_t ms, char buf[32])
{
	logtime_format_utc((int64_t)(ms / 1000), buf);
}

static void block_who(FILE *o, const struct replay_block *b)
{
	if (b->what == JUDGE_ACCOUNT) {
		fputs("account &#39;", o);
		replay_html_text(o, b->user, b->userlen);
		fputs("&#39;", o);
	} else {
		html_str(o, b->target);
		if (b->what == JUDGE_PREFIX)
			fputs(" (prefix)", o);
	}
}

/* Events per bar (minutes summed) as bars, blocks as red marks. */
static void timeline(FILE *o, const struct replay *r, const struct replay_stats *st)
{
	size_t nmin, nbars, per;
	const uint32_t *min = replay_timeline(r, &nmin);
	const struct replay_block *bl;
	size_t nbl;
	uint64_t *bars, max = 1, span_ms;
	char t1[32], t2[32];
	double bw;

	bl = replay_blocks(r, &nbl);
	if (!st->first_ms) {
		fputs("<p>No stamped line was read: no timeline.</p>\n", o);
		return;
	}
	nmin = nmin ? nmin : 1;
	per = (nmin + MAX_BARS - 1) / MAX_BARS;
	nbars = (nmin + per - 1) / per;
	span_ms = (uint64_t)nbars * per * 60000;       /* the bars' scale, the blocks' too */
	bars = xcalloc(nbars, sizeof *bars);
	for (size_t i = 0; min && i < nmin; i++)
		bars[i / per] += min[i];
	for (size_t i = 0; i < nbars; i++)
		if (bars[i] > max)
			max = bars[i];
	bw = (double)SVG_W / (double)nbars;
	fmt_time(st->first_ms, t1);
	fmt_time(st->last_ms, t2);
	fprintf(o, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"role=\"img\" aria-label=\"events and blocks over time\">\n", SVG_W, SVG_H, SVG_W, SVG_H);
	fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" class=\"bg\"/>\n", SVG_W, PLOT_H);
	for (size_t i = 0; i < nbars; i++) {
		double h = (double)bars[i] * (PLOT_H - 10) / (double)max;
		char bt[32];
		if (!bars[i])
			continue;
		fmt_time(st->first_ms + (uint64_t)i * per * 60000, bt);
		fprintf(o, "<rect class=\"ev\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"><title>%s: %llu "
			"events</title></rect>\n", (double)i * bw, PLOT_H - h, bw > 1.5 ? bw - 0.5 : bw, h, bt,
			(unsigned long long)bars[i]);
	}
	if (nbl <= MAX_MARKS) {
		for (size_t i = 0; i < nbl; i++) {
			double x = (double)(bl[i].at_ms - st->first_ms) * SVG_W / (double)span_ms;
			char bt[32];
			fmt_time(bl[i].at_ms, bt);
			fprintf(o, "<line class=\"%s\" x1=\"%.2f\" y1=\"0\" x2=\"%.2f\" y2=\"%d\"><title>%s %s ",
				bl[i].extend ? "ext" : "blk", x, x, PLOT_H, bt, bl[i].extend ? "extend" : "block");
			block_who(o, &bl[i]);
			fputs(" (rule ", o);
			html_str(o, bl[i].rule);
			fputs(")</title></line>\n", o);
		}
	} else {
		/* too many to mark one by one: blocks per bar, as a strip on top */
		uint64_t *nb = xcalloc(nbars, sizeof *nb), bmax = 1;
		for (size_t i = 0; i < nbl; i++) {
			size_t k = (size_t)((bl[i].at_ms - st->first_ms) / 60000 / per);
			nb[k < nbars ? k : nbars - 1]++;
		}
		for (size_t i = 0; i < nbars; i++)
			if (nb[i] > bmax)
				bmax = nb[i];
		for (size_t i = 0; i < nbars; i++) {
			char bt[32];
			if (!nb[i])
				continue;
			fmt_time(st->first_ms + (uint64_t)i * per * 60000, bt);
			fprintf(o, "<rect class=\"bk\" x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"%.2f\"><title>%s: "
				"%llu blocks and extensions</title></rect>\n", (double)i * bw, bw > 1.5 ? bw - 0.5 : bw,
				2.0 + 28.0 * (double)nb[i] / (double)bmax, bt, (unsigned long long)nb[i]);
		}
		free(nb);
	}
	fprintf(o, "<text x=\"2\" y=\"%d\">%s</text>\n", PLOT_H + 18, t1);
	fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", SVG_W - 2, PLOT_H + 18, t2);
	fprintf(o, "<text x=\"2\" y=\"%d\">bars: events per %zu min (highest %llu); %s</text>\n", PLOT_H + 40, per,
		(unsigned long long)max, nbl <= MAX_MARKS ? "red lines: blocks, orange: extensions" :
		"red strip on top: blocks and extensions per bar");
	fputs("</svg>\n", o);
	free(bars);
}

static void blocks_table(FILE *o, const struct replay *r)
{
	size_t nbl;
	const struct replay_block *bl = replay_blocks(r, &nbl);

	fprintf(o, "<h2>Blocks that would have been made (%zu)</h2>\n", nbl);
	if (!nbl) {
		fputs("<p>None.</p>\n", o);
		return;
	}
	fputs("<table><tr><th>time (UTC, log time)</th><th>action</th><th>what</th><th>rule</th><th>reason</th>"
	      "<th>count</th><th>duration</th><th>block #</th><th>evidence</th></tr>\n", o);
	for (size_t i = 0; i < nbl && i < MAX_ROWS; i++) {
		const struct replay_block *b = &bl[i];
		char t[32], dur[32];
		fmt_time(b->at_ms, t);
		duration_format(b->dur_ms, dur, sizeof dur);
		fprintf(o, "<tr class=\"%s\"><td>%s</td><td>%s</td><td>", b->extend ? "ext" : !b->extend && b->times > 1 ?
			"esc" : "blk", t, b->extend ? "extend" : b->times > 1 ? "block (escalation)" : "block");
		block_who(o, b);
		fputs("</td><td>", o);
		html_str(o, b->rule);
		fputs("</td><td>", o);
		html_str(o, b->reason);
		fprintf(o, "</td><td>%u</td><td>%s</td><td>%u</td><td>", b->count, dur, b->times);
		if (b->nevidence) {
			fprintf(o, "<details><summary>%zu lines</summary><pre>", b->nevidence);
			for (size_t k = 0; k < b->nevidence; k++) {
				fmt_time(b->evidence[k].at_ms, t);
				fprintf(o, "%s  ", t);
				replay_html_text(o, b->evidence[k].text, b->evidence[k].len);
				fputc('\n', o);
			}
			fputs("</pre></details>", o);
		}
		fputs("</td></tr>\n", o);
	}
	fputs("</table>\n", o);
	if (nbl > MAX_ROWS)
		fprintf(o, "<p>The first %d blocks are listed; %zu more are in the timeline and in the text or "
			"--json output.</p>\n", MAX_ROWS, nbl - MAX_ROWS);
}

static void summary(FILE *o, const struct replay_stats *st, const struct replay_offender *top, size_t ntop)
{
	fputs("<h2>Summary</h2>\n<table>\n", o);
	fprintf(o, "<tr><th>lines read</th><td>%llu</td></tr>\n<tr><th>lines with events</th><td>%llu</td></tr>\n"
		"<tr><th>events</th><td>%llu</td></tr>\n<tr><th>cut lines (not matched)</th><td>%llu</td></tr>\n"
		"<tr><th>lines without a stamp</th><td>%llu (skipped before any stamp: %llu)</td></tr>\n"
		"<tr><th>stamped before an earlier line</th><td>%llu (read at the latest time seen)</td></tr>\n"
		"<tr><th>decisions on protected addresses (never blocked)</th><td>%llu</td></tr>\n</table>\n",
		(unsigned long long)st->lines, (unsigned long long)st->matched_lines, (unsigned long long)st->events,
		(unsigned long long)st->cut_lines, (unsigned long long)st->unstamped, (unsigned long long)st->skipped,
		(unsigned long long)st->backwards, (unsigned long long)st->refused);
	fputs("<h3>Rules</h3>\n<table><tr><th>rule</th><th>events counted</th><th>blocks</th><th>extensions</th></tr>\n",
	      o);
	for (size_t i = 0; i < st->nrules; i++) {
		fputs("<tr><td>", o);
		html_str(o, st->rules[i].name);
		fprintf(o, "</td><td>%llu</td><td>%llu</td><td>%llu</td></tr>\n", (unsigned long long)st->rules[i].counted,
			(unsigned long long)st->rules[i].blocks, (unsigned long long)st->rules[i].extensions);
	}
	fputs("</table>\n<h3>Events per kind</h3>\n<table>\n", o);
	for (int k = 0; k < EV_NKINDS; k++)
		if (st->kinds[k])
			fprintf(o, "<tr><td>%s</td><td>%llu</td></tr>\n", ev_kind_name((enum ev_kind)k),
				(unsigned long long)st->kinds[k]);
	fputs("</table>\n<h3>Events per service</h3>\n<table>\n", o);
	for (size_t i = 0; i < st->nservices; i++) {
		fputs("<tr><td>", o);
		html_str(o, st->services[i].name);
		fprintf(o, "</td><td>%llu</td></tr>\n", (unsigned long long)st->services[i].n);
	}
	fputs("</table>\n<h3>Top offenders</h3>\n<table><tr><th>address</th><th>events</th><th>blocks</th></tr>\n", o);
	for (size_t i = 0; i < ntop; i++) {
		fputs("<tr><td>", o);
		html_str(o, top[i].ip);
		fprintf(o, "</td><td>%llu</td><td>%llu</td></tr>\n", (unsigned long long)top[i].events,
			(unsigned long long)top[i].blocks);
	}
	fputs("</table>\n", o);
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
	"vertical-align:top}th{background:#f3f3f3}pre{margin:0;white-space:pre-wrap;word-break:break-all;"
	"font-size:12px}tr.esc td:nth-child(2){color:#b00;font-weight:bold}tr.ext td:nth-child(2){color:#b60}"
	"svg .bg{fill:#fafafa}svg .ev{fill:#4a7ab5}svg .blk{stroke:#d00;stroke-width:1.5}"
	"svg .ext{stroke:#f90;stroke-width:1}svg .bk{fill:#d00;opacity:.8}svg text{font-size:12px;fill:#444}";

struct fill {
	const struct replay *r;
	const struct replay_offender *top;
	size_t ntop;
};

static int fill(FILE *o, void *arg)
{
	struct fill *f = arg;
	struct replay_stats st;
	char t1[32] = "-", t2[32] = "-";

	replay_stats(f->r, &st);
	if (st.first_ms) {
		fmt_time(st.first_ms, t1);
		fmt_time(st.last_ms, t2);
	}
	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		"<title>mailscreen replay %s to %s</title>\n<style>%s</style></head><body>\n"
		"<h1>mailscreen replay</h1>\n<p>Log time %s to %s (UTC). Blocks that the configuration would have made; "
		"nothing was blocked.</p>\n<h2>Timeline</h2>\n", t1, t2, css, t1, t2);
	timeline(o, f->r, &st);
	blocks_table(o, f->r);
	summary(o, &st, f->top, f->ntop);
	fputs("</body></html>\n", o);
	return ferror(o) ? -1 : 0;
}

int replay_html_write(const struct replay *r, const char *path, const struct replay_offender *top, size_t ntop,
		      char *err, size_t errlen)
{
	struct fill f = { r, top, ntop };
	FILE *o = fopen(path, "we");
	int rc;

	if (!o)
		return errf(err, errlen, "cannot write '%s': %m", path);
	rc = fill(o, &f);
	if (fclose(o) != 0 || rc < 0)
		return errf(err, errlen, "cannot write '%s': %m", path);
	return 0;
}

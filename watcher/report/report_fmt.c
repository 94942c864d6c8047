// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * report_fmt - see report_fmt.h. One walk over the bucket per format; the
 * top lists show STATS_TOP keys, highest sure count (count - err) first
 * (stats sorted them), and show that count.
 */
#include "report_fmt.h"
#include "jsonw.h"
#include "replay_html.h"
#include "timefmt.h"

#include <string.h>

static void cat(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, "%s", s);
}

static void catf_u(char *buf, size_t len, const char *a, const char *name, unsigned long long v, const char *b)
{
	char t[STATS_KEYLEN + 64];

	snprintf(t, sizeof t, "%s%s %llu%s", a, name, v, b);
	cat(buf, len, t);
}

void report_fmt_line(const struct stats_bucket *b, char *buf, size_t len)
{
	char t[64];
	bool first = true;

	buf[0] = '\0';
	if (stats_bucket_empty(b)) {
		cat(buf, len, "nothing happened");
		return;
	}
	snprintf(t, sizeof t, "events %llu", (unsigned long long)stats_bucket_events(b));
	cat(buf, len, t);
	for (int k = 0; k < EV_NKINDS; k++)
		if (b->events[k]) {
			catf_u(buf, len, first ? " (" : ", ", ev_kind_name((enum ev_kind)k), b->events[k], "");
			first = false;
		}
	for (size_t i = 0; i < b->nservices; i++)
		catf_u(buf, len, i ? ", " : "; ", b->services[i].name, b->services[i].n, "");
	if (!first)
		cat(buf, len, ")");
	snprintf(t, sizeof t, ", blocks made %llu", (unsigned long long)b->made);
	cat(buf, len, t);
	first = true;
	for (size_t i = 0; i < b->norigins; i++)
		if (b->origins[i].n) {
			catf_u(buf, len, first ? " (" : ", ", b->origins[i].name, b->origins[i].n, "");
			first = false;
		}
	if (!first)
		cat(buf, len, ")");
	snprintf(t, sizeof t, ", lifted %llu, exempt %llu, dropped %llu packets", (unsigned long long)b->lifted,
		 (unsigned long long)b->exempt, (unsigned long long)b->drops);
	cat(buf, len, t);
	/* keys are printable already (stats.h) */
	for (size_t i = 0; i < b->naddrs && i < 5; i++) {
		char q[STATS_KEYLEN + 64];
		snprintf(q, sizeof q, "%s%s (%llu)", i ? ", " : ", top addresses ", b->addrs[i].key,
			 (unsigned long long)(b->addrs[i].count - b->addrs[i].err));
		cat(buf, len, q);
	}
	for (size_t i = 0; i < b->naccounts && i < 5; i++) {
		char q[STATS_KEYLEN + 64];
		snprintf(q, sizeof q, "%s'%s' (%llu)", i ? ", " : ", top accounts ", b->accounts[i].key,
			 (unsigned long long)(b->accounts[i].count - b->accounts[i].err));
		cat(buf, len, q);
	}
}

/* names and keys are printable already (stats.h) */
static void text_row(FILE *o, const char *name, unsigned long long v)
{
	fprintf(o, "  %-40s %llu\n", name, v);
}

void report_fmt_text(FILE *o, const struct stats_bucket *b, bool utc)
{
	char from[TIMEFMT_LEN], to[TIMEFMT_LEN];

	timefmt_format((int64_t)(b->start_ms / 1000), utc, from);
	timefmt_format((int64_t)(b->end_ms / 1000), utc, to);
	fprintf(o, "mailscreen report from %s to %s\n\n", from, to);
	fprintf(o, "events: %llu\n", (unsigned long long)stats_bucket_events(b));
	for (int k = 0; k < EV_NKINDS; k++)
		if (b->events[k])
			text_row(o, ev_kind_name((enum ev_kind)k), b->events[k]);
	if (b->nservices) {
		fprintf(o, "events by service:\n");
		for (size_t i = 0; i < b->nservices; i++)
			text_row(o, b->services[i].name, b->services[i].n);
	}
	fprintf(o, "blocks made: %llu, lifted: %llu\n", (unsigned long long)b->made, (unsigned long long)b->lifted);
	for (size_t i = 0; i < b->norigins; i++) {
		fprintf(o, "  %-40s made %llu, lifted %llu\n", b->origins[i].name, (unsigned long long)b->origins[i].n,
			(unsigned long long)b->origins[i].m);
	}
	fprintf(o, "allow-list (exempt) hits: %llu\n", (unsigned long long)b->exempt);
	fprintf(o, "packets dropped by the kernel for blocks: %llu\n", (unsigned long long)b->drops);
	fprintf(o, "top addresses:%s\n", b->naddrs ? "" : " none");
	for (size_t i = 0; i < b->naddrs && i < STATS_TOP; i++)
		text_row(o, b->addrs[i].key, b->addrs[i].count - b->addrs[i].err);
	fprintf(o, "top accounts:%s\n", b->naccounts ? "" : " none");
	for (size_t i = 0; i < b->naccounts && i < STATS_TOP; i++)
		text_row(o, b->accounts[i].key, b->accounts[i].count - b->accounts[i].err);
}

static void json_names(FILE *o, const char *key, const struct stats_name *v, size_t n, bool origins)
{
	fprintf(o, ", \"%s\": {", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", o);
		json_str(o, v[i].name, strlen(v[i].name));
		if (origins)
			fprintf(o, ": {\"made\": %llu, \"lifted\": %llu}", (unsigned long long)v[i].n,
				(unsigned long long)v[i].m);
		else
			fprintf(o, ": %llu", (unsigned long long)v[i].n);
	}
	fputs("}", o);
}

static void json_top(FILE *o, const char *key, const struct stats_top *v, size_t n)
{
	fprintf(o, ", \"%s\": [", key);
	for (size_t i = 0; i < n && i < STATS_TOP; i++) {
		fputs(i ? ", " : "", o);
		fputs("{\"key\": ", o);
		json_str(o, v[i].key, strlen(v[i].key));
		fprintf(o, ", \"count\": %llu}", (unsigned long long)(v[i].count - v[i].err));
	}
	fputs("]", o);
}

void report_fmt_json(FILE *o, const struct stats_bucket *b)
{
	char from[TIMEFMT_LEN], to[TIMEFMT_LEN];

	timefmt_iso((int64_t)(b->start_ms / 1000), from);
	timefmt_iso((int64_t)(b->end_ms / 1000), to);
	fprintf(o, "{\"from\": \"%s\", \"to\": \"%s\", \"events\": {", from, to);
	for (int k = 0; k < EV_NKINDS; k++)
		fprintf(o, "%s\"%s\": %llu", k ? ", " : "", ev_kind_name((enum ev_kind)k),
			(unsigned long long)b->events[k]);
	fputs("}", o);
	json_names(o, "services", b->services, b->nservices, false);
	fprintf(o, ", \"blocks_made\": %llu, \"blocks_lifted\": %llu", (unsigned long long)b->made,
		(unsigned long long)b->lifted);
	json_names(o, "origins", b->origins, b->norigins, true);
	fprintf(o, ", \"exempt\": %llu, \"dropped_packets\": %llu", (unsigned long long)b->exempt,
		(unsigned long long)b->drops);
	json_top(o, "top_addresses", b->addrs, b->naddrs);
	json_top(o, "top_accounts", b->accounts, b->naccounts);
	fputs("}\n", o);
}

/* A name or key of the bucket, printable already (stats.h): its HTML
 * metacharacters as entities and nothing escaped again ("\x0a" as the
 * text and JSON reports show it, not "\x5cx0a"); anything else (never
 * made by stats) made printable first. */
static void html_text(FILE *o, const char *s)
{
	size_t n = strlen(s);

	if (!text_printable(s, n, NULL)) {
		replay_html_text(o, s, n);
		return;
	}
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&#39;", o); break;
		default: fputc(*s, o);
		}
}

static void html_row(FILE *o, const char *name, unsigned long long v)
{
	fputs("<tr><td>", o);
	html_text(o, name);
	fprintf(o, "</td><td class=\"n\">%llu</td></tr>\n", v);
}

void report_fmt_html(FILE *o, const struct stats_bucket *b)
{
	char from[TIMEFMT_LEN], to[TIMEFMT_LEN];

	timefmt_format((int64_t)(b->start_ms / 1000), true, from);
	timefmt_format((int64_t)(b->end_ms / 1000), true, to);
	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		"<title>mailscreen report %s to %s</title>\n<style>body{font-family:sans-serif;margin:2em}"
		"table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:2px 8px}"
		"td.n{text-align:right}</style></head><body>\n<h1>mailscreen report</h1>\n<p>From %s to %s.</p>\n",
		from, to, from, to);
	fprintf(o, "<h2>Events: %llu</h2>\n<table><tr><th>kind</th><th>events</th></tr>\n",
		(unsigned long long)stats_bucket_events(b));
	for (int k = 0; k < EV_NKINDS; k++)
		if (b->events[k])
			html_row(o, ev_kind_name((enum ev_kind)k), b->events[k]);
	fputs("</table>\n<table><tr><th>service</th><th>events</th></tr>\n", o);
	for (size_t i = 0; i < b->nservices; i++)
		html_row(o, b->services[i].name, b->services[i].n);
	fprintf(o, "</table>\n<h2>Blocks made: %llu, lifted: %llu</h2>\n<table><tr><th>origin</th><th>made</th>"
		"<th>lifted</th></tr>\n", (unsigned long long)b->made, (unsigned long long)b->lifted);
	for (size_t i = 0; i < b->norigins; i++) {
		fputs("<tr><td>", o);
		html_text(o, b->origins[i].name);
		fprintf(o, "</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td></tr>\n",
			(unsigned long long)b->origins[i].n, (unsigned long long)b->origins[i].m);
	}
	fprintf(o, "</table>\n<h2>Allow-list (exempt) hits: %llu</h2>\n<h2>Packets dropped by the kernel for blocks: "
		"%llu</h2>\n<h2>Top addresses</h2>\n<table><tr><th>address</th><th>events</th></tr>\n",
		(unsigned long long)b->exempt, (unsigned long long)b->drops);
	for (size_t i = 0; i < b->naddrs && i < STATS_TOP; i++)
		html_row(o, b->addrs[i].key, b->addrs[i].count - b->addrs[i].err);
	fputs("</table>\n<h2>Top accounts</h2>\n<table><tr><th>account</th><th>events</th></tr>\n", o);
	for (size_t i = 0; i < b->naccounts && i < STATS_TOP; i++)
		html_row(o, b->accounts[i].key, b->accounts[i].count - b->accounts[i].err);
	fputs("</table>\n</body></html>\n", o);
}

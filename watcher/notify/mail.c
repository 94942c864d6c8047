// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mail - see mail.h. Every header value goes through mail_header_text and
 * every body line through mail_write_line, so no caller can break a line
 * where it should not.
 */
#include "mail.h"
#include "duration.h"
#include "jsonw.h"
#include "timefmt.h"
#include "xalloc.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mail_header_text(char *dst, size_t len, const char *s)
{
	/* text_sanitize: printable UTF-8 as it is, every control byte
	 * (CR, LF, TAB included) and every byte that is not UTF-8 as \xNN */
	text_sanitize(dst, len, s, strlen(s));
}

/* RFC 5322 2.1.1: a line holds at most 998 characters; an escaped value
 * (a hostile account name grows fourfold) is cut to fit "NAME: " */
#define MAIL_HEADER_LINE_MAX 998

static void header(FILE *o, const char *name, const char *value)
{
	char v[MAIL_HEADER_LINE_MAX + 1];
	size_t room = MAIL_HEADER_LINE_MAX - strlen(name) - 2;

	mail_header_text(v, room + 1, value);
	fprintf(o, "%s: %s\n", name, v);
}

void mail_write_head(FILE *o, const struct mail_head *h)
{
	char date[64], id[320], host[256];
	time_t t = (time_t)(h->now_ms / 1000);
	struct tm tm;
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
					      "Oct", "Nov", "Dec" };
	long off;

	header(o, "From", h->from);
	fputs("To: ", o);
	for (size_t i = 0; i < h->nto; i++) {
		char a[512];
		mail_header_text(a, sizeof a, h->to[i]);
		fprintf(o, "%s%s", i ? ",\n " : "", a);
	}
	fputs("\n", o);
	header(o, "Subject", h->subject);
	/* RFC 5322 date, English names whatever the locale */
	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(date, sizeof date, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
		 labs(off) / 60, labs(off) % 60);
	header(o, "Date", date);
	/* a host name is letters, digits, dots and dashes: anything else out */
	snprintf(host, sizeof host, "%s", h->host && *h->host ? h->host : "localhost");
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '-'))
			*p = '-';
	snprintf(id, sizeof id, "<%llu.%lu.mailscreen@%s>", (unsigned long long)h->now_ms, h->serial, host);
	header(o, "Message-ID", id);
	fputs("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
	      "Auto-Submitted: auto-generated\n\n", o);
}

void mail_write_line(FILE *o, const char *s, size_t n)
{
	char *t = xmalloc(MAIL_LINE_MAX + 1);

	text_sanitize(t, MAIL_LINE_MAX + 1, s, n);
	fprintf(o, "%s\n", t);
	free(t);
}

void mail_write_blocks(FILE *o, const struct mail_block *v, size_t n, uint64_t more, bool utc)
{
	char line[2048];
	size_t ndry = 0;

	for (size_t i = 0; i < n; i++)
		ndry += v[i].dry_run;
	if (ndry) {
		snprintf(line, sizeof line, ndry == n ? "(dry run: nothing was blocked)" :
			 "(dry run for those that \"would be blocked\": they were not blocked)");
		mail_write_line(o, line, strlen(line));
		fputs("\n", o);
	}
	for (size_t i = 0; i < n; i++) {
		char when[TIMEFMT_LEN], dur[32], what[sizeof v[i].what * 4 + 16];
		const struct mail_block *b = &v[i];
		timefmt_format((int64_t)(b->at_ms / 1000), utc, when);
		duration_format(b->dur_ms, dur, sizeof dur);
		/* made printable once, with the whole line */
		snprintf(what, sizeof what, "%s%s%s", b->account ? "account '" : "", b->what, b->account ? "'" : "");
		snprintf(line, sizeof line, "%s  %s %s for %s by %s%s", when, what,
			 b->dry_run ? "would be blocked" : "blocked", dur, b->origin, b->dry_run ? " (dry run)" : "");
		mail_write_line(o, line, strlen(line));
		if (*b->reason) {
			snprintf(line, sizeof line, "    %s", b->reason);
			mail_write_line(o, line, strlen(line));
		}
	}
	if (more) {
		snprintf(line, sizeof line, "%llu more blocks not listed (mailscreen list blocks, mailscreen history).",
			 (unsigned long long)more);
		fputs("\n", o);
		mail_write_line(o, line, strlen(line));
	}
}

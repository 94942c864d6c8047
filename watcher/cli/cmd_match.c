// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_match - "mailscreen match": the filter tester. Reads a log file (or
 * stdin) with the same header parser and filters as the daemon and prints
 * every event, as JSON lines or a table, with a summary on stderr. It
 * never counts, blocks or touches the network. --missed prints the lines
 * no filter made an event of instead (optionally only those a named
 * filter's program pattern takes); --regex tries one regex without a
 * filter file; --explain shows, per line, the header the parser found and
 * what each filter tried made of it; --journal reads the systemd journal
 * through the daemon's reader instead of a file. Warns filter authors
 * about fail2ban macros in regexes and filters no line of the input ran.
 */
#include "cmd.h"
#include "config.h"
#include "duration.h"
#include "dedup.h"
#include "filter.h"
#include "journal.h"
#include "jsonw.h"
#include "line.h"
#include "linesplit.h"
#include "log.h"
#include "logtime.h"
#include "loop.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum fmt { FMT_TABLE, FMT_JSON, FMT_QUIET };

enum { CHUNK = 64 * 1024 };     /* one read() */

#define EXPLAIN_DEFAULT 1000    /* lines --explain explains, unless --explain=N */
#define TAGS_MAX        1024    /* distinct program tags counted; more count as "(other)" */
#define TAGS_SLOTS      2048
#define TAGS_SHOWN      8       /* in "never ran" warnings */

/* One filter's explanation of the current line, kept until the line is
 * known to be printed (--missed --explain prints only the missed). */
struct xrec {
	struct filter_explain fx;
	enum ev_kind kind;
};

struct tagcount {
	char *tag;              /* "-" for untagged lines */
	size_t len;
	uint64_t n;
};

struct mstate {
	enum fmt fmt;
	uint64_t lineno, events, matched_lines;
	bool line_matched;
	FILE *out;
	struct matcher *m;
	size_t max_line;
	time_t ref;                     /* for stamps without a year */
	struct linesplit_stats split;   /* cut_lines: lines cut at max_line */
	bool missed;                    /* print the lines without events */
	const struct filter *missed_for;        /* ... only those this filter takes */
	bool explain;
	uint64_t explain_max, explained;
	struct xrec *x;
	size_t nx, ax;
	enum logline_format format;     /* --format: lines of another are counted */
	uint64_t not_format;
	struct tagcount *tags;          /* TAGS_SLOTS slots, open addressing */
	size_t ntags;
	uint64_t other_tags;
	struct loop *loop;              /* --journal */
	struct jsource *journal;
	struct dedup *dedup;            /* NULL with --per-line */
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen match [-c FILE | --filter FILE ... | --regex RE [--program TAG] [--event KIND]]\n"
		"                        [--missed[=FILTER]] [--explain[=N]] [--json | --quiet] [--max-line N]\n"
		"                        [--format FORM] [--per-line]\n"
		"                        [FILE|- | --journal UNIT... [--journal-path DIR] [--since WHEN]]\n"
		"\n"
		"Run filters over a log file (default: standard input) and print one line per event.\n"
		"\n"
		"  -c, --config FILE  use the filters of this configuration\n"
		"  -f, --filter FILE  load this filter file (repeatable); overrides -c\n"
		"  -r, --regex RE     try this one regex instead of filter files, with the checks a\n"
		"                     filter file's regex gets (an (?<ip>) or (?<user>) group)\n"
		"      --program TAG  with --regex: only lines with this program tag (glob; - = untagged)\n"
		"      --event KIND   with --regex: the event kind (default auth-fail)\n"
		"  -m, --missed[=FILTER]  print the lines no filter made an event of instead of the\n"
		"                     events; with FILTER only those whose program tag it takes\n"
		"  -j, --json         one JSON object per event: line, time, filter, event, ip, user,\n"
		"                     session, count, dup, service, only_if_counted (absent fields\n"
		"                     omitted); dup: attempts of the line an earlier line counted\n"
		"                     with --missed {\"line\": N, \"missed\": \"the line\"}\n"
		"  -x, --explain[=N]  for each line (with --missed: each missed line), the header the parser\n"
		"                     found and what each filter whose program takes the line made of it:\n"
		"                     which regex matched (and its groups), or that none did, an ignore\n"
		"                     that cancelled the event, a match/depth limit hit; the first N\n"
		"                     lines so (default 1000, 0 = all), the rest only counted\n"
		"      --format FORM  the input's format: auto (default), syslog, postlog, dovecot, multilog;\n"
		"                     lines of another are counted in the summary (and matched all the same)\n"
		"      --journal UNIT read the systemd journal instead of a file: units or FIELD=VALUE\n"
		"                     matches as a journal source takes them (repeatable, or space-separated)\n"
		"      --journal-path DIR  with --journal: this journal directory or file\n"
		"      --since WHEN   with --journal: entries from WHEN on (a duration ago, 2h, or\n"
		"                     2026-11-22T10:00:00Z); default: the whole journal\n"
		"      --per-line     count each line on its own: no pairing of the lines that show the\n"
		"                     same attempt or connection (as the daemon does)\n"
		"  -q, --quiet        print only the summary\n"
		"      --max-line N   lines longer than N bytes are cut: counted, never matched\n"
		"                     (default 16384)\n"
		"  -h, --help         this help\n"
		"\n"
		"A summary (lines read, events per filter and regex, elapsed time) goes to stderr, with\n"
		"warnings: a regex holding a fail2ban macro (<HOST>), a filter no line of the input ran.\n");
}

static void print_event(void *arg, const struct event *ev0, const struct logline *ll)
{
	struct mstate *st = arg;
	char ip[ADDR_STRLEN] = "-", when[32] = "-";
	FILE *o = st->out;
	struct event evc = *ev0, *ev = &evc;

	/* as the daemon counts: an attempt shown by an earlier line counts there */
	if (st->dedup)
		dedup_event(st->dedup, ev, ev->time ? ev->time : st->ref);
	st->events++;
	st->line_matched = true;
	if (st->fmt == FMT_QUIET || st->missed || st->explain)
		return;
	if (ev->has_ip)
		addr_format(&ev->ip, ip);
	if (ev->time)
		logtime_format_utc(ev->time, when);
	if (st->fmt == FMT_JSON) {
		fprintf(o, "{\"line\": %llu", (unsigned long long)st->lineno);
		if (ev->time)
			fprintf(o, ", \"time\": \"%s\"", when);
		fprintf(o, ", \"filter\": ");
		json_str(o, ev->filter_name, strlen(ev->filter_name));
		fprintf(o, ", \"event\": \"%s\"", ev_kind_name(ev->kind));
		if (ev->has_ip)
			fprintf(o, ", \"ip\": \"%s\"", ip);
		if (ev->user) {
			fprintf(o, ", \"user\": ");
			json_str(o, ev->user, ev->userlen);
		}
		if (ev->session) {
			fprintf(o, ", \"session\": ");
			json_str(o, ev->session, ev->sessionlen);
		}
		fprintf(o, ", \"count\": %lu", ev->count);
		if (ev->dup)
			fprintf(o, ", \"dup\": %lu", ev->dup);
		if (ev->service) {
			fprintf(o, ", \"service\": ");
			json_str(o, ev->service, ev->servicelen);
		}
		if (ev->only_if_counted)
			fputs(", \"only_if_counted\": true", o);
		fputs("}\n", o);
	} else {
		char user[80] = "-", svc[40] = "-";
		if (ev->user)
			text_sanitize(user, sizeof user, ev->user, ev->userlen);
		if (ev->service)
			text_sanitize(svc, sizeof svc, ev->service, ev->servicelen);
		fprintf(o, "%6llu  %-20s  %-10s  %-39s  %-11s %-20s %s", (unsigned long long)st->lineno, when,
			ev_kind_name(ev->kind), ip, svc, ev->filter_name, user);
		if (ev->count != 1 || ev->dup)
			fprintf(o, " count=%lu", ev->count);
		if (ev->dup)
			fprintf(o, " (%lu counted before)", ev->dup);
		if (ev->only_if_counted)
			fputs(" (only if counted)", o);
		fputc('\n', o);
	}
	(void)ll;
}

/* A line no filter made an event of. The line is the attacker's: escaped
 * in both forms. */
static void print_missed(struct mstate *st, const struct logline *ll)
{
	FILE *o = st->out;

	if (st->fmt == FMT_QUIET || (st->missed_for && !filter_applies(st->missed_for, ll)))
		return;
	if (st->fmt == FMT_JSON) {
		fprintf(o, "{\"line\": %llu, \"missed\": ", (unsigned long long)st->lineno);
		json_str(o, ll->raw, ll->rawlen);
		fputs("}\n", o);
	} else {
		size_t cap = ll->rawlen * 4 + 16;
		char *txt = xmalloc(cap);
		text_sanitize(txt, cap, ll->raw, ll->rawlen);
		fprintf(o, "%6llu  %s\n", (unsigned long long)st->lineno, txt);
		free(txt);
	}
}

/* ---- --explain ---- */

static void explain_collect(void *arg, const struct filter_explain *fx, const struct logline *ll)
{
	struct mstate *st = arg;

	XGROW(st->x, st->ax, st->nx + 1);
	st->x[st->nx].fx = *fx;
	st->x[st->nx].kind = fx->ev ? fx->ev->kind : EV_CONNECT;
	st->x[st->nx].fx.ev = NULL;     /* gone when matcher_explain returns */
	st->nx++;
	(void)ll;
}

/* Hostile text for the table: escaped, at most cap - 1 bytes of it. */
static void txt(FILE *o, const char *s, size_t n)
{
	size_t cap = n * 4 + 16;
	char *t = xmalloc(cap);

	text_sanitize(t, cap, s, n);
	fputs(t, o);
	free(t);
}

/* The stamp as read: what the header parser consumed, without the space
 * after it ("" for the journal's entries and lines without a stamp). */
static size_t stamp_len(const struct mstate *st, const struct logline *ll)
{
	int64_t sec;
	uint32_t usec;
	enum logtime_form form;
	size_t p;

	if (ll->form == LOGTIME_JOURNAL || ll->form == LOGTIME_NONE)
		return 0;
	p = logtime_parse_form(ll->raw, ll->rawlen, st->ref, &sec, &usec, &form);
	while (p && ll->raw[p - 1] == ' ')
		p--;
	return p;
}

static void utc_time(const struct logline *ll, char buf[48])
{
	char t[32];

	logtime_format_utc(ll->time, t);
	if (ll->usec && strlen(t) > 1)
		snprintf(buf, 48, "%.*s.%06uZ", (int)strlen(t) - 1, t, (unsigned)ll->usec);
	else
		snprintf(buf, 48, "%s", t);
}

/* The file a filter came from, without its directory: regex lines are
 * lines of it. */
static const char *file_of(const struct filter *f)
{
	const char *p = filter_path(f), *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

static const char *kind_of(const struct xrec *x)
{
	return x->fx.outcome == FILTER_EVENT ? ev_kind_name(x->kind) : NULL;
}

static void explain_json(struct mstate *st, const struct logline *ll)
{
	FILE *o = st->out;
	size_t sl = stamp_len(st, ll);
	char when[48];

	fprintf(o, "{\"line\": %llu, \"raw\": ", (unsigned long long)st->lineno);
	json_str(o, ll->raw, ll->rawlen);
	fprintf(o, ", \"header\": {\"form\": \"%s\"", logtime_form_name(ll->form));
	if (sl) {
		fputs(", \"stamp\": ", o);
		json_str(o, ll->raw, sl);
	}
	if (ll->time) {
		utc_time(ll, when);
		fprintf(o, ", \"time\": \"%s\"", when);
	}
	if (ll->host) {
		fputs(", \"host\": ", o);
		json_str(o, ll->host, ll->hostlen);
	}
	if (ll->prog) {
		fputs(", \"program\": ", o);
		json_str(o, ll->prog, ll->proglen);
	}
	if (ll->pid >= 0)
		fprintf(o, ", \"pid\": %ld", ll->pid);
	if (st->format != LOGLINE_AUTO && !logline_fits(st->format, ll))
		fprintf(o, ", \"not_format\": \"%s\"", logline_format_name(st->format));
	fputs("}", o);
	if (ll->cut)
		fputs(", \"cut\": true", o);
	fputs(", \"filters\": [", o);
	for (size_t i = 0; i < st->nx; i++) {
		const struct filter_explain *fx = &st->x[i].fx;
		fprintf(o, "%s{\"filter\": ", i ? ", " : "");
		json_str(o, filter_name(fx->filter), strlen(filter_name(fx->filter)));
		fputs(", \"file\": ", o);
		json_str(o, file_of(fx->filter), strlen(file_of(fx->filter)));
		fprintf(o, ", \"outcome\": \"%s\"", filter_outcome_name(fx->outcome));
		if (fx->regex >= 0)
			fprintf(o, ", \"regex\": %d, \"regex_line\": %d", fx->regex + 1, fx->regex_line);
		else
			fprintf(o, ", \"regexes\": %zu", fx->nregex);
		if (fx->regex_file) {
			fputs(", \"regex_file\": ", o);
			json_str(o, fx->regex_file, strlen(fx->regex_file));
		}
		if (fx->ignore >= 0)
			fprintf(o, ", \"ignore\": %d, \"ignore_line\": %d", fx->ignore + 1, fx->ignore_line);
		if (fx->ignore_file) {
			fputs(", \"ignore_file\": ", o);
			json_str(o, fx->ignore_file, strlen(fx->ignore_file));
		}
		if (kind_of(&st->x[i]))
			fprintf(o, ", \"event\": \"%s\"", kind_of(&st->x[i]));
		if (fx->ngroups) {
			fputs(", \"groups\": {", o);
			for (size_t g = 0; g < fx->ngroups; g++) {
				char num[16];
				const char *name = fx->groups[g].name;
				if (!name) {
					snprintf(num, sizeof num, "%d", fx->groups[g].num);
					name = num;
				}
				fprintf(o, "%s\"%s\": ", g ? ", " : "", name);
				json_str(o, fx->groups[g].p, fx->groups[g].len);
			}
			fputc('}', o);
		}
		fputc('}', o);
	}
	fputs("]}\n", o);
}

/* "line N" of the filter's file, or "FILE:N" of a local override */
static void where(char *buf, size_t len, const char *file, int line)
{
	if (file)
		snprintf(buf, len, "%s:%d", file, line);
	else
		snprintf(buf, len, "line %d", line);
}

static void explain_text(struct mstate *st, const struct logline *ll)
{
	FILE *o = st->out;
	size_t sl = stamp_len(st, ll);
	char when[48] = "-";

	fprintf(o, "%6llu  ", (unsigned long long)st->lineno);
	txt(o, ll->raw, ll->rawlen);
	fprintf(o, "\n        header: %s", logtime_form_name(ll->form));
	if (sl) {
		fputs(" '", o);
		txt(o, ll->raw, sl);
		fputc('\'', o);
	}
	if (ll->time)
		utc_time(ll, when);
	fprintf(o, " = %s, host ", when);
	if (ll->host)
		txt(o, ll->host, ll->hostlen);
	else
		fputc('-', o);
	fputs(", program ", o);
	if (ll->prog)
		txt(o, ll->prog, ll->proglen);
	else
		fputc('-', o);
	if (ll->pid >= 0)
		fprintf(o, ", pid %ld", ll->pid);
	else
		fputs(", pid -", o);
	if (st->format != LOGLINE_AUTO && !logline_fits(st->format, ll))
		fprintf(o, " (not %s format)", logline_format_name(st->format));
	fputc('\n', o);
	if (ll->cut) {
		fprintf(o, "        cut at --max-line: no filter tries it\n");
		return;
	}
	if (!st->nx) {
		fputs("        no filter takes ", o);
		if (ll->prog) {
			fputs("program '", o);
			txt(o, ll->prog, ll->proglen);
			fputs("'\n", o);
		} else {
			fputs("untagged lines\n", o);
		}
	}
	for (size_t i = 0; i < st->nx; i++) {
		const struct filter_explain *fx = &st->x[i].fx;
		char rw[4200], iw[4200];
		where(rw, sizeof rw, fx->regex_file, fx->regex_line);
		where(iw, sizeof iw, fx->ignore_file, fx->ignore_line);
		fprintf(o, "        %s (%s): ", filter_name(fx->filter), file_of(fx->filter));
		switch (fx->outcome) {
		case FILTER_EVENT:
			fprintf(o, "regex %d (%s) matched: event %s", fx->regex + 1, rw,
				kind_of(&st->x[i]));
			break;
		case FILTER_NO_MATCH:
			fprintf(o, "no regex matched (%zu tried)", fx->nregex);
			break;
		case FILTER_IGNORED:
			fprintf(o, "regex %d (%s) matched, ignore %d (%s) cancelled the event",
				fx->regex + 1, rw, fx->ignore + 1, iw);
			break;
		case FILTER_LIMIT:
			if (fx->ignore >= 0)
				fprintf(o, "ignore %d (%s) hit the match/depth limit: no event", fx->ignore + 1,
					iw);
			else
				fprintf(o, "regex %d (%s) hit the match/depth limit: counted as not matched",
					fx->regex + 1, rw);
			break;
		case FILTER_BAD_IP:
			fprintf(o, "regex %d (%s) matched, but (?<ip>) is no address: no event",
				fx->regex + 1, rw);
			break;
		case FILTER_ZERO_COUNT:
			fprintf(o, "regex %d (%s) matched, but (?<count>) is 0 or no number: no event",
				fx->regex + 1, rw);
			break;
		}
		for (size_t g = 0; g < fx->ngroups; g++) {
			if (fx->groups[g].name)
				fprintf(o, "%s%s=", g ? " " : "; ", fx->groups[g].name);
			else
				fprintf(o, "%s%d=", g ? " " : "; ", fx->groups[g].num);
			txt(o, fx->groups[g].p, fx->groups[g].len);
		}
		fputc('\n', o);
	}
}

/* ---- the input's program tags ---- */

/* Cheap: this runs on every line, and collisions only cost a probe. */
static uint32_t tag_hash(const char *p, size_t n)
{
	return (uint32_t)n * 31u + (unsigned char)p[0] + (unsigned char)p[n - 1] * 7u +
	       (unsigned char)p[n / 2] * 13u + (unsigned char)p[n * 3 / 4] * 17u;
}

static void count_tag(struct mstate *st, const struct logline *ll)
{
	const char *p = ll->prog ? ll->prog : "-";
	size_t n = ll->prog ? ll->proglen : 1;
	uint32_t h = tag_hash(p, n);

	for (size_t i = 0; i < TAGS_SLOTS; i++) {
		struct tagcount *t = &st->tags[(h + i) % TAGS_SLOTS];
		if (!t->tag) {
			if (st->ntags >= TAGS_MAX)
				break;
			t->tag = xmalloc(n + 1);
			memcpy(t->tag, p, n);
			t->tag[n] = '\0';
			t->len = n;
			st->ntags++;
		} else if (t->len != n || memcmp(t->tag, p, n) != 0) {
			continue;
		}
		t->n++;
		return;
	}
	st->other_tags++;
}

static int by_count(const void *a, const void *b)
{
	const struct tagcount *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->tag, y->tag);
}

/* "file:line: warning: filter X never ran: ..." for each filter that no
 * line of a non-empty input was given to. */
static void warn_never_ran(struct filterset *fs, struct mstate *st)
{
	struct tagcount *v;
	size_t n = 0;

	if (!st->lineno)
		return;
	v = xcalloc(st->ntags ? st->ntags : 1, sizeof *v);
	for (size_t i = 0; i < TAGS_SLOTS; i++)
		if (st->tags[i].tag)
			v[n++] = st->tags[i];
	qsort(v, n, sizeof *v, by_count);
	for (size_t i = 0; i < filterset_nfilters(fs); i++) {
		struct filter_stats fst;
		const struct filter *f;
		const char *const *progs;
		size_t np;
		filterset_stats(fs, i, &fst);
		if (fst.tried || !(f = filterset_find(fs, fst.name)))
			continue;
		np = filter_programs(f, &progs);
		if (!np) {      /* it takes every line: all were cut */
			fprintf(stderr, "%s:%d: warning: filter %s never ran: every line was cut at --max-line\n",
				filter_path(f), filter_lineno(f), fst.name);
			continue;
		}
		fprintf(stderr, "%s:%d: warning: filter %s never ran: no line with program tag ", filter_path(f),
			filter_lineno(f), fst.name);
		for (size_t k = 0; k < np; k++)
			fprintf(stderr, "%s%s", k ? ", " : "", strcmp(progs[k], "-") ? progs[k] : "- (untagged)");
		fputs("; the input's tags are: ", stderr);
		for (size_t k = 0; k < n && k < TAGS_SHOWN; k++) {
			char t[4 * 64 + 1];
			text_sanitize(t, sizeof t, v[k].tag, strlen(v[k].tag));
			fprintf(stderr, "%s%s (%llu)", k ? ", " : "", t, (unsigned long long)v[k].n);
		}
		if (n > TAGS_SHOWN)
			fprintf(stderr, ", and %zu more", n - TAGS_SHOWN);
		fputc('\n', stderr);
	}
	free(v);
}

/* ---- lines ---- */

/* One parsed line from a file or the journal: run the filters over it. */
static void handle(struct mstate *st, const struct logline *ll)
{
	bool explain = st->explain && st->explained < st->explain_max;

	st->lineno++;
	st->line_matched = false;
	count_tag(st, ll);
	if (st->format != LOGLINE_AUTO && !logline_fits(st->format, ll))
		st->not_format++;
	if (!explain) {
		matcher_run(st->m, ll, print_event, st);
	} else {
		st->nx = 0;
		matcher_explain(st->m, ll, print_event, explain_collect, st);
		if (!st->missed || !st->line_matched) {
			if (!st->missed_for || filter_applies(st->missed_for, ll)) {
				st->explained++;
				if (st->fmt == FMT_JSON)
					explain_json(st, ll);
				else if (st->fmt == FMT_TABLE)
					explain_text(st, ll);
			}
		}
	}
	if (st->line_matched)
		st->matched_lines++;
	else if (st->missed && !st->explain)
		print_missed(st, ll);
}

/* One line from the splitter: parse it, run the filters over it. */
static bool match_line(void *arg, const char *line, size_t len, bool cut)
{
	struct mstate *st = arg;
	struct logline ll;

	logline_parse(&ll, line, len, st->ref);
	/* as in the daemon: a cut line's end is not the server's */
	ll.cut = cut;
	if (cut && st->split.cut_lines == 1)
		fprintf(stderr, "mailscreen match: line %llu is longer than %zu bytes (--max-line): "
			"counted as cut and not matched, as is every such line\n",
			(unsigned long long)st->lineno + 1, st->max_line);
	handle(st, &ll);
	return true;
}

/* ---- --journal ---- */

static void journal_line(void *cookie, const struct logline *ll)
{
	handle(cookie, ll);
}

/* After each loop turn: stop once a read has reached the journal's end
 * (every turn reads: the first is the reader's scheduled drain). */
static void journal_idle(struct loop *l, void *arg)
{
	struct mstate *st = arg;
	struct journal_stats js;

	journal_get_stats(st->journal, &js);
	if (!js.behind)
		loop_stop(l);
}

/* --since: a duration ago ("2h") or a stamp the line parser reads. */
static int parse_since(const char *s, uint64_t *usec, char *err, size_t errlen)
{
	uint64_t ms;
	int64_t sec;
	uint32_t us;
	char e2[ERR_LEN];
	size_t n = strlen(s);

	if (duration_parse(s, &ms, 0, false, e2, sizeof e2) == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		*usec = ms * 1000 < now ? now - ms * 1000 : 1;
		return 0;
	}
	if (logtime_parse(s, n, time(NULL), &sec, &us) == n && sec > 0) {
		*usec = (uint64_t)sec * 1000000u + us;
		return 0;
	}
	return errf(err, errlen, "--since '%s': give a duration ago (30m, 2h, 7d) or a time "
		    "(2026-11-22T10:00:00Z, '2026-11-22 10:00:00')", s);
}

static void summary(struct filterset *fs, const struct mstate *st, uint64_t cut, double secs)
{
	fprintf(stderr, "\nlines read: %llu, lines with events: %llu, events: %llu, cut lines (not matched): %llu\n",
		(unsigned long long)st->lineno, (unsigned long long)st->matched_lines,
		(unsigned long long)st->events, (unsigned long long)cut);
	if (st->format != LOGLINE_AUTO)
		fprintf(stderr, "lines not in %s format (matched all the same): %llu\n",
			logline_format_name(st->format), (unsigned long long)st->not_format);
	if (st->explain && st->explained >= st->explain_max)
		fprintf(stderr, "explained the first %llu lines only (--explain=N for more, 0 for all)\n",
			(unsigned long long)st->explained);
	if (st->dedup) {
		struct dedup_stats ds;
		dedup_stats(st->dedup, &ds);
		if (ds.session_addresses)
			fprintf(stderr, "events given the address of their session's earlier line (session_address): "
				"%llu\n", (unsigned long long)ds.session_addresses);
		if (ds.same_attempt + ds.session_seen + ds.sasl_pairs + ds.handoffs)
			fprintf(stderr, "counted before by another line (count 0 or less here): %llu attempts "
				"logged twice by the auth process, %llu attempts of login summaries shown by "
				"auth lines, %llu SASL attempts logged by the MTA and the auth process, %llu "
				"connections handed from postscreen to smtpd\n", (unsigned long long)ds.same_attempt,
				(unsigned long long)ds.session_seen, (unsigned long long)ds.sasl_pairs,
				(unsigned long long)ds.handoffs);
	}
	fprintf(stderr, "elapsed: %.3f s (%.0f lines/s)\n", secs, secs > 0 ? (double)st->lineno / secs : 0.0);
	fprintf(stderr, "%-28s %10s %8s %8s %8s  per regex\n", "filter", "matched", "ignored", "bad-ip", "limit");
	for (size_t i = 0; i < filterset_nfilters(fs); i++) {
		struct filter_stats fst;
		filterset_stats(fs, i, &fst);
		fprintf(stderr, "%-28s %10llu %8llu %8llu %8llu ", fst.name, (unsigned long long)fst.matched,
			(unsigned long long)fst.ignored, (unsigned long long)fst.bad_ip,
			(unsigned long long)fst.limit_hits);
		for (size_t r = 0; r < fst.nregex; r++)
			fprintf(stderr, " %llu", (unsigned long long)fst.regex_matched[r]);
		fputc('\n', stderr);
		if (fst.limit_hits)
			log_warnx("filter '%s' hit the regex match limit on %llu lines (counted as not matched)",
				  fst.name, (unsigned long long)fst.limit_hits);
	}
}

static int load_filters(struct filterset *fs, const char *const *files, size_t nfiles, const char *cfgpath,
			char *err, size_t errlen)
{
	struct config cfg;
	int rc;

	if (nfiles) {
		for (size_t i = 0; i < nfiles; i++)
			if (filterset_load(fs, files[i], err, errlen) < 0)
				return -1;
		return 0;
	}
	if (config_load(&cfg, cfgpath, cfgpath != NULL, err, errlen) < 0)
		return -1;
	filterset_set_limits(fs, (uint32_t)cfg.match_limit, (uint32_t)cfg.depth_limit);
	rc = filterset_load_spec(fs, config_resolve_dir(cfg.filters, SYSCONFDIR "/mailscreen/filters", "filters"),
				 err, errlen);
	config_release(&cfg);
	return rc;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --journal: every matching entry there is now (from since_usec on),
 * through the daemon's reader, then the summary. */
static int match_journal(struct mstate *st, char **units, const char *path, uint64_t since_usec,
			 struct filterset *fs)
{
	struct journal_opts jo = { .path = path, .from_start = true, .since_usec = since_usec,
				   .max_line = st->max_line };
	struct journal_stats js;
	char err[ERR_LEN];
	double t0 = mono();

	st->loop = loop_new();
	st->journal = journal_open(st->loop, (const char *const *)units, &jo, journal_line, st, err, sizeof err);
	if (!st->journal) {
		fprintf(stderr, "mailscreen match: --journal: %s\n", err);
		loop_free(st->loop);
		return 1;
	}
	loop_on_idle(st->loop, journal_idle, st);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	loop_run(st->loop);
	journal_get_stats(st->journal, &js);
	fflush(stdout);
	summary(fs, st, js.cut, mono() - t0);
	if (js.no_message || js.errors)
		fprintf(stderr, "journal: %llu entries without MESSAGE skipped, %llu read errors\n",
			(unsigned long long)js.no_message, (unsigned long long)js.errors);
	warn_never_ran(fs, st);
	journal_close(st->journal);
	loop_free(st->loop);
	return js.errors ? 1 : 0;
}

int cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "filter", required_argument, NULL, 'f' },
		{ "regex", required_argument, NULL, 'r' },
		{ "program", required_argument, NULL, 'P' },
		{ "event", required_argument, NULL, 'E' },
		{ "missed", optional_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-line", required_argument, NULL, 'L' },
		{ "explain", optional_argument, NULL, 'x' },
		{ "format", required_argument, NULL, 'F' },
		{ "journal", required_argument, NULL, 'J' },
		{ "journal-path", required_argument, NULL, 'D' },
		{ "since", required_argument, NULL, 'S' },
		{ "per-line", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *input = "-", *regex = NULL, *program = NULL, *event = NULL;
	const char *missed_name = NULL, *journal_path = NULL, *since = NULL;
	const char **files = NULL;
	char **units = NULL;
	size_t nfiles = 0, afiles = 0, max_line = 16384, nunits = 0, aunits = 0;
	struct mstate st = { .fmt = FMT_TABLE, .out = stdout, .explain_max = EXPLAIN_DEFAULT };
	uint64_t since_usec = 0;
	bool per_line = false;
	int rc = 0;
	struct filterset *fs = NULL;
	struct matcher *m = NULL;
	struct linesplit split;
	char err[ERR_LEN], *buf;
	int fd, opt;
	double t0;

	while ((opt = getopt_long(argc, argv, "c:f:r:mx::jqh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 'f':
			XGROW(files, afiles, nfiles + 1);
			files[nfiles++] = optarg;
			break;
		case 'r': regex = optarg; break;
		case 'P': program = optarg; break;
		case 'E': event = optarg; break;
		case 'm':
			st.missed = true;
			missed_name = optarg;
			break;
		case 'x': {
			char *end;
			unsigned long long v = optarg ? strtoull(optarg, &end, 10) : EXPLAIN_DEFAULT;
			if (optarg && (*end || !*optarg || *optarg == '-')) {
				fprintf(stderr, "mailscreen match: --explain=N wants a number of lines (0 = all)\n");
				rc = 2;
				goto out;
			}
			st.explain = true;
			st.explain_max = v ? v : UINT64_MAX;
			break;
		}
		case 'F': {
			int f = logline_format_parse(optarg);
			if (f < 0) {
				fprintf(stderr, "mailscreen match: --format '%s': use auto, syslog, postlog, dovecot "
					"or multilog\n", optarg);
				rc = 2;
				goto out;
			}
			st.format = (enum logline_format)f;
			break;
		}
		case 'J': {
			/* "--journal 'a b'" and "--journal a --journal b" */
			char *copy = xstrdup(optarg), *save = NULL;
			for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
				XGROW(units, aunits, nunits + 2);
				units[nunits++] = xstrdup(w);
				units[nunits] = NULL;
			}
			free(copy);
			break;
		}
		case 'D': journal_path = optarg; break;
		case 'S': since = optarg; break;
		case 'N': per_line = true; break;
		case 'j': st.fmt = FMT_JSON; break;
		case 'q': st.fmt = FMT_QUIET; break;
		case 'L': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 64 || v > 16 * 1024 * 1024) {
				fprintf(stderr, "mailscreen match: --max-line wants a number from 64 to 16777216\n");
				rc = 2;
				goto out;
			}
			max_line = v;
			break;
		}
		case 'h': usage(stdout); goto out;
		default: usage(stderr); rc = 2; goto out;
		}
	}
	if (optind < argc && !units)
		input = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "mailscreen match: %s ('%s' is extra)\n",
			units ? "--journal reads no file" : "one input file at most", argv[optind]);
		rc = 2;
		goto out;
	}
	if ((journal_path || since) && !units) {
		fprintf(stderr, "mailscreen match: --journal-path and --since go with --journal\n");
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < nunits; i++)
		if (journal_check_term(units[i], err, sizeof err) < 0) {
			fprintf(stderr, "mailscreen match: --journal: %s\n", err);
			rc = 2;
			goto out;
		}
	if (since && parse_since(since, &since_usec, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen match: %s\n", err);
		rc = 2;
		goto out;
	}
	if ((program || event) && !regex) {
		fprintf(stderr, "mailscreen match: --program and --event go with --regex\n");
		rc = 2;
		goto out;
	}
	if (regex && (nfiles || cfgpath)) {
		fprintf(stderr, "mailscreen match: --regex: use it without -c and --filter\n");
		rc = 2;
		goto out;
	}
	fs = filterset_new(NULL);
	if (regex) {
		if (filterset_add_regex(fs, regex, program, event, err, sizeof err) < 0) {
			fprintf(stderr, "mailscreen match: --regex: %s\n", err);
			filterset_free(fs);
			rc = 1;
			goto out;
		}
	} else if (load_filters(fs, files, nfiles, cfgpath, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen match: %s\n", err);
		filterset_free(fs);
		rc = 1;
		goto out;
	}
	filterset_warnings(fs, stderr);
	if (missed_name && !(st.missed_for = filterset_find(fs, missed_name))) {
		fprintf(stderr, "mailscreen match: --missed: no filter named '%s' is loaded\n", missed_name);
		filterset_free(fs);
		rc = 1;
		goto out;
	}
	m = matcher_new(fs, NULL, 0, err, sizeof err);
	st.m = m;
	st.max_line = max_line;
	st.tags = xcalloc(TAGS_SLOTS, sizeof *st.tags);
	st.ref = time(NULL);
	if (!per_line)
		st.dedup = dedup_new();
	if (units) {
		rc = match_journal(&st, units, journal_path, since_usec, fs);
		goto done;
	}
	if (strcmp(input, "-") == 0) {
		fd = 0;
	} else if ((fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "mailscreen match: cannot open '%s': %s\n", input, strerror(errno));
		rc = 1;
		goto done;
	}
	/* RFC 3164 stamps have no year: infer it from the file's age */
	{
		struct stat sb;
		st.ref = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_mtime : time(NULL);
	}
	linesplit_init(&split, max_line, &st.split);
	buf = xmalloc(CHUNK);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	t0 = mono();
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mailscreen match: read '%s': %s\n", input, strerror(errno));
			break;
		}
		if (n == 0) {
			linesplit_flush(&split, match_line, &st);       /* a last line without newline */
			break;
		}
		linesplit_feed(&split, buf, (size_t)n, match_line, &st);
	}
	fflush(stdout);
	summary(fs, &st, st.split.cut_lines, mono() - t0);
	warn_never_ran(fs, &st);
	linesplit_release(&split);
	free(buf);
	if (fd > 0)
		close(fd);
done:
	for (size_t i = 0; st.tags && i < TAGS_SLOTS; i++)
		free(st.tags[i].tag);
	free(st.tags);
	free(st.x);
	dedup_free(st.dedup);
	matcher_free(m);
	filterset_free(fs);
out:
	free(files);
	for (size_t i = 0; i < nunits; i++)
		free(units[i]);
	free(units);
	return rc;
}

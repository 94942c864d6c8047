// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_match - "mailscreen match": the filter tester. Reads a log file (or
 * stdin) with the same header parser and filters as the daemon and prints
 * every event, as JSON lines or a table, with a summary on stderr. It
 * never counts, blocks or touches the network. --missed prints the lines
 * no filter made an event of instead (optionally only those a named
 * filter's program pattern takes); --regex tries one regex without a
 * filter file.
 */
#include "cmd.h"
#include "config.h"
#include "filter.h"
#include "jsonw.h"
#include "line.h"
#include "linesplit.h"
#include "log.h"
#include "logtime.h"
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
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen match [-c FILE | --filter FILE ... | --regex RE [--program TAG] [--event KIND]]\n"
		"                        [--missed[=FILTER]] [--json | --quiet] [--max-line N] [FILE|-]\n"
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
		"                     session, count, service, only_if_counted (absent fields omitted);\n"
		"                     with --missed {\"line\": N, \"missed\": \"the line\"}\n"
		"  -q, --quiet        print only the summary\n"
		"      --max-line N   lines longer than N bytes are cut: counted, never matched\n"
		"                     (default 16384)\n"
		"  -h, --help         this help\n"
		"\n"
		"A summary (lines read, events per filter and regex, elapsed time) goes to stderr.\n");
}

static void print_event(void *arg, const struct event *ev, const struct logline *ll)
{
	struct mstate *st = arg;
	char ip[ADDR_STRLEN] = "-", when[32] = "-";
	FILE *o = st->out;

	st->events++;
	st->line_matched = true;
	if (st->fmt == FMT_QUIET || st->missed)
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
		if (ev->count != 1)
			fprintf(o, " count=%lu", ev->count);
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

/* One line from the splitter: parse it, run the filters over it. */
static bool match_line(void *arg, const char *line, size_t len, bool cut)
{
	struct mstate *st = arg;
	struct logline ll;

	st->lineno++;
	st->line_matched = false;
	logline_parse(&ll, line, len, st->ref);
	/* as in the daemon: a cut line's end is not the server's */
	ll.cut = cut;
	if (cut && st->split.cut_lines == 1)
		fprintf(stderr, "mailscreen match: line %llu is longer than %zu bytes (--max-line): "
			"counted as cut and not matched, as is every such line\n",
			(unsigned long long)st->lineno, st->max_line);
	matcher_run(st->m, &ll, print_event, st);
	if (st->line_matched)
		st->matched_lines++;
	else if (st->missed)
		print_missed(st, &ll);
	return true;
}

static void summary(struct filterset *fs, const struct mstate *st, uint64_t cut, double secs)
{
	fprintf(stderr, "\nlines read: %llu, lines with events: %llu, events: %llu, cut lines (not matched): %llu\n",
		(unsigned long long)st->lineno, (unsigned long long)st->matched_lines,
		(unsigned long long)st->events, (unsigned long long)cut);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *input = "-", *regex = NULL, *program = NULL, *event = NULL;
	const char *missed_name = NULL;
	const char **files = NULL;
	size_t nfiles = 0, afiles = 0, max_line = 16384;
	struct mstate st = { .fmt = FMT_TABLE, .out = stdout };
	struct filterset *fs;
	struct matcher *m;
	struct linesplit split;
	char err[ERR_LEN], *buf;
	int fd, opt;
	double t0;

	while ((opt = getopt_long(argc, argv, "c:f:r:mjqh", longopts, NULL)) != -1) {
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
		case 'j': st.fmt = FMT_JSON; break;
		case 'q': st.fmt = FMT_QUIET; break;
		case 'L': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 64 || v > 16 * 1024 * 1024) {
				fprintf(stderr, "mailscreen match: --max-line wants a number from 64 to 16777216\n");
				return 2;
			}
			max_line = v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		input = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "mailscreen match: one input file at most ('%s' is extra)\n", argv[optind]);
		return 2;
	}
	if ((program || event) && !regex) {
		fprintf(stderr, "mailscreen match: --program and --event go with --regex\n");
		free(files);
		return 2;
	}
	if (regex && (nfiles || cfgpath)) {
		fprintf(stderr, "mailscreen match: --regex: use it without -c and --filter\n");
		free(files);
		return 2;
	}
	fs = filterset_new(NULL);
	if (regex) {
		if (filterset_add_regex(fs, regex, program, event, err, sizeof err) < 0) {
			fprintf(stderr, "mailscreen match: --regex: %s\n", err);
			filterset_free(fs);
			free(files);
			return 1;
		}
	} else if (load_filters(fs, files, nfiles, cfgpath, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen match: %s\n", err);
		filterset_free(fs);
		free(files);
		return 1;
	}
	free(files);
	if (missed_name && !(st.missed_for = filterset_find(fs, missed_name))) {
		fprintf(stderr, "mailscreen match: --missed: no filter named '%s' is loaded\n", missed_name);
		filterset_free(fs);
		return 1;
	}
	m = matcher_new(fs, NULL, 0, err, sizeof err);
	if (strcmp(input, "-") == 0) {
		fd = 0;
	} else if ((fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "mailscreen match: cannot open '%s': %s\n", input, strerror(errno));
		matcher_free(m);
		filterset_free(fs);
		return 1;
	}
	/* RFC 3164 stamps have no year: infer it from the file's age */
	{
		struct stat sb;
		st.ref = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_mtime : time(NULL);
	}
	st.m = m;
	st.max_line = max_line;
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
	linesplit_release(&split);
	free(buf);
	if (fd > 0)
		close(fd);
	matcher_free(m);
	filterset_free(fs);
	return 0;
}

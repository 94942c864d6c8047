// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_replay - "mailscreen replay": the whole configuration over past
 * logs in log time (replay.h), printed as the blocks that would have
 * happened and a summary, as text or JSON, and optionally as an HTML
 * report (replay_html.h). Reads the files in the order given ('-' is
 * standard input). Never touches the kernel, the state directory or the
 * control socket; the log's text is escaped in every form.
 */
#include "cmd.h"
#include "duration.h"
#include "jsonw.h"
#include "linesplit.h"
#include "log.h"
#include "logtime.h"
#include "replay.h"
#include "replay_html.h"
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

enum { CHUNK = 64 * 1024 };

struct rctx {
	struct replay *r;
	time_t ref;
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen replay [-c FILE] [--source NAME] [--json] [--html FILE] [--evidence N] [--top N] [-v]\n"
		"                         LOG...\n"
		"\n"
		"Run the whole configuration (filters, rules, exemptions, repeat offenders, [prefix], account\n"
		"blocks) over past logs in log time and print the blocks that would have been made, then a\n"
		"summary. Each line's own stamp is the clock. Files are read in the order given (oldest\n"
		"first; '-' is standard input). Nothing is blocked: the kernel, the state directory and the\n"
		"control socket are never touched.\n"
		"\n"
		"  -c, --config FILE  the configuration (default: " CONFIG_DEFAULT_FILE ")\n"
		"  -s, --source NAME  read with the filters of this configured source (default: every filter)\n"
		"  -j, --json         one JSON object per block, then one summary object\n"
		"      --html FILE    also write a self-contained HTML report (timeline, blocks, summary)\n"
		"      --evidence N   lines kept as evidence per block, the newest (default 5, 0 to 1000)\n"
		"      --top N        offenders listed in the summary (default 10)\n"
		"  -v, --verbose      log every decision to stderr, as the daemon would\n"
		"  -h, --help         this help\n");
}

static bool on_line(void *arg, const char *line, size_t len, bool cut)
{
	struct rctx *c = arg;

	replay_line(c->r, line, len, cut, c->ref);
	return true;
}

static int read_input(struct replay *r, const char *path, char *buf)
{
	struct rctx c = { r, 0 };
	struct linesplit split;
	struct linesplit_stats sst = { 0 };
	struct stat sb;
	int fd, rc = 0;

	if (strcmp(path, "-") == 0) {
		fd = 0;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "mailscreen replay: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	/* RFC 3164 stamps have no year: inferred from the file's age */
	c.ref = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? sb.st_mtime : time(NULL);
	linesplit_init(&split, replay_max_line(r), &sst);
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "mailscreen replay: read '%s': %s\n", path, strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0) {
			linesplit_flush(&split, on_line, &c);
			break;
		}
		linesplit_feed(&split, buf, (size_t)n, on_line, &c);
	}
	linesplit_release(&split);
	if (fd > 0)
		close(fd);
	return rc;
}

static void fmt_time(uint64_t ms, char buf[32])
{
	logtime_format_utc((int64_t)(ms / 1000), buf);
}

static const char *what_name(enum judge_what w)
{
	return w == JUDGE_ACCOUNT ? "account" : w == JUDGE_PREFIX ? "prefix" : "address";
}

static void print_block_json(FILE *o, const struct replay_block *b)
{
	char t[32], dur[32];

	fmt_time(b->at_ms, t);
	duration_format(b->dur_ms, dur, sizeof dur);
	fprintf(o, "{\"type\": \"block\", \"time\": \"%s\", \"time_ms\": %llu, \"what\": \"%s\", \"target\": ", t,
		(unsigned long long)b->at_ms, what_name(b->what));
	if (b->what == JUDGE_ACCOUNT)
		json_str(o, b->user, b->userlen);
	else
		json_str(o, b->target, strlen(b->target));
	fprintf(o, ", \"rule\": ");
	json_str(o, b->rule, strlen(b->rule));
	fprintf(o, ", \"reason\": ");
	json_str(o, b->reason, strlen(b->reason));
	fprintf(o, ", \"count\": %u, \"duration\": \"%s\", \"duration_s\": ", b->count, dur);
	if (b->dur_ms == DURATION_PERMANENT) {
		fprintf(o, "null, \"until\": null");
	} else {
		fmt_time(b->at_ms + b->dur_ms, t);
		fprintf(o, "%llu, \"until\": \"%s\"", (unsigned long long)(b->dur_ms / 1000), t);
	}
	fprintf(o, ", \"extension\": %s, \"times\": %u, \"escalation\": %s, \"evidence\": [",
		b->extend ? "true" : "false", b->times, !b->extend && b->times > 1 ? "true" : "false");
	for (size_t i = 0; i < b->nevidence; i++) {
		fmt_time(b->evidence[i].at_ms, t);
		fprintf(o, "%s{\"time\": \"%s\", \"line\": ", i ? ", " : "", t);
		json_str(o, b->evidence[i].text, b->evidence[i].len);
		fputc('}', o);
	}
	fputs("]}\n", o);
}

static void print_block_text(FILE *o, const struct replay_block *b)
{
	char t[32], dur[32], who[CIDR_STRLEN + 256];

	fmt_time(b->at_ms, t);
	duration_format(b->dur_ms, dur, sizeof dur);
	if (b->what == JUDGE_ACCOUNT) {
		who[0] = '\'';
		text_sanitize(who + 1, sizeof who - 2, b->user, b->userlen);
		strcat(who, "'");
	} else {
		snprintf(who, sizeof who, "%s", b->target);
	}
	fprintf(o, "%s  %-6s %s%s for %s: rule %s, %s", t, b->extend ? "extend" : "block",
		b->what == JUDGE_ACCOUNT ? "account " : "", who, dur, b->rule, b->reason);
	if (!b->extend && b->times > 1)
		fprintf(o, ", block #%u (escalation)", b->times);
	fputc('\n', o);
	for (size_t i = 0; i < b->nevidence; i++) {
		size_t cap = b->evidence[i].len * 4 + 16;
		char *txt = xmalloc(cap);
		fmt_time(b->evidence[i].at_ms, t);
		text_sanitize(txt, cap, b->evidence[i].text, b->evidence[i].len);
		fprintf(o, "    %s  %s\n", t, txt);
		free(txt);
	}
}

static void print_summary_json(FILE *o, const struct replay_stats *st, const struct replay_offender *top,
			       size_t ntop, size_t nblocks)
{
	char t[32];
	uint64_t ext = 0;

	for (size_t i = 0; i < st->nrules; i++)
		ext += st->rules[i].extensions;
	fprintf(o, "{\"type\": \"summary\", \"lines\": %llu, \"matched_lines\": %llu, \"events\": %llu, "
		"\"cut_lines\": %llu, \"unstamped\": %llu, \"skipped\": %llu, \"backwards\": %llu, ",
		(unsigned long long)st->lines, (unsigned long long)st->matched_lines, (unsigned long long)st->events,
		(unsigned long long)st->cut_lines, (unsigned long long)st->unstamped, (unsigned long long)st->skipped,
		(unsigned long long)st->backwards);
	if (st->first_ms) {
		fmt_time(st->first_ms, t);
		fprintf(o, "\"first\": \"%s\", ", t);
		fmt_time(st->last_ms, t);
		fprintf(o, "\"last\": \"%s\", ", t);
	} else {
		fputs("\"first\": null, \"last\": null, ", o);
	}
	fprintf(o, "\"blocks\": %zu, \"extensions\": %llu, \"refused\": %llu, \"rules\": [", nblocks,
		(unsigned long long)ext, (unsigned long long)st->refused);
	for (size_t i = 0; i < st->nrules; i++) {
		fprintf(o, "%s{\"rule\": ", i ? ", " : "");
		json_str(o, st->rules[i].name, strlen(st->rules[i].name));
		fprintf(o, ", \"counted\": %llu, \"blocks\": %llu, \"extensions\": %llu}",
			(unsigned long long)st->rules[i].counted, (unsigned long long)st->rules[i].blocks,
			(unsigned long long)st->rules[i].extensions);
	}
	fputs("], \"kinds\": {", o);
	for (int k = 0, first = 1; k < EV_NKINDS; k++)
		if (st->kinds[k]) {
			fprintf(o, "%s\"%s\": %llu", first ? "" : ", ", ev_kind_name((enum ev_kind)k),
				(unsigned long long)st->kinds[k]);
			first = 0;
		}
	fputs("}, \"services\": {", o);
	for (size_t i = 0; i < st->nservices; i++) {
		fputs(i ? ", " : "", o);
		json_str(o, st->services[i].name, strlen(st->services[i].name));
		fprintf(o, ": %llu", (unsigned long long)st->services[i].n);
	}
	fputs("}, \"top_offenders\": [", o);
	for (size_t i = 0; i < ntop; i++)
		fprintf(o, "%s{\"ip\": \"%s\", \"events\": %llu, \"blocks\": %llu}", i ? ", " : "", top[i].ip,
			(unsigned long long)top[i].events, (unsigned long long)top[i].blocks);
	fputs("]}\n", o);
}

static void print_summary_text(FILE *o, const struct replay_stats *st, const struct replay_offender *top,
			       size_t ntop, size_t nblocks)
{
	char t1[32] = "-", t2[32] = "-";
	uint64_t ext = 0;

	for (size_t i = 0; i < st->nrules; i++)
		ext += st->rules[i].extensions;
	if (st->first_ms) {
		fmt_time(st->first_ms, t1);
		fmt_time(st->last_ms, t2);
	}
	fprintf(o, "\nsummary\n");
	fprintf(o, "lines read: %llu, with events: %llu, events: %llu, cut (not matched): %llu\n",
		(unsigned long long)st->lines, (unsigned long long)st->matched_lines, (unsigned long long)st->events,
		(unsigned long long)st->cut_lines);
	fprintf(o, "log time: %s to %s; lines without a stamp: %llu (skipped before any stamp: %llu); "
		"stamped before an earlier line: %llu (read at the latest time seen)\n", t1, t2,
		(unsigned long long)st->unstamped, (unsigned long long)st->skipped, (unsigned long long)st->backwards);
	fprintf(o, "blocks: %zu (of them extensions: %llu); decisions on protected addresses, never blocked: %llu\n",
		nblocks, (unsigned long long)ext, (unsigned long long)st->refused);
	fprintf(o, "\n%-32s %12s %8s %10s\n", "rule", "counted", "blocks", "extensions");
	for (size_t i = 0; i < st->nrules; i++)
		fprintf(o, "%-32s %12llu %8llu %10llu\n", st->rules[i].name, (unsigned long long)st->rules[i].counted,
			(unsigned long long)st->rules[i].blocks, (unsigned long long)st->rules[i].extensions);
	fprintf(o, "\nevents per kind:");
	for (int k = 0; k < EV_NKINDS; k++)
		if (st->kinds[k])
			fprintf(o, " %s %llu", ev_kind_name((enum ev_kind)k), (unsigned long long)st->kinds[k]);
	fprintf(o, "\nevents per service:");
	for (size_t i = 0; i < st->nservices; i++)
		fprintf(o, " %s %llu", st->services[i].name, (unsigned long long)st->services[i].n);
	fprintf(o, "\n\n%-39s %10s %8s\n", "top offenders", "events", "blocks");
	for (size_t i = 0; i < ntop; i++)
		fprintf(o, "%-39s %10llu %8llu\n", top[i].ip, (unsigned long long)top[i].events,
			(unsigned long long)top[i].blocks);
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return *s && !*end && !errno && *out <= max ? 0 : -1;
}

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "source", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },
		{ "evidence", required_argument, NULL, 'E' },
		{ "top", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *html = NULL, *source = NULL;
	bool json = false, verbose = false;
	unsigned long evidence = 5, ntop = 10;
	struct bundle b;
	struct replay *r;
	struct replay_stats st;
	struct replay_offender *top;
	const struct replay_block *bl;
	size_t nbl, got;
	char err[ERR_LEN], *buf;
	int opt, rc = 0, nstdin = 0;

	while ((opt = getopt_long(argc, argv, "c:s:jvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 's': source = optarg; break;
		case 'j': json = true; break;
		case 'H': html = optarg; break;
		case 'E':
			if (number(optarg, 1000, &evidence) < 0) {
				fprintf(stderr, "mailscreen replay: --evidence wants a number from 0 to 1000\n");
				return 2;
			}
			break;
		case 'T':
			if (number(optarg, 10000, &ntop) < 0) {
				fprintf(stderr, "mailscreen replay: --top wants a number from 0 to 10000\n");
				return 2;
			}
			break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "mailscreen replay: name the log files to read ('-' for standard input)\n");
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		nstdin += strcmp(argv[i], "-") == 0;
	if (nstdin > 1) {
		fprintf(stderr, "mailscreen replay: standard input ('-') can be read once only\n");
		return 2;
	}
	if (bundle_load(&b, cfgpath, cfgpath != NULL, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen replay: %s\n", err);
		return 1;
	}
	/* the decisions are the output; the daemon's log of them only with -v */
	log_set_level(verbose ? LOG_LVL_INFO : LOG_LVL_ERR);
	if (!(r = replay_new(&b, source, evidence, err, sizeof err))) {
		fprintf(stderr, "mailscreen replay: %s\n", err);
		return 1;
	}
	buf = xmalloc(CHUNK);
	for (int i = optind; i < argc; i++)
		if (read_input(r, argv[i], buf) < 0)
			rc = 1;
	free(buf);
	bl = replay_blocks(r, &nbl);
	replay_stats(r, &st);
	top = xcalloc(ntop ? ntop : 1, sizeof *top);
	got = replay_top_offenders(r, top, ntop);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	for (size_t i = 0; i < nbl; i++)
		(json ? print_block_json : print_block_text)(stdout, &bl[i]);
	(json ? print_summary_json : print_summary_text)(stdout, &st, top, got, nbl);
	fflush(stdout);
	if (st.backwards)
		fprintf(stderr, "mailscreen replay: %llu lines were stamped before a line read earlier and were read at "
			"the latest time seen (give the files oldest first: mail.log.1 before mail.log)\n",
			(unsigned long long)st.backwards);
	if (html && replay_html_write(r, html, top, got, err, sizeof err) < 0) {
		fprintf(stderr, "mailscreen replay: %s\n", err);
		rc = 1;
	}
	free(top);
	replay_free(r);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_match - the whole path from a hostile log line to events, as a
 * file source runs it: logline_parse, then a matcher over the shipped
 * filters (filters/postfix.conf, dovecot.conf, dovecot-connect.conf,
 * loaded from the source tree, MS_SRCDIR at build time or $MS_FILTERS).
 *
 * Invariants: those of fuzz_event.h for every event (above all: the
 * address of an event is written in the message: an attacker cannot make
 * a filter invent one), at most one event per filter, and the same line
 * gives the same events a second time (the program cache must not change
 * the result).
 */
#include "fuzz_event.h"

#include "log.h"

#include <time.h>

#ifndef MS_SRCDIR
#define MS_SRCDIR "."
#endif
#define MAXEV 64

static struct filterset *fs;
static struct matcher *m;

struct seen {
	unsigned n;
	struct { int kind; bool has_ip; struct ipaddr ip; const void *filter; } ev[MAXEV];
};

static void on_event(void *arg, const struct event *ev, const struct logline *ll)
{
	struct seen *s = arg;

	fuzz_check_event(ev, ll);
	FUZZ_ASSERT(s->n < MAXEV, "more than %d events", MAXEV);
	s->ev[s->n].kind = (int)ev->kind;
	s->ev[s->n].has_ip = ev->has_ip;
	s->ev[s->n].ip = ev->ip;
	s->ev[s->n].filter = ev->filter;
	s->n++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[] = { "postfix", "dovecot", "dovecot-connect" };
	const char *dir = getenv("MS_FILTERS");
	char path[512], err[1024];

	(void)argc;
	(void)argv;
	log_init("fuzz_match", LOG_LVL_WARN);
	if (!dir || !*dir)
		dir = MS_SRCDIR "/filters";
	fs = filterset_new(NULL);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s.conf", dir, files[i]);
		if (filterset_load(fs, path, err, sizeof err) < 0) {
			fprintf(stderr, "fuzz_match: %s\n", err);
			exit(2);
		}
	}
	m = matcher_new(fs, NULL, 0, err, sizeof err);
	if (!m) {
		fprintf(stderr, "fuzz_match: %s\n", err);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen a, b;
	struct logline ll;
	int n;

	a.n = b.n = 0;
	logline_parse(&ll, (const char *)data, size, 1795000000);
	n = matcher_run(m, &ll, on_event, &a);
	FUZZ_ASSERT(n >= 0 && (unsigned)n == a.n && (size_t)n <= filterset_nfilters(fs), "%d events", n);
	for (unsigned i = 0; i < a.n; i++)
		for (unsigned k = 0; k < i; k++)
			FUZZ_ASSERT(a.ev[i].filter != a.ev[k].filter, "two events from one filter");
	n = matcher_run(m, &ll, on_event, &b);
	FUZZ_ASSERT((unsigned)n == a.n, "%d events the second time, %u the first", n, a.n);
	for (unsigned i = 0; i < a.n; i++)
		FUZZ_ASSERT(a.ev[i].kind == b.ev[i].kind && a.ev[i].has_ip == b.ev[i].has_ip &&
			    (!a.ev[i].has_ip || addr_equal(&a.ev[i].ip, &b.ev[i].ip)) && a.ev[i].filter == b.ev[i].filter,
			    "event %u differs the second time", i);
	return 0;
}

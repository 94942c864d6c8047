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

/* matcher_explain's account of a filter: groups inside the message, and
 * an event exactly where it says so. */
static unsigned explained_events;

static void on_explain(void *arg, const struct filter_explain *fx, const struct logline *ll)
{
	(void)arg;
	FUZZ_ASSERT(fx->ngroups <= FILTER_EXPLAIN_GROUPS, "%zu groups", fx->ngroups);
	for (size_t g = 0; g < fx->ngroups; g++)
		FUZZ_ASSERT(fx->groups[g].p >= ll->msg && fx->groups[g].p + fx->groups[g].len <= ll->msg + ll->msglen,
			    "group %zu outside the message", g);
	FUZZ_ASSERT((fx->outcome == FILTER_EVENT) == (fx->ev != NULL), "outcome %d, event %p", (int)fx->outcome,
		    (const void *)fx->ev);
	FUZZ_ASSERT(fx->outcome == FILTER_NO_MATCH ? fx->regex == -1 : fx->regex >= 0, "outcome %d, regex %d",
		    (int)fx->outcome, fx->regex);
	explained_events += fx->outcome == FILTER_EVENT;
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
	/* the second time explained: the same events */
	explained_events = 0;
	n = matcher_explain(m, &ll, on_event, on_explain, &b);
	FUZZ_ASSERT((unsigned)n == a.n && explained_events == a.n, "%d events (%u explained) the second time, %u "
		    "the first", n, explained_events, a.n);
	for (unsigned i = 0; i < a.n; i++)
		FUZZ_ASSERT(a.ev[i].kind == b.ev[i].kind && a.ev[i].has_ip == b.ev[i].has_ip &&
			    (!a.ev[i].has_ip || addr_equal(&a.ev[i].ip, &b.ev[i].ip)) && a.ev[i].filter == b.ev[i].filter,
			    "event %u differs the second time", i);
	return 0;
}

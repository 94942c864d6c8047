/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * filter - turn log lines into events with PCRE2 (JIT) regexes.
 *
 * A filter file (filters/postfix.conf) holds filters, one per INI section;
 * a filterset holds the loaded files. A matcher is what a source uses: the
 * filters of the files it names, dispatched by syslog program tag through
 * a small cache, so that most lines are rejected before any regex runs.
 * Every filter whose program matches is tried on the line; each yields at
 * most one event (its first matching regex), unless one of its ignore
 * regexes matches. Regexes run on the message only, with match and depth
 * limits; a line that hits a limit counts as not matched and the limit
 * hit is counted for the filter. A filter marked only_if_counted marks its
 * events so (ev->only_if_counted); what that means is the screen's affair.
 *
 * An event's session is what the regex captures as (?<session>...); only
 * a filter with "session = pid" (one process per client, like Postfix's
 * smtpd) falls back to "program[pid]" when nothing is captured. Elsewhere
 * (Dovecot: one process, many clients) an event without a captured
 * session has none.
 */
#ifndef MS_FILTER_H
#define MS_FILTER_H

#include "event.h"
#include "keydoc.h"
#include "line.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct filterset;
struct matcher;

struct filter_limits {
	uint32_t match_limit;   /* PCRE2 match limit (0 = default 100000) */
	uint32_t depth_limit;   /* PCRE2 depth limit (0 = default 10000) */
	size_t max_field;       /* longest user/session capture kept (0 = 256) */
};

struct filter_stats {
	const char *file, *name;
	uint64_t tried, matched, ignored, bad_ip, limit_hits;
	size_t nregex;
	const uint64_t *regex_matched;  /* per regex */
};

typedef void filter_event_fn(void *arg, const struct event *ev, const struct logline *ll);

struct filterset *filterset_new(const struct filter_limits *lim);
void filterset_free(struct filterset *fs);
/* Every key a filter section takes, with type, default and meaning
 * (keydoc.h): the parser accepts exactly these; `mailscreen options`
 * prints them. */
extern const struct keydoc filter_keys[];
extern const size_t filter_nkeys;
/* Change the match and depth limits (before or after loading). */
void filterset_set_limits(struct filterset *fs, uint32_t match_limit, uint32_t depth_limit);
/* Load one filter file; its name is the file name without ".conf". On
 * error, "file:line: message" in err and the set is unchanged. */
int filterset_load(struct filterset *fs, const char *path, char *err, size_t errlen);
struct inilayer;
/* Load the filter files read in layers (inilayer.h): shipped files with
 * their local overrides merged in. A filter file is an owner of the
 * layers: a section an override adds belongs to the file named like the
 * override (filters/NAME.local, filters.d/NAME.conf: file NAME, a new one
 * if no shipped file has that name). On error, "file:line: message" in
 * err (the line the value came from) and the set is unchanged. */
int filterset_load_layers(struct filterset *fs, const struct inilayer *doc, char *err, size_t errlen);
/* A directory, or a space-separated list of files, with their local
 * overrides (inilayer_overrides_of_dir). */
int filterset_load_spec(struct filterset *fs, const char *spec, char *err, size_t errlen);
bool filterset_has_file(const struct filterset *fs, const char *name);
/* One filter named "regex" in a file named "regex", from a regex, a
 * program pattern (NULL = every line) and an event kind (NULL =
 * auth-fail), with the checks a filter file gets ("mailscreen match
 * --regex"). On error, the message in err and the set is unchanged. */
int filterset_add_regex(struct filterset *fs, const char *regex, const char *program, const char *event,
			char *err, size_t errlen);
/* The loaded filter of that name, or NULL. */
const struct filter *filterset_find(const struct filterset *fs, const char *name);
size_t filterset_nfilters(const struct filterset *fs);
void filterset_stats(const struct filterset *fs, size_t i, struct filter_stats *st);

/* A matcher over the files named in files (NULL = all files). Fails if a
 * name is not loaded. */
struct matcher *matcher_new(struct filterset *fs, const char *const *files, size_t nfiles,
			    char *err, size_t errlen);
void matcher_free(struct matcher *m);
/* Run the filters on one line; calls fn per event. Returns the number of
 * events. A line marked cut (longer than max_line) makes none: its end is
 * not the server's. */
int matcher_run(struct matcher *m, const struct logline *ll, filter_event_fn *fn, void *arg);

/* What one filter did with one line (matcher_explain). */
enum filter_outcome {
	FILTER_EVENT,           /* regex `regex` matched: an event */
	FILTER_NO_MATCH,        /* none of its regexes matched */
	FILTER_IGNORED,         /* regex `regex` matched, ignore `ignore` cancelled the event */
	FILTER_LIMIT,           /* regex `regex` (or ignore `ignore`) hit the match or depth limit */
	FILTER_BAD_IP,          /* (?<ip>...) captured no valid address */
	FILTER_ZERO_COUNT,      /* (?<count>...) captured 0 or no number */
};

#define FILTER_EXPLAIN_GROUPS 16

struct filter_group {
	int num;
	const char *name;       /* NULL for an unnamed group */
	const char *p;          /* into the line's message */
	size_t len;
};

struct filter_explain {
	const struct filter *filter;
	enum filter_outcome outcome;
	size_t nregex;          /* the filter's regexes */
	int regex, ignore;      /* which regex and ignore regex decided, from 0; -1 = none */
	int regex_line, ignore_line;    /* their lines in the filter file */
	const char *regex_file, *ignore_file;   /* the file of that line when it is not the
						 * filter's own (a local override's); else NULL */
	const struct event *ev; /* FILTER_EVENT only */
	size_t ngroups;         /* the groups the regex captured (at most FILTER_EXPLAIN_GROUPS) */
	struct filter_group groups[FILTER_EXPLAIN_GROUPS];
};

typedef void filter_explain_fn(void *arg, const struct filter_explain *fx, const struct logline *ll);

/* matcher_run that also says, per filter tried (those whose program
 * pattern takes the line), what the filter made of it: calls fn per event
 * and then xfn per filter. The same compiled patterns and counters;
 * slower (groups are collected by running the deciding regex again): for
 * "mailscreen match --explain", never the daemon. */
int matcher_explain(struct matcher *m, const struct logline *ll, filter_event_fn *fn,
		    filter_explain_fn *xfn, void *arg);
const char *filter_outcome_name(enum filter_outcome o);

const char *filter_name(const struct filter *f);
/* The file's name (without ".conf") and the filter's first line in it. */
const char *filter_file(const struct filter *f);
int filter_lineno(const struct filter *f);
/* The path it was loaded from ("--regex" for filterset_add_regex). */
const char *filter_path(const struct filter *f);
/* Its program patterns (none: every line). */
size_t filter_programs(const struct filter *f, const char *const **programs);
/* Writes the warnings for filter authors found while loading to fp (if
 * not NULL), one "file:line: warning: ..." a line (a regex holding a
 * fail2ban macro such as <HOST>, which PCRE2 reads as literal text; the
 * filters still load); returns how many there are. */
size_t filterset_warnings(const struct filterset *fs, FILE *fp);
/* True if the matcher would try filter f on this line: its program
 * pattern takes the line's tag (or, "-" or no program, the untagged line). */
bool filter_applies(const struct filter *f, const struct logline *ll);
/* The filter whose regex hit the match or depth limit on the last line
 * run (NULL if none), and how often that filter has hit it in all. */
const struct filter *matcher_limit_hit(const struct matcher *m, uint64_t *hits);

#endif

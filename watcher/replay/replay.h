/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay - the whole configuration run over past logs in log time: the
 * filters, the screen, the exemptions, the repeat history, [prefix] and
 * account blocks, through the daemon's own decision path (judge.h), with
 * each line's stamp as the clock. It records the blocks that would have
 * been made, the lines that made each one, and what was read.
 *
 * The clock is the latest stamp seen: a line stamped earlier than one
 * before it (logs given out of order, a second source) is read at the
 * latest time seen and counted as "backwards"; a line without a stamp is
 * read at the latest time seen too (counted as "unstamped"), and skipped
 * before any stamp was seen.
 *
 * Owns the screen, blocks list, repeat history and evidence it works
 * with, and copies of what it reports. Must never touch the kernel, the
 * state directory or the control socket, nor let a protected address
 * (loopback, this host, the allow list) be reported as blocked.
 */
#ifndef MS_REPLAY_H
#define MS_REPLAY_H

#include "bundle.h"
#include "event.h"
#include "judge.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct replay;

struct replay_line {
	uint64_t at_ms;                 /* the clock when it was read */
	char *text;                     /* the raw line (attacker's text), at most REPLAY_LINE_MAX bytes */
	size_t len;
};
#define REPLAY_LINE_MAX 2048

/* One block that would have been made. */
struct replay_block {
	uint64_t at_ms;
	enum judge_what what;
	char target[64];                /* address or range (JUDGE_ADDR, JUDGE_PREFIX) */
	char *user;                     /* JUDGE_ACCOUNT: the account (attacker's text) */
	size_t userlen;
	char rule[48];
	char reason[160];
	uint32_t count, times;
	uint64_t dur_ms;                /* DURATION_PERMANENT for ever */
	bool extend;
	struct replay_line *evidence;   /* oldest first */
	size_t nevidence;
};

struct replay_rule_stats {
	const char *name;
	uint64_t counted, blocks, extensions;
};

struct replay_offender {
	char ip[48];
	uint64_t events, blocks;
};

struct replay_count {
	char name[40];
	uint64_t n;
};

struct replay_stats {
	uint64_t lines, matched_lines, events, cut_lines, unstamped, backwards, skipped;
	uint64_t refused, paused;
	uint64_t first_ms, last_ms;     /* the clock's span (0: no stamp seen) */
	uint64_t kinds[EV_NKINDS];
	const struct replay_count *services;    /* events per service; "-" for none */
	size_t nservices;
	const struct replay_rule_stats *rules;
	size_t nrules;
	uint64_t offenders_untracked;   /* events of addresses beyond the offender table's bound */
};

/* b is the configuration (moved: left empty). source: read with the
 * filters of this configured source, as the daemon does (NULL: every
 * filter). evidence: lines kept per decision (the newest). The replay, or
 * NULL with a message. */
struct replay *replay_new(struct bundle *b, const char *source, size_t evidence, char *err, size_t errlen);
void replay_free(struct replay *r);
size_t replay_max_line(const struct replay *r);
/* One line (a linesplit_fn); ref for stamps without a year. */
void replay_line(struct replay *r, const char *line, size_t len, bool cut, time_t ref);
const struct replay_block *replay_blocks(const struct replay *r, size_t *n);
void replay_stats(const struct replay *r, struct replay_stats *st);
/* The n addresses with the most events, most first; returns how many. */
size_t replay_top_offenders(const struct replay *r, struct replay_offender *out, size_t n);
/* Events per minute from the first stamp: counts[i] for minute i. */
const uint32_t *replay_timeline(const struct replay *r, size_t *n);

#endif

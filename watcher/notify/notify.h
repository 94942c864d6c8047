/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * notify - telling people of blocks: a mail to [notify] mail_to through
 * the local sendmail program, and/or [notify] program run once per block;
 * and the periodic report mail.
 *
 * Batched and rate-limited so that a flood of blocks gives a few mails,
 * never thousands: the first block starts a batch, the blocks of the next
 * `batch` go into the same mail (at most max_listed listed, the rest
 * counted as "N more blocks not listed"), and at most max_mails_per_hour
 * block mails leave in any hour (a batch due when the hour's mails are
 * spent waits, gathering more, until one may leave). The program gets
 * each block, one run at a time, at most NOTIFY_PROGRAM_QUEUE waiting;
 * blocks beyond are counted and not told to it. A block made in dry run
 * (mail_block.dry_run) is told as what it is: the mail says it would be
 * blocked and nothing was, the program gets "would-block" and
 * MAILSCREEN_DRY_RUN=1.
 *
 * sendmail and the program run in a forked child (child.h) that execs
 * them with an argument vector (never a shell) and a clean environment,
 * feeds the message on their input, and kills them (their whole process
 * group) after `timeout`: the loop never waits. A failure (exit status,
 * signal, time out, the first line of what they wrote) is logged.
 *
 * Owns its queues and its children. Must never: run a shell, pass text to
 * a header or an argument with a control character in it (mail.h; the
 * program's arguments are made printable too), or keep more than its
 * bounds.
 */
#ifndef MS_NOTIFY_H
#define MS_NOTIFY_H

#include "mail.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOTIFY_PROGRAM_QUEUE 64
#define NOTIFY_MAX_TO 32        /* recipients */

enum notify_report { NOTIFY_REPORT_NO, NOTIFY_REPORT_HOURLY, NOTIFY_REPORT_DAILY };

/* The [notify] values as config.c reads them: mail_to (space-separated
 * addresses), mail_from, sendmail, program (absolute paths), report. 0,
 * or -1 with *key the key at fault and a message. */
int notify_check(const char *mail_to, const char *mail_from, const char *sendmail, const char *program,
		 const char *report, const char **key, char *err, size_t errlen);
enum notify_report notify_report_kind(const char *report);

struct notify_cfg {
	const char *mail_to, *mail_from, *sendmail, *program;
	uint64_t batch_ms, timeout_ms, max_mails, max_listed;
};

/* ---- the batching policy, on its own (unit-tested) ---- */

struct notify_batch {
	struct mail_block *v;           /* listed */
	size_t n, max;                  /* max: max_listed */
	uint64_t more;                  /* not listed */
	uint64_t first_ms;              /* when the batch began (0: empty) */
	uint64_t *sent;                 /* send times of the last hour's mails, a ring */
	size_t nsent, maxsent, next;
};
void notify_batch_init(struct notify_batch *b, size_t max_listed, size_t max_mails);
void notify_batch_release(struct notify_batch *b);
/* Add a block at now_ms; true if it began a batch (arm the timer). */
bool notify_batch_add(struct notify_batch *b, const struct mail_block *blk, uint64_t now_ms);
/* When the batch may leave, batch_ms after it began and when the hour
 * allows a mail: 0 if nothing waits. */
uint64_t notify_batch_due(const struct notify_batch *b, uint64_t batch_ms, uint64_t now_ms);
/* New bounds (a reload): what waits is kept, to the new max_listed, and
 * so are the send times of the hour's mails (the newest max_mails). */
void notify_batch_resize(struct notify_batch *b, size_t max_listed, size_t max_mails);
/* The batch leaves now: it is counted in the hour and emptied (what was
 * in it is handed to the caller: *v to free, *n, *more). */
void notify_batch_take(struct notify_batch *b, uint64_t now_ms, struct mail_block **v, size_t *n, uint64_t *more);

/* ---- the notifier ---- */

struct loop;
struct notify;

struct notify_counts {
	uint64_t mails, mail_failures, reports, unlisted;
	uint64_t programs, program_failures, program_dropped;
};

struct notify *notify_new(struct loop *l);
/* Copied; a batch waiting keeps its blocks. */
void notify_configure(struct notify *n, const struct notify_cfg *c);
bool notify_mail_on(const struct notify *n);
void notify_block(struct notify *n, const struct mail_block *b);
/* A report mail now (when mail_to is set): subject, and body text. */
void notify_report_mail(struct notify *n, const char *subject, const char *body, size_t len);
void notify_get_counts(const struct notify *n, struct notify_counts *c);
/* Kill the children (at stop): what waits is not sent. */
void notify_free(struct notify *n);

/* Run path with argv (argv[0] first) and envp, input on its standard
 * input, killed with its process group after timeout_ms; in the calling
 * process (a child of the daemon's, child.h). 0, or -1 with what went
 * wrong and the first line it wrote. */
int notify_exec(const char *path, char *const argv[], char *const envp[], const char *input, size_t inlen,
		uint64_t timeout_ms, char *err, size_t errlen);

#endif

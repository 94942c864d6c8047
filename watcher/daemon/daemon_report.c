// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_report - what happened, told: the daemon's statistics (stats.h)
 * fed by the pipeline and the blocks, the summaries [logging] summary
 * asks for, the 'report' command, and the notifications of [notify]
 * (notify.h): a mail per batch of blocks, the program per block, the
 * report mail.
 *
 * One timer wakes the daemon at each minute's boundary (wall clock):
 * the summary of the minute that ended is logged (nothing if nothing
 * happened), at an hour's boundary the hour's (one short line if nothing
 * happened) and the hourly report mail, at local midnight the day's (a
 * bucket of its own, local midnight to midnight: stats_day) and the daily
 * report mail.
 *
 * Owns d->stats and d->notify. Must never: count or tell of a block made
 * again at start (the saved state's, the block list file's) as new, or
 * tell of one from the block list file at all (the admin's own list): no
 * mail, no program; or let a text of the attacker's reach the log
 * unescaped (stats keeps its keys printable).
 */
#include "daemon.h"
#include "log.h"
#include "xalloc.h"
#include "duration.h"
#include "notify.h"
#include "report_fmt.h"
#include "stats.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_SLACK_MS 50        /* wake just after the boundary, never just before */

static void tick(struct loop *l, void *arg);

static void arm_tick(struct daemon *d)
{
	uint64_t now = daemon_now_ms();

	d->report_timer = loop_add_timer(d->loop, STATS_MINUTE_MS - now % STATS_MINUTE_MS + TICK_SLACK_MS, tick, d);
}

static void log_bucket(const char *period, const struct stats_bucket *b, bool quiet_if_empty)
{
	char line[4096], from[TIMEFMT_LEN];

	if (quiet_if_empty && stats_bucket_empty(b))
		return;
	report_fmt_line(b, line, sizeof line);
	timefmt_format((int64_t)(b->start_ms / 1000), false, from);
	log_info("summary of the %s from %s: %s", period, from, line);
}

/* The report of b, mailed; period names it in the subject. */
static void mail_bucket(struct daemon *d, const char *period, const struct stats_bucket *bp)
{
	char *body = NULL, subject[300], host[256] = "";
	size_t blen = 0;
	FILE *o;

	o = open_memstream(&body, &blen);
	if (!o)
		fatal("open_memstream");
	report_fmt_text(o, bp, false);
	fclose(o);
	gethostname(host, sizeof host - 1);
	snprintf(subject, sizeof subject, "mailscreen on %s: report of the %s", *host ? host : "localhost", period);
	notify_report_mail(d->notify, subject, body, blen);
	free(body);
}

static void tick(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	uint64_t now = daemon_now_ms(), end = now / STATS_MINUTE_MS * STATS_MINUTE_MS;
	unsigned mask = d->b.cfg.summary_mask, ending = stats_periods_ending(end);
	enum notify_report rk = notify_report_kind(d->b.cfg.notify_report);
	bool mail = notify_mail_on(d->notify);
	struct stats_bucket *b = xmalloc(sizeof *b);

	(void)l;
	d->report_timer = 0;
	if (mask & ending & STATS_PERIOD_MINUTE) {
		stats_period(d->stats, end - STATS_MINUTE_MS, STATS_MINUTE_MS, b);
		log_bucket("minute", b, true);
	}
	if (ending & STATS_PERIOD_HOUR) {
		stats_period(d->stats, end - STATS_HOUR_MS, STATS_HOUR_MS, b);
		if (mask & STATS_PERIOD_HOUR)
			log_bucket("hour", b, false);
		if (rk == NOTIFY_REPORT_HOURLY && mail)
			mail_bucket(d, "hour", b);
	}
	if (ending & STATS_PERIOD_DAY) {
		stats_day(d->stats, end, b);
		if (mask & STATS_PERIOD_DAY)
			log_bucket("day", b, false);
		if (rk == NOTIFY_REPORT_DAILY && mail)
			mail_bucket(d, "day", b);
	}
	free(b);
	arm_tick(d);
}

void daemon_report_init(struct daemon *d)
{
	d->stats = stats_new();
	d->notify = notify_new(d->loop);
	arm_tick(d);
}

void daemon_report_configure(struct daemon *d)
{
	const struct config *c = &d->b.cfg;
	struct notify_cfg nc = { .mail_to = c->mail_to, .mail_from = c->mail_from, .sendmail = c->sendmail,
				 .program = c->program, .batch_ms = c->notify_batch_ms, .timeout_ms = c->notify_timeout_ms,
				 .max_mails = c->notify_max_mails, .max_listed = c->notify_max_listed };

	notify_configure(d->notify, &nc);
}

void daemon_report_free(struct daemon *d)
{
	if (d->report_timer)
		loop_cancel_timer(d->loop, d->report_timer);
	notify_free(d->notify);
	stats_free(d->stats);
	d->notify = NULL;
	d->stats = NULL;
}

void daemon_report_block(struct daemon *d, bool account, const char *what, uint64_t dur_ms, const char *origin,
			 const char *reason)
{
	struct mail_block b = { .account = account, .dur_ms = dur_ms, .at_ms = daemon_now_ms(),
				.dry_run = d->dry_run };

	if (d->restoring)
		return;
	stats_block(d->stats, b.at_ms, origin);
	if (strcmp(origin, "file") == 0)
		return;         /* the admin's own list, read again at each start */
	snprintf(b.what, sizeof b.what, "%s", what);
	snprintf(b.origin, sizeof b.origin, "%s", origin);
	snprintf(b.reason, sizeof b.reason, "%s", reason ? reason : "");
	notify_block(d->notify, &b);
}

void daemon_report_lift(struct daemon *d, const char *origin)
{
	if (!d->restoring)
		stats_lift(d->stats, daemon_now_ms(), origin);
}

int daemon_report_mail(struct daemon *d, uint64_t since_ms, char *err, size_t errlen)
{
	uint64_t now = daemon_now_ms();
	struct stats_bucket *b;
	char what[64], dur[32];

	if (!notify_mail_on(d->notify))
		return errf(err, errlen, "no [notify] mail_to is configured: nobody to mail the report to");
	b = xmalloc(sizeof *b);
	stats_since(d->stats, now, since_ms > now ? 0 : now - since_ms, b);
	duration_format(since_ms, dur, sizeof dur);
	snprintf(what, sizeof what, "last %s", dur);
	mail_bucket(d, what, b);
	free(b);
	return 0;
}

void daemon_report_write(struct daemon *d, FILE *out, uint64_t since_ms, enum daemon_report_format f, bool utc)
{
	uint64_t now = daemon_now_ms();
	struct stats_bucket *b = xmalloc(sizeof *b);

	stats_since(d->stats, now, since_ms > now ? 0 : now - since_ms, b);
	if (f == REPORT_JSON)
		report_fmt_json(out, b);
	else if (f == REPORT_HTML)
		report_fmt_html(out, b);
	else
		report_fmt_text(out, b, utc);
	free(b);
}

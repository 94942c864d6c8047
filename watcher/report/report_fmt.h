/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report_fmt - a period's statistics (stats.h) as a summary line for the
 * log, as the text of `mailscreen report` and of the report mail, as JSON
 * (`report --json`) and as one self-contained HTML page (`report --html`:
 * inline CSS, no script, a Content-Security-Policy forbidding both).
 *
 * Owns nothing. Must never: write a name or key (an account is the
 * attacker's bytes) unescaped: JSON through json_str, HTML through
 * replay_html_text; text as it is, since stats keeps every name and key
 * printable (an account's other bytes as \xNN, shown in HTML as \x5cxNN).
 */
#ifndef MS_REPORT_FMT_H
#define MS_REPORT_FMT_H

#include "stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* "events 12 (auth-fail 10, connect 2; smtp 12), blocks made 1 (sasl 1),
 * lifted 0, exempt 0, top addresses 203.0.113.5 (10), top accounts 'bob' (10)"
 * or, for an empty bucket, "nothing happened". */
void report_fmt_line(const struct stats_bucket *b, char *buf, size_t len);
/* The multi-line text; times local with their offset (UTC if utc). */
void report_fmt_text(FILE *o, const struct stats_bucket *b, bool utc);
void report_fmt_json(FILE *o, const struct stats_bucket *b);
void report_fmt_html(FILE *o, const struct stats_bucket *b);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay_html - replay's report as one self-contained HTML file: a
 * timeline of events and blocks over the log's span (inline SVG), the
 * table of blocks with their evidence, and the summary. Inline CSS, no
 * script, no external resource, and a Content-Security-Policy that
 * forbids both.
 *
 * Owns nothing. Must never: write text from the log (lines, account
 * names, services) without HTML escaping -- it is the attacker's.
 */
#ifndef MS_REPLAY_HTML_H
#define MS_REPLAY_HTML_H

#include "replay.h"

#include <stddef.h>
#include <stdio.h>

/* Write the report of r to path (replaced whole). 0, or -1 with a message. */
int replay_html_write(const struct replay *r, const char *path, const struct replay_offender *top, size_t ntop,
		      char *err, size_t errlen);

/* s[0..n) as HTML text: made printable (text_sanitize), then the five
 * HTML metacharacters as entities. For every HTML report (report_fmt.c). */
void replay_html_text(FILE *o, const char *s, size_t n);

#endif

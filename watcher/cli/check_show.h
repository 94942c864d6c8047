/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_show - `mailscreen check -v` and `check --show NAME`: each value
 * of the configuration, the rules and the filters with where it came from,
 * after the local overrides were merged in:
 *
 *   [auth-ip]  rule, /etc/mailscreen/rules/auth.conf:27
 *     limit = 3        (/etc/mailscreen/rules/auth.local:2, was 5 in /etc/mailscreen/rules/auth.conf:31)
 *     enabled = yes    (default)
 *
 * Reads a loaded bundle; prints, never changes anything.
 */
#ifndef MS_CHECK_SHOW_H
#define MS_CHECK_SHOW_H

#include "bundle.h"

#include <stdio.h>

/* Every section (name NULL), or only the configuration sections, rules
 * and filters called name. Returns how many sections were printed. */
size_t check_show(FILE *fp, const struct bundle *b, const char *name);

/* "overrides: FILE ..." a line, the local override files read in the
 * order they were read (configuration, filters, rules); nothing if none. */
void check_show_overrides(FILE *fp, const struct bundle *b);

#endif

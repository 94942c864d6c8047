/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * f2bmacro - fail2ban's macros in a regex: <HOST>, <ADDR>, <IP4>, <IP6>,
 * <F-USER>...</F-USER> and the other <F-...> tags, <SKIPLINES>, and
 * %(name)s interpolations such as %(__prefix_line)s. fail2ban expands
 * them before compiling; PCRE2 reads them as literal text that no server
 * writes, so a filter copied from fail2ban with them never matches.
 */
#ifndef MS_F2BMACRO_H
#define MS_F2BMACRO_H

#include <stdbool.h>
#include <stddef.h>

/* The first macro in pattern, as "regex contains fail2ban's <HOST>, ...:
 * WHAT TO WRITE INSTEAD" in buf; false (buf untouched) if there is none. A
 * named group "(?<F-...>" and an escaped "\<" are no macros. */
bool f2bmacro_hint(const char *pattern, char *buf, size_t len);

#endif

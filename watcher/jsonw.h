/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jsonw - write JSON strings safely. Log text is hostile and need not be
 * UTF-8: control characters, quotes and backslashes are escaped, invalid
 * UTF-8 bytes become U+FFFD, so the output is always valid JSON.
 */
#ifndef MS_JSONW_H
#define MS_JSONW_H

#include <stddef.h>
#include <stdio.h>

/* Writes "..." (with the quotes). */
void json_str(FILE *fp, const char *s, size_t n);
/* For humans: the same escaping without quotes, non-printables as \xNN,
 * cut at max bytes with "..." appended. */
void text_sanitize(char *dst, size_t dstlen, const char *s, size_t n);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jsonw - show hostile text safely. Log lines and control requests are
 * an attacker's text and need not be UTF-8. This module says what is
 * printable text, and writes any bytes so that they can never act on a
 * terminal, split a log line or break a JSON document:
 *
 *   printable   valid UTF-8 without control characters: no C0 control
 *               (0x00-0x1f), no DEL (0x7f), no C1 control (U+0080-U+009F,
 *               which terminals obey as they do ESC sequences: U+009B is
 *               CSI)
 *   json_str    a JSON string: quotes, backslashes and every control
 *               character escaped, bytes that are not UTF-8 as U+FFFD
 *   text_escape printable characters as they are, every other byte \xNN
 *   text_sanitize  ASCII only: every byte outside 0x20-0x7e, and '\',
 *               as \xNN (for names that must read the same everywhere)
 *
 * Pure functions; owns nothing.
 */
#ifndef MS_JSONW_H
#define MS_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes "..." (with the quotes). */
void json_str(FILE *fp, const char *s, size_t n);
/* For humans: the same escaping without quotes, non-printables as \xNN,
 * cut at max bytes with "..." appended. */
void text_sanitize(char *dst, size_t dstlen, const char *s, size_t n);

/* The length (1 to 4) of the printable character at s[0..n), or 0 if the
 * byte at s is a control character, part of one, or not UTF-8. */
size_t text_char(const char *s, size_t n);
/* Whether s[0..n) is printable text; if not, *bad (when not NULL) is the
 * offset of the first byte that is not. */
bool text_printable(const char *s, size_t n, size_t *bad);
/* Into dst (dstlen bytes with the NUL): s with every printable character
 * as it is and every other byte as \xNN; cut at a character with "..."
 * appended when it does not fit. */
void text_escape(char *dst, size_t dstlen, const char *s, size_t n);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hex - the value of one hexadecimal digit, for every parser that reads
 * hex (TAI64N stamps in logtime.c, escapes and keys in state_read.c).
 *
 * Owns nothing; a pure function.
 *
 * Must never: depend on the locale (isxdigit does), or accept anything
 * but 0-9, a-f and A-F.
 */
#ifndef MS_HEX_H
#define MS_HEX_H

/* 0..15, or -1 if c is not a hex digit. */
static inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mail - a notification as an Internet message (RFC 5322) for sendmail's
 * input: From, To, Subject, Date, Message-ID, MIME headers, a plain text
 * body. Pure: text in, text out.
 *
 * Owns nothing. Must never: let a header hold a CR, a LF or any other
 * control character (header values are made so here, whatever the caller
 * passes), or a body line hold one (every body line is made printable,
 * \xNN for the rest, and cut at MAIL_LINE_MAX bytes): the reasons and the
 * account names listed are the attacker's.
 */
#ifndef MS_MAIL_H
#define MS_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MAIL_LINE_MAX 900       /* bytes of a body line (RFC 5322 allows 998) */

/* One block, as the mail and the program are told of it. */
struct mail_block {
	bool account;           /* what is an account name (any bytes), else an address or range */
	char what[260];
	char origin[64];
	char reason[160];
	uint64_t at_ms, dur_ms; /* dur_ms DURATION_PERMANENT: permanent */
	bool dry_run;           /* made in dry run: recorded, nothing was blocked */
};

struct mail_head {
	const char *from;       /* an address */
	const char *const *to;  /* addresses */
	size_t nto;
	const char *subject;
	const char *host;       /* for the Message-ID */
	uint64_t now_ms;
	unsigned long serial;   /* makes the Message-ID unique within the process */
};

/* Into dst (len bytes with the NUL): s made fit for a header's value:
 * control characters (CR and LF included) and bytes that are not UTF-8
 * as \xNN (never a line break), cut with "...". */
void mail_header_text(char *dst, size_t len, const char *s);
/* The headers and the blank line that ends them. */
void mail_write_head(FILE *o, const struct mail_head *h);
/* One body line: s[0..n) made printable and cut at MAIL_LINE_MAX, then
 * CRLF-free "\n" (sendmail -i takes local line ends). */
void mail_write_line(FILE *o, const char *s, size_t n);
/* The body of a block notification: the blocks listed, then "N more
 * blocks not listed" when more is not 0. Blocks made in dry run are said
 * to be what they are ("would be blocked"), after a line that says
 * nothing was blocked. */
void mail_write_blocks(FILE *o, const struct mail_block *v, size_t n, uint64_t more, bool utc);

#endif

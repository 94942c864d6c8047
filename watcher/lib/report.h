/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report - one list of fields, written either as text for people or as
 * JSON, so that what a report shows is listed once (status is one).
 *
 * A report is a table of rows over a record (a plain struct); each value
 * row names its JSON key, its text and where its value is in the record
 * (offsetof). Blocks group rows:
 *
 *   REPORT_GROUP  one text line: the text of its values in order, then a
 *                 newline; in JSON an object under its key, or (key NULL)
 *                 its values go to the enclosing object
 *   REPORT_LIST   an array of records (a pointer and a size_t count in the
 *                 record): in JSON "key": [{...}, ...]; in text a head
 *                 line, then each element as a group of its own
 *   REPORT_MAP    the same, each element named by its REPORT_NAME row:
 *                 in JSON "key": {"name": {...}, ...}, or "name": value
 *                 with REPORT_SCALAR (the element's one keyed value)
 *
 * each ended by a REPORT_END row. Within a group or an element, values
 * come first, blocks after them (each written on lines of their own). A
 * list or map with REPORT_INLINE writes its elements on its head's line,
 * separated by its sep text.
 *
 * Text: a row's text holds "%s" where the value goes (its only
 * conversion: the text is never a format string); a bool's text shows
 * only when it is true; a string is escaped (text_escape), and a NULL
 * string shows as the row's none text. NULL text: the row is in the JSON
 * only; NULL key: in the text only. JSON: strings escaped (json_str),
 * numbers as numbers, a NULL string as "".
 *
 * Owns nothing; writes to the FILE it is given; never reads anything but
 * the record.
 */
#ifndef MS_REPORT_H
#define MS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum report_kind {
	REPORT_U64,             /* uint64_t */
	REPORT_I64,             /* int64_t */
	REPORT_BOOL,            /* bool */
	REPORT_STR,             /* const char * (or char *) */
	REPORT_SECS,            /* int64_t seconds: a number in JSON, a duration ("2h5m") in text */
	REPORT_TIME,            /* int64_t seconds since the epoch (REPORT_NO_TIME: none): in JSON
				 * ISO 8601 UTC ("2026-12-07T13:03:11Z") or null; in text the local
				 * time with its offset, or UTC when the bool at cond is true
				 * (timefmt.h), or the row's none text */
	REPORT_GROUP,
	REPORT_LIST,
	REPORT_MAP,
	REPORT_END
};

/* flags */
#define REPORT_IF 0x01          /* block: only when the bool at cond is true (text and JSON) */
#define REPORT_TEXT_IF 0x02     /* group: its text only when the bool at cond is true */
#define REPORT_TEXT_NONZERO 0x04        /* group: its text only when one of its numbers is not 0 */
#define REPORT_INLINE 0x08      /* list, map: the elements on the head's line */
#define REPORT_SCALAR 0x10      /* map: "name": value */
#define REPORT_NAME 0x20        /* a map element's string row that names it */

struct report_row {
	enum report_kind kind;
	const char *key;        /* JSON key; NULL: text only */
	const char *text;       /* with "%s" for the value; a block's head; NULL: JSON only */
	size_t off;             /* the value in the record; list, map: the pointer to the elements */
	unsigned flags;
	size_t cond;            /* REPORT_IF, REPORT_TEXT_IF, REPORT_TIME: a bool in the record */
	size_t count;           /* list, map: the number of elements (a size_t in the record) */
	size_t size;            /* list, map: the size of one element */
	const char *sep;        /* REPORT_INLINE: between elements in the text */
	const char *none;       /* string: the text of NULL; time: of none */
};

#define REPORT_NO_TIME INT64_MIN

/* Row makers: a value (kind U64, I64, BOOL, STR or SECS), a group, an end.
 * Lists, maps and a string's none text take designated initializers. */
#define REPORT_ROW(kind_, key_, text_, off_) { .kind = REPORT_##kind_, .key = (key_), .text = (text_), .off = (off_) }
#define REPORT_GROUP_ROW(key_, flags_, cond_) { .kind = REPORT_GROUP, .key = (key_), .flags = (flags_), .cond = (cond_) }
#define REPORT_END_ROW { .kind = REPORT_END }

/* Write rows (up to their REPORT_END, or the array's end: n rows) over
 * rec to out: text, or one JSON object and a newline. */
void report_write(FILE *out, bool json, const struct report_row *rows, size_t n, const void *rec);

/* Every value row with a JSON key, over rec, as the JSON holds it (a
 * block absent by REPORT_IF is skipped), with its path: the keys of the
 * blocks around it, for an element of a list or map its name (its
 * REPORT_NAME string; "" without one), then the row's key. So that other
 * outputs (metrics) read the same fields, never count them again. */
#define REPORT_DEPTH 8
typedef void report_visit_fn(void *arg, const char *const *path, size_t depth, const struct report_row *r,
			     const void *rec);
void report_walk(const struct report_row *rows, size_t n, const void *rec, report_visit_fn *fn, void *arg);
/* A row's value as a number (U64, I64, SECS; BOOL 0 or 1; TIME in
 * seconds since the epoch, false if none): true, or false for a string. */
bool report_number(const struct report_row *r, const void *rec, double *v);

#endif

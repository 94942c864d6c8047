/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cols - a listing in aligned columns (list blocks, history): rows of
 * cells are collected, then written with each column as wide as its
 * widest cell, so an IPv6 range or a long origin never shifts the columns
 * after it. A column's width is bounded (COLS_MAX_WIDTH): a longer cell is
 * written whole and pushes only its own row. The last column is never
 * padded. Width counts characters of UTF-8 text (not continuation bytes);
 * cells are written as given, so the caller escapes text from outside.
 *
 * Owns the copies of its cells; writes to the FILE it is given.
 */
#ifndef MS_COLS_H
#define MS_COLS_H

#include <stddef.h>
#include <stdio.h>

#define COLS_MAX 8
#define COLS_MAX_WIDTH 40
#define COLS_RIGHT 0x1          /* a column of numbers: aligned right */

struct cols {
	size_t ncols, nrows, alloc;
	unsigned flags[COLS_MAX];
	size_t width[COLS_MAX];
	char **cells;           /* nrows * ncols, row-major; the head is row 0 */
};

/* A listing of ncols (<= COLS_MAX) columns with these heads and flags
 * (flags NULL: all left-aligned). */
void cols_init(struct cols *t, size_t ncols, const char *const *heads, const unsigned *flags);
/* One row: ncols cells (copied; NULL is ""). */
void cols_add(struct cols *t, const char *const *cells);
void cols_write(const struct cols *t, FILE *out);
void cols_release(struct cols *t);

#endif

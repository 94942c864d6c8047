// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cols - see cols.h. Cells are kept until the listing is written: the
 * widths are known only once every row is in.
 */
#include "cols.h"

#include "log.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* characters of UTF-8 text: every byte but continuation bytes */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		n += (*u & 0xc0) != 0x80;
	return n;
}

void cols_init(struct cols *t, size_t ncols, const char *const *heads, const unsigned *flags)
{
	if (ncols == 0 || ncols > COLS_MAX)
		log_panic("cols_init: %zu columns", ncols);
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	for (size_t c = 0; c < ncols; c++)
		t->flags[c] = flags ? flags[c] : 0;
	cols_add(t, heads);
}

void cols_add(struct cols *t, const char *const *cells)
{
	XGROW(t->cells, t->alloc, (t->nrows + 1) * t->ncols);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *s = cells[c] ? cells[c] : "";
		size_t w = text_width(s);
		t->cells[t->nrows * t->ncols + c] = xstrdup(s);
		if (w > t->width[c])
			t->width[c] = w > COLS_MAX_WIDTH ? COLS_MAX_WIDTH : w;
	}
	t->nrows++;
}

void cols_write(const struct cols *t, FILE *out)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			size_t w = text_width(s), pad = w < t->width[c] ? t->width[c] - w : 0;
			bool last = c + 1 == t->ncols;
			if (c)
				fputs("  ", out);
			if (t->flags[c] & COLS_RIGHT)
				fprintf(out, "%*s", (int)pad, "");
			fputs(s, out);
			if (!(t->flags[c] & COLS_RIGHT) && !last)
				fprintf(out, "%*s", (int)pad, "");
		}
		fputc('\n', out);
	}
}

void cols_release(struct cols *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

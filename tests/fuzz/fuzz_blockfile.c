// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_blockfile - the block list file parser (blockfile_parse) on an
 * arbitrary file (not NUL-terminated), as the daemon reads it.
 *
 * Invariants: entries are sorted by target and each target is listed
 * once; every target is a range without host bits; every comment is a
 * terminated string of at most BLOCKFILE_COMMENT_MAX bytes of valid UTF-8
 * without control characters; every line number is one of the file's;
 * entries plus lines that do not apply are at most the lines of the file;
 * parsing is deterministic; nothing leaks. The warnings go to stderr (the
 * fuzzing runs silence them with -close_fd_mask=2).
 */
#include "fuzz.h"

#include "blockfile.h"
#include "log.h"

#include <stdbool.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_blockfile", LOG_LVL_WARN);
	return 0;
}

/* Valid UTF-8 without C0 controls or DEL. */
static bool clean_text(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

static int cmp_target(const struct cidr *a, const struct cidr *b)
{
	int c = addr_cmp(&a->addr, &b->addr);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct bf_list l, again;
	size_t skipped, lines = 0;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	if (size && data[size - 1] != '\n')
		lines++;

	skipped = blockfile_parse("fuzz", text, size, &l);
	FUZZ_ASSERT(l.n + skipped <= lines, "%zu entries and %zu skipped in %zu lines", l.n, skipped, lines);
	for (size_t i = 0; i < l.n; i++) {
		const struct bf_entry *e = &l.v[i];
		struct ipaddr m = e->target.addr;
		size_t clen;

		FUZZ_ASSERT(e->target.addr.family == AF_INET || e->target.addr.family == AF_INET6, "family");
		FUZZ_ASSERT(e->target.len <= addr_bits(&e->target.addr), "/%u", e->target.len);
		addr_mask(&m, e->target.len);
		FUZZ_ASSERT(addr_equal(&m, &e->target.addr), "entry %zu has host bits", i);
		FUZZ_ASSERT(e->lineno >= 1 && (size_t)e->lineno <= lines, "line %d of %zu", e->lineno, lines);
		FUZZ_ASSERT(e->comment, "NULL comment");
		clen = strlen(e->comment);
		FUZZ_ASSERT(clen <= BLOCKFILE_COMMENT_MAX, "comment of %zu bytes", clen);
		FUZZ_ASSERT(clean_text((const unsigned char *)e->comment, clen), "comment on line %d is not clean text",
			    e->lineno);
		if (i)
			FUZZ_ASSERT(cmp_target(&l.v[i - 1].target, &e->target) < 0, "entries %zu and %zu not sorted or "
				    "duplicate", i - 1, i);
	}
	FUZZ_ASSERT(blockfile_parse("fuzz", text, size, &again) == skipped && again.n == l.n, "not deterministic");
	for (size_t i = 0; i < l.n; i++)
		FUZZ_ASSERT(addr_equal(&again.v[i].target.addr, &l.v[i].target.addr) &&
			    again.v[i].target.len == l.v[i].target.len &&
			    again.v[i].duration_ms == l.v[i].duration_ms && again.v[i].lineno == l.v[i].lineno &&
			    strcmp(again.v[i].comment, l.v[i].comment) == 0, "entry %zu differs the second time", i);
	bf_list_release(&again);
	bf_list_release(&l);
	return 0;
}

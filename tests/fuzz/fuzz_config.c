// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_config - mailscreen.conf: the INI reader (inifile_parse over a
 * file, inifile_parse_string over the same text) and the option table's
 * parser and validation (config_load).
 *
 * Invariants: an error is a terminated message that starts with the file
 * name ("file:line: what is wrong"); a loaded config has a sane shape
 * (every source reads a file or the journal, not both, and names filters;
 * at most 64 ports; every allow range without host bits); a key's line is
 * never before its section's line; nothing leaks (LeakSanitizer).
 */
#include "fuzz.h"

#include "config.h"
#include "inifile.h"
#include "log.h"

static int count_key(void *arg, const char *section, const char *key, const char *value, int lineno,
		     int secline, char *err, size_t errlen)
{
	unsigned *n = arg;

	(void)err;
	(void)errlen;
	FUZZ_ASSERT(section && key && value, "NULL from the INI reader");
	FUZZ_ASSERT(lineno >= 1 && secline >= 0 && secline <= lineno, "key on line %d, section on line %d",
		    lineno, secline);
	(*n)++;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_config", LOG_LVL_WARN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("mailscreen.conf", data, size);
	struct config c;
	char err[1024], *text;
	unsigned keys = 0;

	memset(err, 'x', sizeof err);
	if (config_load(&c, path, true, err, sizeof err) == 0) {
		FUZZ_ASSERT(c.nports <= sizeof c.ports / sizeof c.ports[0], "%zu ports", c.nports);
		FUZZ_ASSERT(c.nsources >= 1, "no source");
		for (size_t i = 0; i < c.nsources; i++) {
			const struct source_cfg *s = &c.sources[i];
			FUZZ_ASSERT(!s->path != !s->journal, "source %s: path and journal", s->name);
			FUZZ_ASSERT(s->nfilters >= 1 && s->filters[s->nfilters] == NULL, "source %s: filters", s->name);
		}
		for (size_t i = 0; i < c.allow.n; i++) {
			struct ipaddr m = c.allow.v[i].addr;
			addr_mask(&m, c.allow.v[i].len);
			FUZZ_ASSERT(addr_equal(&m, &c.allow.v[i].addr), "allow range with host bits");
		}
		config_release(&c);
	} else {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL, "unterminated error message");
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0, "error without the file name: %s", err);
	}

	/* the string reader: the same text up to its first NUL */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof err);
	if (inifile_parse_string("text", text, count_key, &keys, err, sizeof err) < 0)
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL && strncmp(err, "text:", 5) == 0,
			    "bad error message");
	free(text);
	return 0;
}
